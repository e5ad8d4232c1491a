package proxy

import (
	"bytes"
	"strings"
)

// Request counting (Config.CountRequests): the client → server bytes of a
// connection are shown, as they are read, to a small state machine per
// protocol that counts where requests start, skipping their bodies by
// their framing. It keeps a few integers and, for HTTP, the first bytes of
// the current header line: no allocation per request. What counts as a
// request:
//
//	http      a request head (its request line); one whose path starts with
//	          Config.CheckPath is a load balancer's health check, counted
//	          apart (Stats.Checks)
//	redis     a command (a RESP array, or an inline command line)
//	postgres  a simple Query ('Q') or the Sync ('S') that ends an
//	          extended-protocol batch
//
// A stream the counter cannot frame (an HTTP Upgrade or CONNECT, a
// PostgreSQL connection that turns to TLS, bytes that break the framing)
// is counted no further. Counted connections stay on the copy path: the
// kernel's sockmap fast path never shows the bytes to user space.

// reqCounter counts the requests starting in what a client sends.
type reqCounter interface {
	// feed takes the next bytes of the client's stream and returns how
	// many requests, and how many health checks, start in them.
	feed(b []byte) (requests, checks int)
}

// newReqCounter returns the counter of protocol, nil when it has none;
// checkPath is an HTTP health check's path prefix ("" for none).
func newReqCounter(protocol, checkPath string) reqCounter {
	switch protocol {
	case "http":
		return &httpCounter{check: []byte(strings.ToLower(checkPath))}
	case "redis":
		return &redisCounter{}
	case "postgres":
		return &pgCounter{}
	}
	return nil
}

// counted shows b to the link's request counter, if any.
func (l *link) counted(b []byte) {
	if l.count == nil {
		return
	}
	n, k := l.count.feed(b)
	if n > 0 {
		l.c.p.ctr.requests.Add(uint64(n))
	}
	if k > 0 {
		l.c.p.ctr.checks.Add(uint64(k))
	}
}

// The states of the counters.
const (
	stStart     = iota // between requests
	stHead             // HTTP: in the head; Redis: in the array length
	stBody             // skipping n bytes
	stChunkSize        // HTTP: a chunk-size line
	stTrailer          // HTTP: the trailer lines after the last chunk
	stBulkHdr          // Redis: a bulk string's "$len" line
	stInline           // Redis: an inline command line
	stDead             // framing lost: count no more
)

// httpCounter frames HTTP/1.x requests: head, then a Content-Length or
// chunked body.
type httpCounter struct {
	check   []byte // the health checks' path prefix, lower-cased
	counted int    // requests found by the line ends of this feed
	checks  int    // and health checks
	state   int
	line    [64]byte // the current line's first bytes, lower-cased
	lineLen int      // the current line's length so far (CR excluded)
	heads   int      // lines of the current head so far
	n       int64    // body bytes (or chunk bytes + CRLF) left to skip
	chunked bool
	hex     int64 // the chunk size being read
}

func (h *httpCounter) feed(b []byte) (requests, checks int) {
	h.counted, h.checks = 0, 0
	for i := 0; i < len(b); {
		switch h.state {
		case stDead:
			return h.counted, h.checks
		case stBody:
			k := int(min(h.n, int64(len(b)-i)))
			h.n -= int64(k)
			i += k
			if h.n == 0 {
				h.endBody()
			}
			continue
		case stStart:
			if b[i] == '\r' || b[i] == '\n' {
				i++
				continue
			}
			h.state, h.heads, h.lineLen, h.n, h.chunked = stHead, 0, 0, 0, false
		}
		i += h.lineByte(b[i])
	}
	return h.counted, h.checks
}

// endBody follows a skipped body or chunk.
func (h *httpCounter) endBody() {
	if h.chunked {
		h.state, h.lineLen, h.hex = stChunkSize, 0, 0
		return
	}
	h.state = stStart
}

// lineByte takes one byte of a line of the head, a chunk size or the
// trailer; it returns 1.
func (h *httpCounter) lineByte(c byte) int {
	switch c {
	case '\r':
		return 1
	case '\n':
		h.endLine()
		h.lineLen = 0
		return 1
	}
	if h.lineLen < len(h.line) {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		h.line[h.lineLen] = c
	}
	h.lineLen++
	return 1
}

// endLine acts on a whole line.
func (h *httpCounter) endLine() {
	line := h.line[:min(h.lineLen, len(h.line))]
	switch h.state {
	case stChunkSize:
		h.chunkSize(line)
	case stTrailer:
		if h.lineLen == 0 {
			h.state = stStart
		}
	case stHead:
		h.headLine(line)
	}
}

// headLine acts on a line of a request head.
func (h *httpCounter) headLine(line []byte) {
	h.heads++
	switch {
	case h.heads == 1:
		h.requestLine(line)
	case h.lineLen == 0:
		h.endHead()
	case bytes.HasPrefix(line, []byte("content-length:")):
		h.n = parseDec(line[len("content-length:"):])
	case bytes.HasPrefix(line, []byte("transfer-encoding:")):
		h.chunked = bytes.Contains(line, []byte("chunked"))
	case bytes.HasPrefix(line, []byte("upgrade:")):
		h.state = stDead
	}
}

// requestLine counts a request, or a health check, by its request line
// ("GET /path HTTP/1.1"); CONNECT ends the count.
func (h *httpCounter) requestLine(line []byte) {
	method, rest, _ := bytes.Cut(line, []byte(" "))
	switch {
	case string(method) == "connect":
		h.state = stDead
	case len(h.check) > 0 && bytes.HasPrefix(rest, h.check):
		h.checks++
	default:
		h.counted++
	}
}

func (h *httpCounter) endHead() {
	switch {
	case h.chunked:
		h.state, h.lineLen, h.hex = stChunkSize, 0, 0
	case h.n > 0:
		h.state = stBody
	default:
		h.state = stStart
	}
}

// chunkSize reads a chunk-size line: the chunk and its CRLF are skipped,
// the last chunk (0) is followed by the trailer.
func (h *httpCounter) chunkSize(line []byte) {
	if h.lineLen == 0 { // the CRLF that ends the previous chunk's data
		return
	}
	size, ok := parseHex(line)
	switch {
	case !ok:
		h.state = stDead
	case size == 0:
		h.state = stTrailer
	default:
		h.state, h.n = stBody, size+2
	}
}

// parseDec reads the decimal number of b, spaces around it skipped; -1
// when there is none.
func parseDec(b []byte) int64 {
	b = bytes.TrimSpace(b)
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' || v > 1<<50 {
			return 0
		}
		v = v*10 + int64(c-'0')
	}
	return v
}

// parseHex reads a chunk size: hex digits up to a ';' extension.
func parseHex(b []byte) (int64, bool) {
	if i := bytes.IndexByte(b, ';'); i >= 0 {
		b = b[:i]
	}
	b = bytes.TrimSpace(b)
	var v int64
	for _, c := range b {
		var d byte
		switch {
		case '0' <= c && c <= '9':
			d = c - '0'
		case 'a' <= c && c <= 'f':
			d = c - 'a' + 10
		default:
			return 0, false
		}
		if v > 1<<50 {
			return 0, false
		}
		v = v*16 + int64(d)
	}
	return v, len(b) > 0
}
