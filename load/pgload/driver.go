package pgload

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/chaosload/chaosload/load"
)

// Config tunes the Driver. Zero values are the documented defaults.
type Config struct {
	// ConnectTimeout bounds establishing one connection (default 5s); the
	// step's timeout bounds it too.
	ConnectTimeout time.Duration
}

// DefaultConnectTimeout is Config.ConnectTimeout's default.
const DefaultConnectTimeout = 5 * time.Second

// Driver performs load.PG steps on pgx pools, one per scenario and DSN,
// made on first use. It is safe for concurrent use by many VUs; Close
// closes the pools.
type Driver struct {
	cfg    Config
	mu     sync.Mutex
	pools  map[poolKey]*pgxpool.Pool
	closed bool
}

// poolKey names a pool: every step of a scenario with the same DSN shares
// it.
type poolKey struct{ scenario, dsn string }

// New returns a Driver.
func New(cfg Config) *Driver {
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
	return &Driver{cfg: cfg, pools: map[poolKey]*pgxpool.Pool{}}
}

// Close closes every pool, waiting for their connections to close. Call it
// once the load has ended; it is idempotent.
func (d *Driver) Close() {
	d.mu.Lock()
	pools := d.pools
	d.pools, d.closed = nil, true
	d.mu.Unlock()
	for _, p := range pools {
		p.Close()
	}
}

// Do implements load.Driver: it runs the step's statement on a pooled
// connection. Start is when the connection was obtained (waiting for one,
// and connecting, are dispatch lag), End when every row has been read.
// NewConns is 1 when the pool connected for this statement.
func (d *Driver) Do(ctx context.Context, vu *load.VU, step *load.Step, res *load.Result) {
	st := step.PG
	pool, err := d.pool(vu.Scenario, step)
	if err != nil {
		res.Start, res.Class, res.Err = vu.Clock.Now(), load.ClassOther, err
		res.End = res.Start
		return
	}
	timeout := st.Timeout
	if timeout <= 0 {
		timeout = load.DefaultPGTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	made := new(atomic.Int32)
	conn, err := pool.Acquire(context.WithValue(ctx, connectedKey{}, made))
	res.Start = vu.Clock.Now()
	res.NewConns = int(made.Load())
	if err != nil {
		fail(res, fmt.Errorf("pg: get a connection: %w", err))
		res.End = vu.Clock.Now()
		return
	}
	defer conn.Release()
	res.BytesIn, err = run(ctx, conn, st)
	res.End = vu.Clock.Now()
	if err != nil {
		fail(res, err)
	}
}

// run runs the statement: a query's rows are read to the end and their
// bytes counted, never kept.
func run(ctx context.Context, conn *pgxpool.Conn, st *load.PGStatement) (int64, error) {
	if st.Exec != "" {
		_, err := conn.Exec(ctx, st.Exec, st.Args...)
		return 0, err
	}
	rows, err := conn.Query(ctx, st.Query, st.Args...)
	if err != nil {
		return 0, err
	}
	var n int64
	for rows.Next() {
		for _, v := range rows.RawValues() {
			n += int64(len(v))
		}
	}
	rows.Close()
	return n, rows.Err()
}

// connectedKey keys, in an Acquire's context, the counter of connections
// the pool made for it: pgxpool hands the acquiring context's values to
// AfterConnect.
type connectedKey struct{}

// pool returns the pool of the step's scenario and DSN, making it on first
// use with the largest poolSize of the scenario's steps on that DSN.
func (d *Driver) pool(sc *load.Scenario, step *load.Step) (*pgxpool.Pool, error) {
	st := step.PG
	if st == nil {
		return nil, fmt.Errorf("step %q has no pg statement", step.Name)
	}
	if (st.Query == "") == (st.Exec == "") {
		return nil, fmt.Errorf("step %q: want exactly one of query and exec", step.Name)
	}
	key := poolKey{dsn: st.DSN}
	if sc != nil {
		key.scenario = sc.Name
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, errors.New("pg: driver closed")
	}
	if p := d.pools[key]; p != nil {
		return p, nil
	}
	p, err := d.newPool(st.DSN, poolSize(sc, st))
	if err != nil {
		return nil, fmt.Errorf("step %q: %w", step.Name, err)
	}
	d.pools[key] = p
	return p, nil
}

// newPool makes a pool of at most size connections to dsn; it connects
// lazily.
func (d *Driver) newPool(dsn string, size int) (*pgxpool.Pool, error) {
	pc, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("pg dsn: %w", err)
	}
	pc.MaxConns = int32(size)
	pc.ConnConfig.ConnectTimeout = d.cfg.ConnectTimeout
	if _, set := pc.ConnConfig.RuntimeParams["application_name"]; !set {
		pc.ConnConfig.RuntimeParams["application_name"] = "chaosload"
	}
	pc.AfterConnect = afterConnect
	p, err := pgxpool.NewWithConfig(context.Background(), pc)
	if err != nil {
		return nil, fmt.Errorf("pg pool: %w", err)
	}
	return p, nil
}

// afterConnect counts a new connection in the acquiring context's counter.
func afterConnect(ctx context.Context, _ *pgx.Conn) error {
	if n, ok := ctx.Value(connectedKey{}).(*atomic.Int32); ok {
		n.Add(1)
	}
	return nil
}

// poolSize is the largest poolSize of the scenario's pg steps on st's DSN,
// load.DefaultPoolSize when none sets one.
func poolSize(sc *load.Scenario, st *load.PGStatement) int {
	size := st.PoolSize
	if sc != nil {
		for _, other := range sc.Steps {
			if other.PG != nil && other.PG.DSN == st.DSN {
				size = max(size, other.PG.PoolSize)
			}
		}
	}
	if size <= 0 {
		size = load.DefaultPoolSize
	}
	return size
}
