package proxy

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chaosload/chaosload/faults"
)

// The HTTP/1.x codecs. Upstream, each request head is read whole (up to
// 64 KiB) and decided; its body (Content-Length or chunked) passes on as it
// arrives, or is dropped with the request. Downstream, each response is
// framed by its status, the request's method, Content-Length or chunked
// encoding, so an answer goes between two responses and keep-alive
// connections stay usable. An Upgrade (WebSocket), CONNECT or a response
// read until the connection closes ends the parsing of that connection.

const httpMaxHead = 64 << 10

// httpShared carries the requests passed on, in order, from the request
// codec to the response codec: each one's method (a response to HEAD has no
// body) and how long an http-delay holds its response (0: not held).
type httpShared struct {
	mu   sync.Mutex
	reqs []httpReq
}

type httpReq struct {
	method string
	hold   time.Duration
}

func newHTTPShared() *httpShared { return &httpShared{} }

func (h *httpShared) push(r httpReq) {
	h.mu.Lock()
	h.reqs = append(h.reqs, r)
	h.mu.Unlock()
}

func (h *httpShared) peek() httpReq {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.reqs) == 0 {
		return httpReq{}
	}
	return h.reqs[0]
}

func (h *httpShared) pop() {
	h.mu.Lock()
	if len(h.reqs) > 0 {
		h.reqs = h.reqs[1:]
	}
	h.mu.Unlock()
}

// httpUp parses what an HTTP client sends.
type httpUp struct {
	f        *fault
	s        *protoSession
	h        *httpShared
	m        faults.Match
	p        float64
	answer   []byte // nil for a delay
	delay    faults.RequestDelaySpec
	body     httpBody
	dropping bool
	bad      bool // the body stopped making sense: give up at the next bytes
}

func newHTTPUp(f *fault, s *protoSession, h *httpShared) *httpUp {
	u := &httpUp{f: f, s: s, h: h}
	u.m, u.p = selection(f.spec)
	switch spec := f.spec.(type) {
	case faults.HTTPErrorSpec:
		u.answer = httpAnswer(spec)
	case faults.RequestDelaySpec:
		u.delay = spec
	}
	return u
}

// httpAnswer renders the response of an http-error fault.
func httpAnswer(s faults.HTTPErrorSpec) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\n", s.Status, http.StatusText(s.Status))
	names := make([]string, 0, len(s.Headers))
	for k := range s.Headers {
		names = append(names, k)
	}
	sort.Strings(names)
	hasType := false
	for _, k := range names {
		if strings.EqualFold(k, "Content-Length") {
			continue
		}
		hasType = hasType || strings.EqualFold(k, "Content-Type")
		fmt.Fprintf(&b, "%s: %s\r\n", http.CanonicalHeaderKey(k), s.Headers[k])
	}
	if !hasType && s.Body != "" {
		b.WriteString("Content-Type: text/plain; charset=utf-8\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(s.Body), s.Body)
	return b.Bytes()
}

// next implements upCodec.
func (u *httpUp) next(buf []byte) upStep {
	if u.bad {
		return upStep{lost: "a malformed chunked request body"}
	}
	if !u.body.done() {
		// A body that stops making sense still belongs to its request: its
		// bytes up to there go where the request went (dropped with one
		// the proxy answered, however they were cut into reads), and the
		// connection is given up after them.
		n, ok := u.body.consume(buf)
		u.bad = !ok
		return upStep{n: n, drop: u.dropping}
	}
	if buf[0] == tlsRecord {
		return upStep{lost: lostTLS}
	}
	end := bytes.Index(buf, []byte("\r\n\r\n"))
	switch {
	case end+4 > httpMaxHead || (end < 0 && len(buf) > httpMaxHead):
		return upStep{lost: "a request head over 64 KiB"}
	case end < 0:
		return upStep{}
	}
	n := end + 4
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(buf[:n])))
	switch {
	case err != nil:
		return upStep{lost: "not an HTTP/1.x request: " + err.Error()}
	case req.Method == http.MethodConnect || req.Header.Get("Upgrade") != "":
		return upStep{lost: "the connection is upgraded (" + req.Method + " " + req.Header.Get("Upgrade") + ")"}
	}
	u.body = requestBody(req)
	u.dropping = false
	if !u.matches(req) {
		u.h.push(httpReq{method: req.Method})
		return upStep{n: n, expect: 1}
	}
	if u.answer == nil {
		r := httpReq{method: req.Method}
		if u.delay.Holds(faults.Downstream) {
			r.hold = u.s.delay(u.delay)
		}
		u.h.push(r)
		return upStep{n: n, expect: 1, delay: u.delay.Holds(faults.Upstream)}
	}
	u.dropping = true
	return upStep{n: n, drop: true, answer: u.answer, counted: true}
}

// owes implements upCodec: the body of a request the proxy answered is
// still to be dropped (passed on, it would reach the server as a request).
func (u *httpUp) owes() bool { return u.dropping && !u.body.done() }

// requestBody frames a request's body.
func requestBody(req *http.Request) httpBody {
	if len(req.TransferEncoding) > 0 {
		return httpBody{chunked: true}
	}
	return httpBody{left: max(req.ContentLength, 0)}
}

// matches reports whether a request matches and is drawn.
func (u *httpUp) matches(req *http.Request) bool {
	if u.m.Method != "" && !strings.EqualFold(u.m.Method, req.Method) {
		return false
	}
	if u.m.Path != "" && !faults.MatchPath(u.m.Path, req.URL.Path) {
		return false
	}
	for k, v := range u.m.Header {
		got, ok := req.Header[http.CanonicalHeaderKey(k)]
		if !ok || (v != "*" && !containsFold(got, v)) {
			return false
		}
	}
	return u.s.draw(u.p)
}

func containsFold(vals []string, v string) bool {
	for _, x := range vals {
		if strings.EqualFold(strings.TrimSpace(x), v) {
			return true
		}
	}
	return false
}

// httpDown frames what an HTTP server sends.
type httpDown struct {
	h     *httpShared
	head  []byte
	body  httpBody
	inRsp bool          // a response's body is under way
	hold  time.Duration // how long to hold the response whose head just ended
}

// takeHold implements downHolder.
func (d *httpDown) takeHold() time.Duration {
	h := d.hold
	d.hold = 0
	return h
}

func newHTTPDown(h *httpShared) *httpDown { return &httpDown{h: h} }

// next implements downCodec.
func (d *httpDown) next(b []byte) (int, downEvent) {
	if d.inRsp {
		n, ok := d.body.consume(b)
		if !ok {
			return n, evLost
		}
		if d.body.done() {
			d.inRsp = false
			return n, evDone
		}
		return n, evNone
	}
	old := len(d.head)
	d.head = append(d.head, b...)
	end := bytes.Index(d.head, []byte("\r\n\r\n"))
	switch {
	case end+4 > httpMaxHead || (end < 0 && len(d.head) > httpMaxHead):
		return len(b), evLost
	case end < 0:
		return len(b), evNone
	}
	n := end + 4 - old
	head := d.head[:end+4]
	d.head = d.head[:0]
	return n, d.response(head)
}

// response frames one response head.
func (d *httpDown) response(head []byte) downEvent {
	req := d.h.peek()
	method := req.method
	rsp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(head)), &http.Request{Method: method})
	switch {
	case err != nil:
		return evLost
	case rsp.StatusCode == http.StatusSwitchingProtocols:
		return evLost
	case rsp.StatusCode < 200:
		return evNone // an interim response: the final one follows
	}
	d.h.pop()
	d.hold = req.hold
	switch {
	case method == http.MethodHead || rsp.StatusCode == http.StatusNoContent || rsp.StatusCode == http.StatusNotModified:
		return evDone
	case len(rsp.TransferEncoding) > 0:
		d.body = httpBody{chunked: true}
	case rsp.ContentLength >= 0:
		d.body = httpBody{left: rsp.ContentLength}
	default:
		return evLost // read until the connection closes
	}
	if d.body.done() {
		return evDone
	}
	d.inRsp = true
	return evNone
}

// boundary implements downCodec.
func (d *httpDown) boundary() bool { return !d.inRsp && len(d.head) == 0 }

// httpBody frames a message body: left bytes of a Content-Length, or
// chunked encoding.
type httpBody struct {
	left    int64
	chunked bool
	line    []byte // chunked: a size or trailer line under way
	data    int64  // chunked: bytes of chunk data and its CRLF still to come
	trailer bool   // chunked: the last chunk was seen, trailer lines follow
}

// done reports whether the body has ended.
func (b *httpBody) done() bool { return !b.chunked && b.left == 0 }

// consume takes bytes of the body from p and returns how many.
func (b *httpBody) consume(p []byte) (int, bool) {
	if !b.chunked {
		n := int(min(b.left, int64(len(p))))
		b.left -= int64(n)
		return n, true
	}
	i := 0
	for i < len(p) && b.chunked {
		if b.data > 0 {
			k := int(min(b.data, int64(len(p)-i)))
			i += k
			b.data -= int64(k)
			continue
		}
		j := bytes.IndexByte(p[i:], '\n')
		if j < 0 {
			b.line = append(b.line, p[i:]...)
			return len(p), len(b.line) < 4096
		}
		b.line = append(b.line, p[i:i+j+1]...)
		i += j + 1
		if !b.chunkLine() {
			return i, false
		}
	}
	return i, true
}

// chunkLine handles one complete line of a chunked body.
func (b *httpBody) chunkLine() bool {
	line := strings.TrimRight(string(b.line), "\r\n")
	b.line = b.line[:0]
	if b.trailer {
		if line == "" {
			b.chunked, b.trailer = false, false
		}
		return true
	}
	if i := strings.IndexByte(line, ';'); i >= 0 {
		line = line[:i]
	}
	size, err := strconv.ParseInt(strings.TrimSpace(line), 16, 64)
	if err != nil || size < 0 || size > math.MaxInt64-2 {
		return false
	}
	if size == 0 {
		b.trailer = true
		return true
	}
	b.data = size + 2
	return true
}
