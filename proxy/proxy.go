package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// Config configures one proxy. The zero value of each field is its default.
type Config struct {
	// Name is the target name, used in logs and errors.
	Name string
	// Listen is the address to listen on. Default "127.0.0.1:0": a free
	// loopback port, see Proxy.Addr.
	Listen string
	// Upstream is host:port of the real dependency. It may be left empty and
	// set with SetUpstream before traffic arrives; a connection accepted
	// without an upstream is closed.
	Upstream string
	// DialTimeout bounds each upstream dial. Default 5s.
	DialTimeout time.Duration
	// Dial connects to the upstream; ctx carries DialTimeout and ends when
	// the client goes away or the proxy stops. It must return a
	// *net.TCPConn. Nil: a net.Dialer. A hook for tests and for later
	// socket options (SO_MARK for kernel packet loss).
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
	// Seed is the experiment seed every toxicity and jitter draw derives from.
	Seed int64
	// Logger receives the proxy's logs. The zero value discards them.
	Logger zerolog.Logger
	// NoSockmap keeps every connection on the copy path (user space) even
	// where the kernel's sockmap fast path is available; see sockmap.go.
	NoSockmap bool
	// CountRequests, when http, postgres or redis, counts the requests
	// clients start on the proxy's connections (Stats.Requests; see
	// reqcount.go); such connections stay on the copy path. Empty or tcp:
	// no count.
	CountRequests string
	// CheckPath is the path prefix of a load balancer's HTTP health checks
	// ("/health"): such requests are counted as Stats.Checks, not
	// Requests. Empty: every request is a request.
	CheckPath string
}

// Proxy is a running fault proxy for one target. Create it with Listen, start
// it with Run, inject faults with Inject, stop it by cancelling Run's context
// or with Close.
type Proxy struct {
	cfg      Config
	log      zerolog.Logger
	addr     string
	upstream atomic.Pointer[string]
	faults   atomic.Pointer[faultSet]
	ctr      counters
	sm       *sockmap // nil: the copy path

	mu      sync.Mutex
	ln      net.Listener       // nil while down
	lnReady chan struct{}      // closed when a listener is (re)installed
	downs   int                // active down faults
	conns   map[*conn]struct{} // active connections
	records map[string]*fault  // latest injection of each fault name
	active  map[string]*fault  // active faults by name
	closing bool               // Close was called or Run is shutting down

	started   atomic.Bool
	closeOnce sync.Once
	stop      chan struct{} // closed by Close
	runDone   chan struct{} // closed when Run returns
	wg        sync.WaitGroup
}

// Listen binds the proxy's listener now, so Addr is known before Run starts.
func Listen(cfg Config) (*Proxy, error) {
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = 5 * time.Second
	}
	if cfg.Dial == nil {
		cfg.Dial = new(net.Dialer).DialContext
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("proxy %q: listen on %s: %w", cfg.Name, cfg.Listen, err)
	}
	sweepStaleTablesOnce(cfg.Logger)
	p := &Proxy{
		cfg:     cfg,
		log:     cfg.Logger.With().Str("proxy", cfg.Name).Logger(),
		addr:    ln.Addr().String(),
		ln:      ln,
		lnReady: make(chan struct{}),
		conns:   map[*conn]struct{}{},
		records: map[string]*fault{},
		active:  map[string]*fault{},
		stop:    make(chan struct{}),
		runDone: make(chan struct{}),
	}
	close(p.lnReady)
	p.sm = openSockmap(cfg, p.log)
	p.upstream.Store(&cfg.Upstream)
	p.faults.Store(&faultSet{})
	return p, nil
}

// Addr returns the address the proxy listens on, with the real port.
func (p *Proxy) Addr() string { return p.addr }

// SetUpstream sets the address new connections are dialled to. Connections
// already open keep theirs.
func (p *Proxy) SetUpstream(addr string) { p.upstream.Store(&addr) }

// Upstream returns the address new connections are dialled to.
func (p *Proxy) Upstream() string { return *p.upstream.Load() }

// Run accepts connections until ctx is done or Close is called. It returns
// only after the listener is closed, every connection is closed and every
// goroutine it started has exited. Run may be called once.
func (p *Proxy) Run(ctx context.Context) error {
	if !p.started.CompareAndSwap(false, true) {
		return fmt.Errorf("proxy %q: Run called twice", p.cfg.Name)
	}
	defer close(p.runDone)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var watch sync.WaitGroup
	watch.Go(func() {
		select {
		case <-ctx.Done():
		case <-p.stop:
		}
		cancel()
		p.shut()
	})
	err := p.acceptLoop(ctx)
	cancel()
	p.shut()
	watch.Wait()
	p.wg.Wait()
	p.closeSockmap()
	return err
}

// Close stops the proxy: the listener and every connection are closed. If Run
// is running, Close waits until it has returned. Close is idempotent and safe
// to call before, during or instead of Run.
func (p *Proxy) Close() error {
	p.closeOnce.Do(func() { close(p.stop) })
	if p.started.Load() {
		<-p.runDone
		return nil
	}
	p.shut()
	p.closeSockmap()
	return nil
}

// closeSockmap releases the sockmap's maps and program once no connection
// uses them.
func (p *Proxy) closeSockmap() {
	if p.sm != nil {
		if trimmed, failed := p.sm.overlaps(); failed > 0 {
			p.log.Warn().Uint64("segments", failed).Uint64("bytes_cut", trimmed).
				Msg("the kernel path could not cut the retransmitted head of some segments: their old bytes went on twice")
		} else if trimmed > 0 {
			p.log.Debug().Uint64("bytes_cut", trimmed).Msg("the kernel path cut retransmitted bytes off overlapping segments")
		}
		p.sm.close()
	}
}

// shut closes the listener and every active connection and refuses new ones.
// It is idempotent and never blocks on a connection.
func (p *Proxy) shut() {
	p.mu.Lock()
	p.closing = true
	ln := p.ln
	p.ln = nil
	conns := make([]*conn, 0, len(p.conns))
	for c := range p.conns {
		conns = append(conns, c)
	}
	var tables []*fault
	for _, f := range p.active {
		if f.nft != nil {
			tables = append(tables, f)
		}
		if f.gate != nil {
			f.gate.openUp()
		}
	}
	p.mu.Unlock()
	for _, f := range tables { // kernel loss never outlives the proxy
		p.unprepare(f)
	}
	if ln != nil {
		if err := ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			p.log.Warn().Err(err).Msg("close listener")
		}
	}
	for _, c := range conns {
		c.close(false)
	}
}
