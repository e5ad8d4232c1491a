// Package httpload is the HTTP driver of chaosload's load: it performs
// `http:` steps with one shared keep-alive Transport, times each request from
// when it is actually sent (once it holds a connection) to when its body has
// been read, classifies failures into chaosload's error classes, and reads
// the id of an acknowledged write from the JSON response.
//
// It is the only package of chaosload's load that imports net/http; it knows
// nothing of executors or schedules.
package httpload

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
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
}

// Default values of Config fields.
const (
	DefaultDialTimeout         = 5 * time.Second
	DefaultMaxIdleConnsPerHost = 1024
)

// maxAckBody bounds how much of a response is kept to find an ack id; the
// rest is read and counted, not kept.
const maxAckBody = 1 << 20

// Driver performs load.HTTP steps. It is safe for concurrent use by many
// VUs; Close releases its idle connections.
type Driver struct {
	transport *http.Transport
	client    *http.Client
	requests  sync.Map // *load.Step → *request, built once per step
}

// New returns a Driver with its own Transport.
func New(cfg Config) *Driver {
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = DefaultDialTimeout
	}
	if cfg.MaxIdleConnsPerHost <= 0 {
		cfg.MaxIdleConnsPerHost = DefaultMaxIdleConnsPerHost
	}
	t := &http.Transport{
		Proxy:               nil, // never an environment proxy: the target is the proxy
		DialContext:         (&net.Dialer{Timeout: cfg.DialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        0, // no total cap; per host below
		MaxIdleConnsPerHost: cfg.MaxIdleConnsPerHost,
		MaxConnsPerHost:     cfg.MaxConnsPerHost,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: cfg.DialTimeout,
		TLSClientConfig:     cfg.TLS,
		ForceAttemptHTTP2:   true,
		// Bodies arrive as the server sends them: no transparent gzip, so
		// BytesIn is what crossed the wire and no CPU goes to inflating.
		DisableCompression: true,
	}
	return &Driver{transport: t, client: &http.Client{Transport: t}}
}

// Close closes the Driver's idle connections. Call it once the load has
// ended; it is idempotent.
func (d *Driver) Close() { d.transport.CloseIdleConnections() }

// Do implements load.Driver: it sends step's request and reads the whole
// response. Start is set when the request goes out on a connection (or, if
// none was obtained, just before the attempt), End once the body is read.
func (d *Driver) Do(ctx context.Context, vu *load.VU, step *load.Step, res *load.Result) {
	r, err := d.request(step)
	if err != nil {
		res.Start, res.Class, res.Err = vu.Clock.Now(), load.ClassOther, err
		res.End = res.Start
		return
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	st := stateOf(vu)
	req, err := r.build(st.trace(ctx))
	if err != nil {
		res.Start, res.Class, res.Err = vu.Clock.Now(), load.ClassOther, err
		res.End = res.Start
		return
	}
	res.BytesOut = int64(len(r.body))
	res.Start = vu.Clock.Now()
	st.sent.Store(-1)
	resp, err := d.client.Do(req)
	if sent := st.sent.Load(); sent >= 0 {
		res.Start = time.Duration(sent)
	}
	if err != nil {
		fail(res, err)
		res.End = vu.Clock.Now()
		return
	}
	d.read(resp, step, res)
	res.End = vu.Clock.Now()
}

// read reads and closes resp's body, and fills in res from it.
func (d *Driver) read(resp *http.Response, step *load.Step, res *load.Result) {
	defer resp.Body.Close()
	res.Status = resp.StatusCode
	class := classOfStatus(resp.StatusCode)
	var kept []byte
	var err error
	if class == "" && step.Ack != "" {
		kept, err = io.ReadAll(io.LimitReader(resp.Body, maxAckBody))
		res.BytesIn = int64(len(kept))
	}
	if err == nil {
		var n int64
		n, err = io.Copy(io.Discard, resp.Body)
		res.BytesIn += n
	}
	switch {
	case err != nil:
		fail(res, err)
	case class != "":
		res.Class, res.Err = class, statusError(resp.StatusCode)
	case step.Ack != "":
		if res.Ack, err = ackID(kept, step.Ack); err != nil {
			res.Class, res.Err = load.ClassOther, err
		}
	}
}

// fail records a transport error.
func fail(res *load.Result, err error) {
	res.Class, res.Err = load.ClassOf(err), err
}

// statusError describes a failing status for reports.
func statusError(code int) error {
	return fmt.Errorf("HTTP %d %s", code, http.StatusText(code))
}
