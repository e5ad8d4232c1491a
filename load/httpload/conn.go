package httpload

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/chaosload/chaosload/load"
)

// conn is one HTTP/1.1 client connection: requests are written whole
// (head and small body in one write; a file body through sendfile), and
// responses parsed from a buffered reader, one exchange at a time.
type conn struct {
	nc net.Conn
	br *bufio.Reader
	// done is when its last exchange completed: how long it has been idle.
	done time.Time
}

// idleCheckAfter is how long a connection may sit idle before a request of
// any method checks it (alive) before going out on it: a server that
// closed it at its idle timeout, or sent an unasked 408 first (nginx,
// Node), is seen then, not taken for the answer. Requests that may not be
// retried check every time.
const idleCheckAfter = time.Second

// reusable reports whether an idle connection may carry the next request,
// idempotent or not (see idleCheckAfter).
func (c *conn) reusable(idempotent bool) bool {
	if idempotent && time.Since(c.done) < idleCheckAfter {
		return true
	}
	return c.alive()
}

func newConn(nc net.Conn) *conn { return &conn{nc: nc, br: bufio.NewReaderSize(nc, 4<<10)} }

func (c *conn) close() { c.nc.Close() }

// exchange is what one request/response did on a connection.
type exchange struct {
	status    int
	in, out   int64 // body bytes read and written
	written   bool  // the whole request went out
	gotByte   bool  // a byte of the response came back
	keepAlive bool  // the connection may carry another request
}

// errors of the HTTP/1.1 client.
var (
	errMalformed   = errors.New("malformed HTTP response")
	errPoolTimeout = &timeoutError{"timed out waiting for a connection"}
)

// timeoutError is an error that says it is a timeout.
type timeoutError struct{ msg string }

func (e *timeoutError) Error() string { return e.msg }
func (e *timeoutError) Timeout() bool { return true }

// roundTrip writes one request (head, then p) and reads its response. The
// response body is read whole and counted; up to load.MaxExtractBody of it
// is kept in st.kept when keepBody, and its header lines in st.hdrs when
// keepHeaders. The caller has set the connection's deadline.
func (c *conn) roundTrip(head []byte, p payload, method string, st *vuState, keepBody, keepHeaders bool) (exchange, error) {
	var x exchange
	if err := c.write(head, p, st, &x); err != nil {
		return x, err
	}
	x.written = true
	err := c.readResponse(method, st, keepBody, keepHeaders, &x)
	c.done = time.Now()
	return x, err
}

// write sends the head and the body: one write when the body is in memory.
func (c *conn) write(head []byte, p payload, st *vuState, x *exchange) error {
	if !p.streamed() {
		out := head
		if len(p.bytes) > 0 {
			st.out = append(append(st.out[:0], head...), p.bytes...)
			out = st.out
		}
		_, err := c.nc.Write(out)
		if err == nil {
			x.out = int64(len(p.bytes))
		}
		return err
	}
	if _, err := c.nc.Write(head); err != nil {
		return err
	}
	n, err := io.Copy(c.nc, p.reader()) // a file goes through sendfile
	x.out = n
	if err == nil && n != p.n {
		err = fmt.Errorf("body: wrote %d of %d bytes (did the file change?)", n, p.n)
	}
	return err
}

// readResponse reads the status line, the headers and the body.
func (c *conn) readResponse(method string, st *vuState, keepBody, keepHeaders bool, x *exchange) error {
	var length int64
	var chunked bool
	for {
		line, err := c.readLine(st)
		if err != nil {
			return err
		}
		x.gotByte = true
		code, http10, err := parseStatus(line)
		if err != nil {
			return err
		}
		x.status, x.keepAlive = code, !http10
		st.hdrs = st.hdrs[:0]
		if length, chunked, err = c.readHeaders(st, keepHeaders, x); err != nil {
			return err
		}
		if code >= 200 {
			break
		}
		if code == 101 { // the connection now speaks another protocol
			x.keepAlive = false
			break
		}
	}
	st.kept = st.kept[:0]
	switch {
	case method == "HEAD" || x.status == 204 || x.status == 304 || x.status < 200:
		return nil
	case chunked:
		return c.readChunked(st, keepBody, x)
	case length >= 0:
		return c.readBody(length, st, keepBody, x)
	}
	x.keepAlive = false // the body ends when the server closes
	err := c.readBody(1<<62, st, keepBody, x)
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return nil
	}
	return err
}

// readLine reads one line, however long.
func (c *conn) readLine(st *vuState) ([]byte, error) {
	line, err := c.br.ReadSlice('\n')
	if err != bufio.ErrBufferFull {
		return line, err
	}
	long := append(st.scratch[:0], line...)
	for err == bufio.ErrBufferFull {
		line, err = c.br.ReadSlice('\n')
		long = append(long, line...)
	}
	st.scratch = long[:0]
	return long, err
}

// parseStatus reads "HTTP/1.x NNN reason".
func parseStatus(line []byte) (code int, http10 bool, err error) {
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return 0, false, fmt.Errorf("%w: status line %q", errMalformed, bytes.TrimSpace(line))
	}
	for _, d := range line[9:12] {
		if d < '0' || d > '9' {
			return 0, false, fmt.Errorf("%w: status line %q", errMalformed, bytes.TrimSpace(line))
		}
		code = code*10 + int(d-'0')
	}
	return code, line[7] == '0', nil
}

// readHeaders reads header lines up to the blank line: the body's framing
// and whether the connection stays open; every line is kept in st.hdrs
// when asked.
func (c *conn) readHeaders(st *vuState, keep bool, x *exchange) (length int64, chunked bool, err error) {
	length = -1
	coded := false // a transfer coding other than chunked last
	for {
		line, err := c.readLine(st)
		if err != nil {
			return 0, false, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			if coded { // a transfer coding overrides Content-Length
				length = -1
			}
			return length, chunked, nil
		}
		if keep {
			st.hdrs = append(append(st.hdrs, line...), '\n')
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.ParseInt(string(value), 10, 64); err != nil || length < 0 {
				return 0, false, fmt.Errorf("%w: Content-Length %q", errMalformed, value)
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			// The body is chunked when chunked is the last coding applied
			// ("gzip, chunked"); any other coding runs to the close.
			i := bytes.LastIndexByte(value, ',')
			chunked = bytes.EqualFold(bytes.TrimSpace(value[i+1:]), []byte("chunked"))
			coded = !chunked
		case bytes.EqualFold(name, []byte("Connection")):
			if bytes.EqualFold(value, []byte("close")) {
				x.keepAlive = false
			} else if bytes.EqualFold(value, []byte("keep-alive")) {
				x.keepAlive = true
			}
		}
	}
}

// readChunked reads a chunked body and its trailers.
func (c *conn) readChunked(st *vuState, keep bool, x *exchange) error {
	for {
		line, err := c.readLine(st)
		if err != nil {
			return noEOF(err)
		}
		hexSize, _, _ := bytes.Cut(bytes.TrimSpace(line), []byte(";"))
		size, err := strconv.ParseInt(string(hexSize), 16, 64)
		if err != nil || size < 0 {
			return fmt.Errorf("%w: chunk size %q", errMalformed, hexSize)
		}
		if size == 0 {
			break
		}
		if err := c.readBody(size, st, keep, x); err != nil {
			return err
		}
		if line, err = c.readLine(st); err != nil || len(bytes.TrimSpace(line)) != 0 {
			return noEOF(cmpErr(err, fmt.Errorf("%w: no CRLF after a chunk", errMalformed)))
		}
	}
	for { // trailers
		line, err := c.readLine(st)
		if err != nil {
			return noEOF(err)
		}
		if len(bytes.TrimSpace(line)) == 0 {
			return nil
		}
	}
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// noEOF turns an end of stream inside a body into io.ErrUnexpectedEOF.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// discardBufs are the buffers large bodies are read into and dropped.
var discardBufs = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

// readBody reads n body bytes: counted, the first load.MaxExtractBody kept
// in st.kept when keep, the rest dropped. Bytes already buffered are used
// first; the rest is read straight from the connection into a 64 KiB
// buffer, so a 100 MB download costs ~1,600 reads and no memory.
func (c *conn) readBody(n int64, st *vuState, keep bool, x *exchange) error {
	for n > 0 && c.br.Buffered() > 0 {
		b, _ := c.br.Peek(int(min(n, int64(c.br.Buffered()))))
		c.keep(st, keep, b)
		c.br.Discard(len(b))
		x.in += int64(len(b))
		n -= int64(len(b))
	}
	if n == 0 {
		return nil
	}
	bp := discardBufs.Get().(*[]byte)
	defer discardBufs.Put(bp)
	buf := *bp
	for n > 0 {
		m, err := c.nc.Read(buf[:min(n, int64(len(buf)))])
		c.keep(st, keep, buf[:m])
		x.in += int64(m)
		n -= int64(m)
		if err != nil {
			return noEOF(err)
		}
	}
	return nil
}

// keep appends what fits of b to st.kept.
func (c *conn) keep(st *vuState, keep bool, b []byte) {
	if keep && len(st.kept) < load.MaxExtractBody {
		st.kept = append(st.kept, b[:min(len(b), load.MaxExtractBody-len(st.kept))]...)
	}
}

// headerOf looks a header up in lines kept by readHeaders.
func headerOf(lines []byte, name string) string {
	for len(lines) > 0 {
		line, rest, _ := bytes.Cut(lines, []byte("\n"))
		lines = rest
		k, v, ok := bytes.Cut(line, []byte(":"))
		if ok && bytes.EqualFold(bytes.TrimSpace(k), []byte(name)) {
			return string(bytes.TrimSpace(v))
		}
	}
	return ""
}

// farPast is a deadline that makes every pending read and write fail now.
var farPast = time.Unix(1, 0)
