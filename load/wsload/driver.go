// Package wsload is the WebSocket driver of chaosload's load: it performs
// `ws:` steps (load.WSSession), one WebSocket session each: dial and
// handshake, messages sent once or at a rate on an absolute schedule,
// replies matched by text or by a JSON field, the connection held open,
// then closed.
//
// Besides the step's own result (the session, returned through Do as every
// driver's), it records through Config.Sink a result of kind
// load.KindWSConnect per connection attempt (ws_connect) and one of kind
// load.KindWSMessage per frame sent or received (ws_msgs; a sent message
// with an expected reply is timed from its intended send time to the
// reply: ws_rtt).
//
// Each session has one writer, the VU's own goroutine inside Do, and one
// reader goroutine, which Do starts and waits for. It is the only package of
// chaosload's load that imports gorilla/websocket; it knows nothing of
// executors or schedules.
package wsload

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/chaosload/chaosload/load"
)

// Config tunes the Driver. Zero values are the documented defaults but for
// Sink, which is required.
type Config struct {
	// Sink receives the results of connects and messages (the step's own
	// result goes back through Do, to the executor's sink).
	Sink load.Sink
	// BufferSize is the size of each connection's read buffer and of the
	// write buffers shared through a pool (default 1024): small, so that
	// 10,000 held connections stay cheap. A longer message is read and
	// written in several pieces.
	BufferSize int
	// TLS configures wss:// targets; nil uses Go's defaults.
	TLS *tls.Config
}

// DefaultBufferSize is Config.BufferSize's default.
const DefaultBufferSize = 1024

// ClassClosed is the class of a session the server ended (close frame,
// FIN or RST) before the step did, and of the messages it left unanswered.
const ClassClosed = "ws_closed"

// Driver performs load.WS steps. It is safe for concurrent use by many VUs.
type Driver struct {
	sink   load.Sink
	dialer *websocket.Dialer
	plans  sync.Map // *load.Step → *plan, built once per step
}

// New returns a Driver.
func New(cfg Config) (*Driver, error) {
	if cfg.Sink == nil {
		return nil, errors.New("wsload: Config.Sink is nil: connects and messages must be recorded")
	}
	if cfg.BufferSize <= 0 {
		cfg.BufferSize = DefaultBufferSize
	}
	d := &Driver{sink: cfg.Sink}
	d.dialer = &websocket.Dialer{
		NetDialContext:  countingDial,
		Proxy:           nil, // never an environment proxy: the target is the proxy
		TLSClientConfig: cfg.TLS,
		ReadBufferSize:  cfg.BufferSize,
		WriteBufferSize: cfg.BufferSize,
		WriteBufferPool: &sync.Pool{},
	}
	return d, nil
}

// Close releases nothing today (every session ends inside its Do); it is
// there so the runner closes every driver alike. It is idempotent.
func (d *Driver) Close() {}

// Do implements load.Driver: it runs one WebSocket session. Start is when
// the dial began, End when the session was closed; see load.WSSession for
// the step's outcome. The result is Untimed: it counts in ops, errors and
// conn_rate, but a session's length is its hold, not a latency, so it stays
// out of the latency histograms (ws_connect and ws_rtt time a session).
func (d *Driver) Do(ctx context.Context, vu *load.VU, step *load.Step, res *load.Result) {
	res.Untimed = true // a session lasts its hold: ws_connect and ws_rtt are its timings
	p, err := d.plan(step)
	if err != nil {
		res.Start, res.Class, res.Err = vu.Clock.Now(), load.ClassOther, err
		res.End = res.Start
		return
	}
	conn := d.connect(ctx, vu, p, res)
	if conn == nil {
		return
	}
	s := newSession(conn, p, d.sink, vu.Clock, res)
	res.Class, res.Err = s.run(ctx)
	res.BytesIn, res.BytesOut = s.bytesIn.Load(), s.bytesOut
	res.End = vu.Clock.Now()
}

// connect dials and shakes hands, records the attempt (ws_connect) and
// returns the connection, or nil with res filled in as a failure.
func (d *Driver) connect(ctx context.Context, vu *load.VU, p *plan, res *load.Result) *websocket.Conn {
	dialed := new(atomic.Int32)
	cctx, cancel := context.WithTimeout(context.WithValue(ctx, dialCountKey{}, dialed), p.connectTimeout)
	defer cancel()
	res.Start = vu.Clock.Now()
	conn, resp, err := d.dialer.DialContext(cctx, p.url, p.header)
	end := vu.Clock.Now()
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	res.NewConns = int(dialed.Load())
	attempt := *res
	attempt.Kind, attempt.End, attempt.NewConns, attempt.Untimed = load.KindWSConnect, end, 0, false
	if err != nil {
		attempt.Class, attempt.Err = dialClass(err, resp), fmt.Errorf("ws connect %s: %w", p.url, err)
		if resp != nil {
			attempt.Status = resp.StatusCode
		}
	}
	d.sink.Record(&attempt)
	if err != nil {
		res.Class, res.Err, res.Status, res.End = attempt.Class, attempt.Err, attempt.Status, end
		return nil
	}
	res.Status = resp.StatusCode
	return conn
}

// dialCountKey keys the counter of TCP connections a connect established
// in its context.
type dialCountKey struct{}

// countingDial dials TCP and counts the connection in the context's
// counter, so a connect knows whether it established one (for conn_rate)
// even when the handshake then failed.
func countingDial(ctx context.Context, network, addr string) (net.Conn, error) {
	var nd net.Dialer
	c, err := nd.DialContext(ctx, network, addr)
	if err == nil {
		if n, ok := ctx.Value(dialCountKey{}).(*atomic.Int32); ok {
			n.Add(1)
		}
	}
	return c, err
}

// dialClass classifies a failed connect: a refused handshake by its HTTP
// status, anything else as the transport failed.
func dialClass(err error, resp *http.Response) string {
	if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
		switch code := resp.StatusCode; {
		case code == http.StatusServiceUnavailable:
			return load.ClassHTTP503
		case code >= 500:
			return load.ClassHTTP5xx
		case code == http.StatusTooManyRequests:
			return load.ClassHTTP429
		case code >= 400:
			return load.ClassHTTP4xx
		}
		return load.ClassOther
	}
	return load.ClassOf(err)
}

// recordAt is how long a control frame (close) may take to write.
const controlTimeout = time.Second
