// Package httpload is the HTTP driver of chaosload's load: it performs
// `http:` steps, times each request from when it is actually sent (once it
// holds a connection) to when its body has been read, classifies failures
// into chaosload's error classes, renders the steps' templates, reads the
// id of an acknowledged write and the values of extracts from the
// response, and streams bulk bodies both ways without holding them.
//
// http:// URLs go through chaosload's own HTTP/1.1 client (pool.go,
// conn.go): a keep-alive pool per host with an optional cap, request heads
// rendered once per step when nothing in them varies, one write and a
// buffered read per exchange, no goroutine per connection. That is what
// keeps the generator's CPU per request low enough to load a service
// harder than the tools it is compared with (bench/). https:// URLs (and
// every URL with Config.NetHTTP) go through net/http, which speaks HTTP/2
// when the server offers it. Both give the same Result for the same
// exchange; the tests run against both.
//
// What the own client does with what servers send (h1_test.go proves each
// against both clients): a body framed by Content-Length, by chunked
// coding (extensions and trailers read; chunked after another coding too),
// or running to the close (HTTP/1.0, no length: the connection is not
// reused); no body after HEAD, 204, 304 or 1xx, whatever Content-Length
// says; interim 1xx responses skipped up to the final one; a 101 ends the
// connection's HTTP life (not reused); Connection: close honoured. A
// connection goes back to the pool only after a complete exchange, so an
// error status with a body leaves it reusable and a transport error never
// does. A request that fails on a reused connection before any response
// byte is retried once on a new one when that is safe (idempotent, or
// nothing written), as net/http does; a connection idle for a second (any
// method) or any connection a POST would use is checked first, so a server
// that closed it at its idle timeout, or wrote an unasked 408 first, costs
// a new connection and never a failed or misattributed request.
//
// Deliberate limits: redirects are not followed (k6 follows up to 10): a
// step measures the request it names and a 3xx is its answer (a success
// without expect), so a step through the experiment's proxy never leaves
// it for a Location elsewhere; write the next step for the target. A
// response the server sends before it has read a large upload (a 413 then
// a close) is lost to the write error that follows. Requests carry no
// Expect: 100-continue, and the client speaks HTTP/1.1 only (https:// and
// NetHTTP use net/http, with HTTP/2).
//
// It is the only package of chaosload's load that speaks HTTP; it knows
// nothing of executors or schedules.
package httpload

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/chaosload/chaosload/load"
)

// Config tunes the Driver. Zero values are the documented defaults.
type Config struct {
	// DialTimeout bounds establishing a TCP connection (default 5s).
	DialTimeout time.Duration
	// MaxIdleConnsPerHost is how many idle keep-alive connections are kept
	// per host (default 1024, enough for that many VUs on one target).
	MaxIdleConnsPerHost int
	// MaxConnsPerHost caps the connections per host, busy or idle; 0 means
	// no cap. A request that finds the cap reached waits for a connection:
	// that wait counts in latency and dispatch lag, not in service time.
	MaxConnsPerHost int
	// TLS configures https targets; nil uses Go's defaults.
	TLS *tls.Config
	// NetHTTP sends http:// requests through net/http too, instead of the
	// driver's own HTTP/1.1 client.
	NetHTTP bool
}

// Default values of Config fields.
const (
	DefaultDialTimeout         = 5 * time.Second
	DefaultMaxIdleConnsPerHost = 1024
)

// Driver performs load.HTTP steps. It is safe for concurrent use by many
// VUs; Close releases its connections. It implements load.IterationEnder:
// newConnection connections are closed when their iteration ends.
type Driver struct {
	cfg      Config
	dialer   *net.Dialer
	pools    sync.Map // host:port → *pool
	std      *http.Transport
	client   *http.Client
	requests sync.Map // *load.Step → *request, built once per step

	mu     sync.Mutex
	states []*vuState // every VU's state, for Close
	closed bool
}

var _ load.IterationEnder = (*Driver)(nil)

// New returns a Driver with its own connections.
func New(cfg Config) *Driver {
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = DefaultDialTimeout
	}
	if cfg.MaxIdleConnsPerHost <= 0 {
		cfg.MaxIdleConnsPerHost = DefaultMaxIdleConnsPerHost
	}
	d := &Driver{cfg: cfg, dialer: &net.Dialer{Timeout: cfg.DialTimeout, KeepAlive: 30 * time.Second}}
	d.std = d.newTransport(cfg.MaxConnsPerHost)
	d.client = &http.Client{Transport: d.std, CheckRedirect: noRedirect}
	return d
}

// newTransport returns a net/http transport configured like the driver.
func (d *Driver) newTransport(maxConns int) *http.Transport {
	return &http.Transport{
		Proxy:               nil, // never an environment proxy: the target is the proxy
		DialContext:         d.dialer.DialContext,
		MaxIdleConns:        0, // no total cap; per host below
		MaxIdleConnsPerHost: d.cfg.MaxIdleConnsPerHost,
		MaxConnsPerHost:     maxConns,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: d.cfg.DialTimeout,
		TLSClientConfig:     d.cfg.TLS,
		ForceAttemptHTTP2:   true,
		// Bodies arrive as the server sends them: no transparent gzip, so
		// BytesIn is what crossed the wire and no CPU goes to inflating.
		DisableCompression: true,
	}
}

// noRedirect hands a redirect back as the response: a load step measures
// the request it was given, and its status is what expect judges.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// Close closes the Driver's connections, idle and per-iteration. Call it
// once the load has ended; it is idempotent.
func (d *Driver) Close() {
	d.mu.Lock()
	d.closed = true
	states := d.states
	d.states = nil
	d.mu.Unlock()
	for _, s := range states {
		s.endIteration()
		if s.stopWatch != nil {
			s.stopWatch()
		}
	}
	d.pools.Range(func(_, p any) bool {
		p.(*pool).closeIdle(true)
		return true
	})
	d.std.CloseIdleConnections()
}

// track remembers a VU's state for Close.
func (d *Driver) track(s *vuState) {
	d.mu.Lock()
	d.states = append(d.states, s)
	d.mu.Unlock()
}

// EndIteration implements load.IterationEnder: it closes the connections
// the VU dialled for the iteration's newConnection steps.
func (d *Driver) EndIteration(vu *load.VU) {
	if s, ok := vu.State[stateKey{}].(*vuState); ok {
		s.endIteration()
	}
}

// pool returns the connection pool of addr.
func (d *Driver) pool(addr string) *pool {
	if p, ok := d.pools.Load(addr); ok {
		return p.(*pool)
	}
	p, _ := d.pools.LoadOrStore(addr, &pool{addr: addr, dialer: d.dialer, max: d.cfg.MaxConnsPerHost,
		maxIdle: d.cfg.MaxIdleConnsPerHost})
	return p.(*pool)
}

// request returns step's request, building it on first use.
func (d *Driver) request(step *load.Step) (*request, error) {
	if r, ok := d.requests.Load(step); ok {
		return r.(*request), nil
	}
	r, err := newRequest(step)
	if err != nil {
		return nil, err
	}
	actual, _ := d.requests.LoadOrStore(step, r)
	return actual.(*request), nil
}

// Do implements load.Driver: it sends step's request and reads the whole
// response. Start is set when the request goes out on a connection (or, if
// none was obtained, just before the attempt), End once the body is read.
// NewConns counts the connections it dialled (a retry on a stale pooled
// connection dials a second).
func (d *Driver) Do(ctx context.Context, vu *load.VU, step *load.Step, res *load.Result) {
	r, err := d.request(step)
	if err != nil {
		failNow(res, vu, load.ClassOther, err)
		return
	}
	st := d.stateOf(vu)
	u, err := r.target(vu, st)
	if err != nil {
		failNow(res, vu, load.ClassOther, err)
		return
	}
	if u.Scheme == "https" || d.cfg.NetHTTP {
		d.doStd(ctx, vu, st, r, u, res)
	} else {
		d.doH1(ctx, vu, st, r, u, res)
	}
	res.End = vu.Clock.Now()
}

// failNow records a failure before anything was sent.
func failNow(res *load.Result, vu *load.VU, class string, err error) {
	res.Start, res.Class, res.Err = vu.Clock.Now(), class, err
	res.End = res.Start
}

// fail records a transport error. When ctx is done, the stop is what cut
// the request, and its cause decides the class (a deadline is a timeout).
func fail(ctx context.Context, res *load.Result, err error) {
	if ctx.Err() != nil {
		err = &stopError{cause: context.Cause(ctx), err: err}
	}
	res.Class, res.Err = load.ClassOf(err), err
}

// stopError is a transport error caused by the run's stop.
type stopError struct{ cause, err error }

func (e *stopError) Error() string { return e.cause.Error() + ": " + e.err.Error() }
func (e *stopError) Unwrap() error { return e.cause }
