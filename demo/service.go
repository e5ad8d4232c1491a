package demo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
	"github.com/rs/zerolog"
)

// The graceful mode's budgets: a request waits a bounded time for a
// PostgreSQL connection, so during an outage it is answered (503, or cached
// data) quickly instead of piling up; work that has a connection is ended by
// PostgreSQL's own timeouts, which leave the connection usable.
const (
	gracefulPoolSize         = 8                      // PostgreSQL connections; ShopRole may use max_connections - 3
	gracefulAcquireWait      = 500 * time.Millisecond // one request's wait for a connection (+ one retry's)
	gracefulWorkTimeout      = time.Second            // client-side bound of the work on one connection, above statement_timeout
	gracefulConnectTimeout   = 3 * time.Second        // one new PostgreSQL connection, made in the pool's background
	gracefulStatementTimeout = "400"                  // statement_timeout and lock_timeout, server side, in ms
	gracefulRedisTimeout     = 200 * time.Millisecond // dial, read, write and pool wait of one Redis call
	gracefulRedisPoolSize    = 16
	poolResetEvery           = 250 * time.Millisecond // at most one pool reset per this
	retryAfter               = "1"                    // seconds, on every 503
)

// ServiceConfig configures the shop service. Postgres and Redis are
// required; the zero value of every other field is its documented default.
type ServiceConfig struct {
	// Mode is ModeGraceful (default) or ModeNaive.
	Mode Mode
	// Postgres is the host:port of PostgreSQL, or of a fault proxy in front
	// of it. The service connects as ShopRole to ShopDatabase.
	Postgres string
	// Redis is the host:port of Redis, or of a fault proxy in front of it.
	Redis string
	// Listen is the HTTP address. Default 127.0.0.1:0 (a free port; see Addr).
	Listen string
	// PoolSize caps PostgreSQL connections. Default 8 in graceful mode and
	// pgxpool's default (the greater of 4 and the CPU count) in naive mode.
	PoolSize int
	// CacheTTL is how long the cached product list is fresh. Default 5 s.
	CacheTTL time.Duration
	// StaleTTL is how long graceful mode keeps a stale copy of the product
	// list to serve when PostgreSQL fails. Default 10 min.
	StaleTTL time.Duration
	// ShutdownTimeout is how long Run lets in-flight requests finish once
	// its context ends; then it cancels them. Default 5 s.
	ShutdownTimeout time.Duration
	// Logger receives lifecycle events and, at debug level, dependency
	// errors. The zero value logs nothing.
	Logger zerolog.Logger
	// AckBeforeCommit makes POST /api/orders lose acknowledged writes: the
	// service answers 201 with the id, and every LoseEvery-th acknowledged
	// order is then undone, as when a service acknowledges before its
	// commit and the commit fails. Off by default; it exists so verify can
	// be shown to catch lost writes (see service_lossy.go).
	AckBeforeCommit bool
	// LoseEvery is how often AckBeforeCommit loses an order (default 10:
	// the 10th, 20th, ... acknowledged order).
	LoseEvery int
}

// Service is the demo shop: products (PostgreSQL, cached in Redis) and
// orders (PostgreSQL writes acknowledged with their id) over HTTP.
//
//	GET  /api/products       200 [{"id","name","price_cents","stock"}...]; X-Cache: hit | miss | stale
//	POST /api/orders         {"product":1,"qty":1} → 201 {"id","product","qty","created_at"} after COMMIT
//	GET  /api/orders/{id}    200 order | 404
//	GET  /healthz            200 {"status","mode","postgres","redis"}
//	GET  /ws/feed            WebSocket: echoes each message; sends {"type":"order","order":{...}} per new order
//
// Graceful mode answers 503 with Retry-After when PostgreSQL is unavailable;
// naive mode answers 500.
type Service struct {
	mode            Mode
	logger          zerolog.Logger
	ln              net.Listener
	db              *pgxpool.Pool
	rdb             *redis.Client
	cache           *productCache
	routes          http.Handler
	feed            *feed // GET /ws/feed; made by newRoutes
	shutdownTimeout time.Duration

	// life is the context of naive-mode dependency calls: no deadline, and
	// deaf to clients that give up, but ended when the service stops.
	life     context.Context
	endLife  context.CancelFunc
	inflight inflight

	lastPoolReset atomic.Int64 // unix nanoseconds of the last pool reset (graceful mode)
	// lastProducts is the last product list the graceful service read
	// (from Redis or PostgreSQL): its last resort when both fail.
	lastProducts atomic.Pointer[[]byte]

	running   atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

// NewService creates the service and binds its listener, so Addr is known
// before Run. It does not contact PostgreSQL or Redis: they may come up
// later, and the service connects on demand.
func NewService(cfg ServiceConfig) (*Service, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	db, err := newPool(cfg)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("demo service: listen on %s: %w", cfg.Listen, err)
	}
	rdb := newRedisClient(cfg)
	s := &Service{
		mode:            cfg.Mode,
		logger:          cfg.Logger,
		ln:              ln,
		db:              db,
		rdb:             rdb,
		cache:           newProductCache(rdb, cfg),
		shutdownTimeout: cfg.ShutdownTimeout,
	}
	s.life, s.endLife = context.WithCancel(context.Background())
	s.routes = s.newRoutes()
	if cfg.AckBeforeCommit {
		s.routes = s.ackBeforeCommit(s.routes, cfg.LoseEvery)
	}
	return s, nil
}

func (c ServiceConfig) withDefaults() (ServiceConfig, error) {
	mode, err := ParseMode(string(c.Mode))
	if err != nil {
		return c, fmt.Errorf("demo service: %w", err)
	}
	c.Mode = mode
	if c.Postgres == "" || c.Redis == "" {
		return c, errors.New("demo service: ServiceConfig.Postgres and ServiceConfig.Redis (host:port) are required")
	}
	if c.Listen == "" {
		c.Listen = "127.0.0.1:0"
	}
	if c.PoolSize == 0 && c.Mode == ModeGraceful {
		c.PoolSize = gracefulPoolSize
	}
	if c.CacheTTL == 0 {
		c.CacheTTL = 5 * time.Second
	}
	if c.StaleTTL == 0 {
		c.StaleTTL = 10 * time.Minute
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = 5 * time.Second
	}
	return c, nil
}

// newPool builds the PostgreSQL pool (it connects lazily). Graceful: a
// bounded pool, server-side statement timeouts, no ping when a connection
// is handed out (neverPing), and a connect timeout that is generous
// because pgxpool connects in the background, whether or not the request
// that asked is still waiting: on a loaded host forking and starting a
// backend can take hundreds of milliseconds, and a connect given up is a
// backend killed and started again. Naive: pgxpool's defaults, no timeouts.
func newPool(cfg ServiceConfig) (*pgxpool.Pool, error) {
	pc, err := pgxpool.ParseConfig(PostgresDSN(cfg.Postgres, ShopRole, ShopDatabase))
	if err != nil {
		return nil, fmt.Errorf("demo service: postgres address %q: %w", cfg.Postgres, err)
	}
	pc.ConnConfig.RuntimeParams["application_name"] = "chaosload-demo-" + string(cfg.Mode)
	if cfg.PoolSize > 0 {
		pc.MaxConns = int32(cfg.PoolSize)
	}
	if cfg.Mode == ModeGraceful {
		pc.ConnConfig.ConnectTimeout = gracefulConnectTimeout
		pc.ConnConfig.RuntimeParams["statement_timeout"] = gracefulStatementTimeout
		pc.ConnConfig.RuntimeParams["lock_timeout"] = gracefulStatementTimeout
		pc.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"] = "5000"
		pc.ShouldPing = neverPing
	}
	db, err := pgxpool.NewWithConfig(context.Background(), pc)
	if err != nil {
		return nil, fmt.Errorf("demo service: create postgres pool: %w", err)
	}
	return db, nil
}

// newRedisClient builds the Redis client (it connects lazily). Graceful:
// 200 ms for dial, read, write and pool wait, no retries. Naive: no read or
// write deadline at all.
func newRedisClient(cfg ServiceConfig) *redis.Client {
	opt := &redis.Options{
		Addr:                     cfg.Redis,
		Protocol:                 2,
		DisableIdentity:          true,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	}
	switch cfg.Mode {
	case ModeGraceful:
		opt.DialTimeout = gracefulRedisTimeout
		opt.ReadTimeout = gracefulRedisTimeout
		opt.WriteTimeout = gracefulRedisTimeout
		opt.PoolTimeout = gracefulRedisTimeout
		opt.PoolSize = gracefulRedisPoolSize
		opt.MaxRetries = -1
		opt.ContextTimeoutEnabled = true
	case ModeNaive:
		opt.ReadTimeout = -1
		opt.WriteTimeout = -1
	}
	return redis.NewClient(opt)
}

// Addr is the service's HTTP address (host:port).
func (s *Service) Addr() string { return s.ln.Addr().String() }

// Mode is the service's mode.
func (s *Service) Mode() Mode { return s.mode }

// Handler is the service's HTTP handler, for tests that serve it
// themselves. Run serves it on Addr.
func (s *Service) Handler() http.Handler { return s.routes }

// Run serves HTTP until ctx ends, then shuts down: in-flight requests get
// ShutdownTimeout to finish, after which their dependency calls are
// cancelled. It returns after every request has finished and the pools are
// closed. Run may be called once.
func (s *Service) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("demo service: Run called twice")
	}
	srv := &http.Server{Handler: s.track(s.routes), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(s.ln) }()
	s.logger.Info().Str("addr", s.Addr()).Str("mode", string(s.mode)).Msg("demo service listening")

	var err error
	select {
	case <-ctx.Done():
	case err = <-served:
		err = fmt.Errorf("demo service: serve on %s: %w", s.Addr(), err)
	}
	s.shutdown(srv)
	if err == nil {
		<-served // http.ErrServerClosed
	}
	return errors.Join(err, s.Close())
}

// shutdown stops accepting, lets in-flight requests finish for
// shutdownTimeout, then cancels what still waits on a dependency (naive
// mode can wait forever) and waits for every handler to return.
func (s *Service) shutdown(srv *http.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), s.shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		s.logger.Warn().Err(err).Msg("demo service: requests still running at shutdown; cancelling them")
		s.endLife()
		_ = srv.Close()
		// A naive Redis call has no deadline and ignores its context:
		// closing the client is what ends it.
		_ = s.rdb.Close()
	}
	s.feed.close() // WebSocket clients are hijacked: Shutdown neither ends nor waits for them
	s.inflight.closeAndWait()
}

// Close releases the listener and the connection pools. Run calls it; call
// it directly only for a Service that is never Run. It is idempotent.
func (s *Service) Close() error {
	s.closeOnce.Do(func() {
		s.endLife()
		err := s.ln.Close()
		if errors.Is(err, net.ErrClosed) {
			err = nil
		}
		if rerr := s.rdb.Close(); rerr != nil && !errors.Is(rerr, redis.ErrClosed) {
			err = errors.Join(err, rerr)
		}
		s.db.Close()
		s.closeErr = err
	})
	return s.closeErr
}

// track counts a request as in flight for shutdown, and refuses it once
// shutdown has begun.
func (s *Service) track(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.inflight.enter() {
			w.Header().Set("Retry-After", retryAfter)
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
			return
		}
		defer s.inflight.leave()
		h.ServeHTTP(w, r)
	})
}

// inflight counts running handlers so that shutdown can wait for all of
// them, including ones still running after http.Server.Close.
type inflight struct {
	mu     sync.Mutex
	n      int
	closed bool
	idle   chan struct{} // made by closeAndWait when handlers remain; closed by the last leave
}

func (f *inflight) enter() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return false
	}
	f.n++
	return true
}

func (f *inflight) leave() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n--
	if f.n == 0 && f.idle != nil {
		close(f.idle)
		f.idle = nil
	}
}

func (f *inflight) closeAndWait() {
	f.mu.Lock()
	f.closed = true
	if f.n == 0 {
		f.mu.Unlock()
		return
	}
	idle := make(chan struct{})
	f.idle = idle
	f.mu.Unlock()
	<-idle
}
