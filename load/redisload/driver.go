// Package redisload is the Redis driver of chaosload's load: it performs
// `redis:` steps (load.RedisCall), one command or a pipeline of them per
// operation, on a go-redis client per scenario and server, and classifies
// failures by the error reply's prefix (redis_ERR, redis_WRONGTYPE,
// redis_LOADING, ...) or, for transport failures, with load.ClassOf.
//
// It is the only package of chaosload's load that imports go-redis; it
// knows nothing of executors or schedules.
package redisload

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/chaosload/chaosload/load"
)

// Config tunes the Driver. Zero values are the documented defaults.
type Config struct {
	// DialTimeout bounds establishing one connection (default 5s); the
	// step's timeout bounds it too.
	DialTimeout time.Duration
}

// DefaultDialTimeout is Config.DialTimeout's default.
const DefaultDialTimeout = 5 * time.Second

// Driver performs load.Redis steps. It is safe for concurrent use by many
// VUs; Close closes its clients.
type Driver struct {
	cfg     Config
	calls   sync.Map // *load.Step → *call, built once per step
	mu      sync.Mutex
	clients map[clientKey]*client
	closed  bool
}

// clientKey names a client: every step of a scenario on the same server,
// database and credentials shares it.
type clientKey struct {
	scenario, addr     string
	db                 int
	username, password string
}

// client is a go-redis client and the connections it dialled that no
// operation has been charged with yet.
type client struct {
	rdb    *redis.Client
	dialed atomic.Int64
}

// New returns a Driver.
func New(cfg Config) *Driver {
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = DefaultDialTimeout
	}
	return &Driver{cfg: cfg, clients: map[clientKey]*client{}}
}

// Close closes every client. Call it once the load has ended; it is
// idempotent.
func (d *Driver) Close() {
	d.mu.Lock()
	clients := d.clients
	d.clients, d.closed = nil, true
	d.mu.Unlock()
	for _, c := range clients {
		_ = c.rdb.Close()
	}
}

// Do implements load.Driver: it sends the step's command (or pipeline) and
// reads every reply. Start is when the operation was handed to the client
// (go-redis shows no hook where it obtains a connection, so a wait for one
// is service time here), End when the last reply was read.
//
// NewConns: go-redis dials in the background, so a connection cannot be
// tied to the operation that caused it; each is charged to the next
// operation of its client to complete, which keeps conn_rate's count exact
// and its timing within one operation.
func (d *Driver) Do(ctx context.Context, vu *load.VU, step *load.Step, res *load.Result) {
	c, cl, err := d.prepare(vu.Scenario, step)
	if err != nil {
		res.Start, res.Class, res.Err = vu.Clock.Now(), load.ClassOther, err
		res.End = res.Start
		return
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	res.Start = vu.Clock.Now()
	err = c.run(ctx, cl.rdb)
	res.End = vu.Clock.Now()
	res.NewConns = int(cl.dialed.Swap(0))
	res.BytesOut = c.bytes
	if err != nil {
		res.Class, res.Err = ClassOf(err), err
	}
}

// prepare returns the step's call and its scenario's client.
func (d *Driver) prepare(sc *load.Scenario, step *load.Step) (*call, *client, error) {
	c, err := d.call(step)
	if err != nil {
		return nil, nil, err
	}
	cl, err := d.client(sc, step.Redis)
	if err != nil {
		return nil, nil, fmt.Errorf("step %q: %w", step.Name, err)
	}
	return c, cl, nil
}

// client returns the client of the scenario's steps on rc's server, making
// it on first use with the largest poolSize among them.
func (d *Driver) client(sc *load.Scenario, rc *load.RedisCall) (*client, error) {
	key := clientKey{addr: rc.Addr, db: rc.DB, username: rc.Username, password: rc.Password}
	if sc != nil {
		key.scenario = sc.Name
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, errors.New("redis: driver closed")
	}
	if c := d.clients[key]; c != nil {
		return c, nil
	}
	c := d.newClient(rc, poolSize(sc, rc))
	d.clients[key] = c
	return c, nil
}

// newClient makes a client of at most size connections; it connects
// lazily. No retries (a load tool reports failures as they are), RESP2 and
// no handshake extras (nothing but the step's commands on the wire), and
// pipelines on the same pool as single commands (so PoolSize caps both).
func (d *Driver) newClient(rc *load.RedisCall, size int) *client {
	c := &client{}
	dialer := &net.Dialer{Timeout: d.cfg.DialTimeout, KeepAlive: 5 * time.Minute}
	c.rdb = redis.NewClient(&redis.Options{
		Addr: rc.Addr, DB: rc.DB, Username: rc.Username, Password: rc.Password,
		Protocol:                 2,
		DisableIdentity:          true,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
		MaxRetries:               -1,
		ContextTimeoutEnabled:    true,
		DialTimeout:              d.cfg.DialTimeout,
		PoolSize:                 size,
		PipelinePoolSize:         -1,
		PoolTimeout:              load.DefaultRedisTimeout,
		Dialer: func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := dialer.DialContext(ctx, network, addr)
			if err == nil {
				c.dialed.Add(1)
			}
			return conn, err
		},
	})
	return c
}

// poolSize is the largest poolSize of the scenario's redis steps on rc's
// server, load.DefaultPoolSize when none sets one.
func poolSize(sc *load.Scenario, rc *load.RedisCall) int {
	size := rc.PoolSize
	if sc != nil {
		for _, other := range sc.Steps {
			if other.Redis != nil && other.Redis.Addr == rc.Addr && other.Redis.DB == rc.DB {
				size = max(size, other.Redis.PoolSize)
			}
		}
	}
	if size <= 0 {
		size = load.DefaultPoolSize
	}
	return size
}
