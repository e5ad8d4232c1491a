package proxy

import (
	"bytes"
	"math"
	"path"
	"strconv"
	"strings"

	"github.com/chaosload/chaosload/faults"
)

// The Redis codecs (RESP 2 and 3). Upstream, each command (an array of bulk
// strings, or an inline command) is read whole and answered, held or passed
// on; downstream, each top-level reply is one response, except RESP 3 push
// messages and attributes. A connection that enters a mode where replies no
// longer follow commands (SUBSCRIBE, MONITOR, CLIENT REPLY) is given up:
// the fault no longer applies to it.

// redisUp parses what a Redis client sends.
type redisUp struct {
	f       *fault
	s       *protoSession
	command string // upper case; "" matches every command
	key     string // glob; "" matches every key
	errMsg  []byte // the error reply of a redis-error fault, nil for a delay
	p       float64
	// A transaction: inMulti after a MULTI the server got, until its EXEC
	// or DISCARD; dirty once the proxy answered a command in it with an
	// error. Redis itself discards a transaction with a command it
	// rejected, and answers the EXEC with EXECABORT: so does the proxy,
	// whose server never saw that command.
	inMulti, dirty bool
}

// redisDiscard stands for the EXEC of a transaction the proxy aborts.
var redisDiscard = []byte("*1\r\n$7\r\nDISCARD\r\n")

// redisExecAbort is Redis's answer to the EXEC of such a transaction.
var redisExecAbort = []byte("-EXECABORT Transaction discarded because of previous errors.\r\n")

func newRedisUp(f *fault, s *protoSession) *redisUp {
	m, p := selection(f.spec)
	u := &redisUp{f: f, s: s, command: strings.ToUpper(m.Command), key: m.Key, p: p}
	if spec, ok := f.spec.(faults.RedisErrorSpec); ok {
		u.errMsg = []byte("-" + spec.Message + "\r\n")
	}
	return u
}

// next implements upCodec.
func (u *redisUp) next(buf []byte) upStep {
	if buf[0] == tlsRecord {
		return upStep{lost: lostTLS}
	}
	args, n, ok := parseRedisCommand(buf)
	switch {
	case !ok:
		return upStep{lost: "not a RESP command"}
	case n == 0:
		return upStep{}
	case len(args) == 0:
		return upStep{n: n} // an empty line: the server answers nothing
	}
	name := strings.ToUpper(string(args[0]))
	switch name {
	case "SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "MONITOR":
		return upStep{lost: name + ": replies no longer follow commands"}
	case "CLIENT":
		if len(args) > 1 && strings.EqualFold(string(args[1]), "REPLY") {
			return upStep{lost: "CLIENT REPLY: replies no longer follow commands"}
		}
	}
	if !u.matches(name, args) {
		return u.passed(name, upStep{n: n, expect: 1})
	}
	if u.errMsg == nil {
		return u.passed(name, upStep{n: n, expect: 1, delay: true})
	}
	u.dirty = u.inMulti
	return upStep{n: n, drop: true, answer: u.errMsg, counted: true}
}

// owes implements upCodec: a transaction holding a command the proxy
// failed owes its EXEC the EXECABORT.
func (u *redisUp) owes() bool { return u.dirty }

// passed follows the transaction state through a command passed on to the
// server; the EXEC of a transaction the proxy made fail is replaced by a
// DISCARD whose reply becomes EXECABORT.
func (u *redisUp) passed(name string, st upStep) upStep {
	switch name {
	case "MULTI":
		u.inMulti = true
	case "EXEC", "DISCARD":
		if name == "EXEC" && u.dirty {
			st = upStep{n: st.n, drop: true, extra: redisDiscard, swallow: true, answer: redisExecAbort, delay: st.delay}
		}
		u.inMulti, u.dirty = false, false
	}
	return st
}

// matches reports whether a command matches and is drawn.
func (u *redisUp) matches(name string, args [][]byte) bool {
	if u.command != "" && name != u.command {
		return false
	}
	if u.key != "" {
		if len(args) < 2 {
			return false
		}
		if ok, _ := path.Match(u.key, string(args[1])); !ok {
			return false
		}
	}
	return u.s.draw(u.p)
}

// The bounds of what the proxy reads of a command before deciding on it. A
// line over them is not a command the proxy parses, however many bytes
// came so far (so the outcome does not depend on how the stream was cut
// into reads); a bulk string over redisMaxBulk (Redis itself takes up to
// 512 MB) gives the connection up rather than being held in memory.
const (
	redisMaxInline = 64 << 10 // an inline command, as Redis's own limit
	redisMaxNumber = 32       // a count or length, with its CRLF
	redisMaxBulk   = 16 << 20
)

// parseRedisCommand reads one command from buf: its arguments and its
// length (0: incomplete), ok false when buf does not hold RESP.
func parseRedisCommand(buf []byte) (args [][]byte, n int, ok bool) {
	if buf[0] != '*' {
		i := bytes.IndexByte(buf, '\n')
		switch {
		case i < 0:
			return nil, 0, len(buf) < redisMaxInline
		case i >= redisMaxInline:
			return nil, 0, false
		}
		return bytes.Fields(buf[:i]), i + 1, true
	}
	count, i, ok := redisNumber(buf, 1)
	if !ok || i == 0 {
		return nil, 0, ok
	}
	for range count {
		if i >= len(buf) {
			return nil, 0, true
		}
		if buf[i] != '$' {
			return nil, 0, false
		}
		size, j, ok := redisNumber(buf, i+1)
		if !ok || j == 0 {
			return nil, 0, ok
		}
		if size < 0 || size > redisMaxBulk {
			return nil, 0, false
		}
		if j+size+2 > len(buf) {
			return nil, 0, true
		}
		args = append(args, buf[j:j+size])
		i = j + size + 2
	}
	return args, i, true
}

// redisNumber reads the number of a header line starting at buf[from]:
// the number and the index after its CRLF (0: incomplete).
func redisNumber(buf []byte, from int) (v, next int, ok bool) {
	i := bytes.IndexByte(buf[from:], '\n')
	if i < 0 {
		return 0, 0, len(buf)-from < redisMaxNumber
	}
	if i >= redisMaxNumber {
		return 0, 0, false
	}
	v, err := strconv.Atoi(string(bytes.TrimSuffix(buf[from:from+i], []byte("\r"))))
	return v, from + i + 1, err == nil
}

// redisDown frames what a Redis server sends: one top-level reply is one
// response.
type redisDown struct {
	line  []byte // the start of a header line under way (at most redisMaxNumber bytes)
	long  bool   // the line under way is longer than what line keeps
	bulk  int    // bytes of a bulk string (and its CRLF) still to come
	stack []int  // elements still to come in each open aggregate
	top   byte   // type of the top-level reply under way
}

// redisMaxDepth bounds the nesting of aggregates in a reply (Redis's own
// replies nest a few levels).
const redisMaxDepth = 128

func newRedisDown() *redisDown { return &redisDown{} }

// next implements downCodec.
func (r *redisDown) next(d []byte) (int, downEvent) {
	i := 0
	for i < len(d) {
		if r.bulk > 0 {
			k := min(r.bulk, len(d)-i)
			i += k
			r.bulk -= k
			if r.bulk == 0 && r.valueDone() {
				return i, evDone
			}
			continue
		}
		j := bytes.IndexByte(d[i:], '\n')
		if j < 0 {
			r.addLine(d[i:])
			return len(d), evNone
		}
		r.addLine(d[i : i+j+1])
		i += j + 1
		done, ok := r.header()
		r.line, r.long = r.line[:0], false
		switch {
		case !ok:
			return i, evLost
		case done:
			return i, evDone
		}
	}
	return i, evNone
}

// addLine keeps the start of a header line: a simple value's text is not
// needed, and a longer number is not RESP.
func (r *redisDown) addLine(b []byte) {
	if room := redisMaxNumber - len(r.line); len(b) > room {
		b, r.long = b[:room], true
	}
	r.line = append(r.line, b...)
}

// header handles one header line; done when a top-level reply ended.
func (r *redisDown) header() (done, ok bool) {
	t := r.line[0]
	if len(r.stack) == 0 {
		r.top = t
	}
	switch t {
	case '+', '-', ':', '_', ',', '#', '(':
		return r.valueDone(), true
	case '$', '!', '=':
		n, ok := r.number(math.MaxInt - 2)
		switch {
		case !ok:
			return false, false
		case n < 0:
			return r.valueDone(), true
		}
		r.bulk = n + 2
		return false, true
	case '*', '~', '>', '%', '|':
		n, ok := r.number(math.MaxInt / 2)
		if !ok || len(r.stack) >= redisMaxDepth {
			return false, false
		}
		if t == '%' || t == '|' {
			n *= 2
		}
		if n <= 0 {
			return r.valueDone(), true
		}
		r.stack = append(r.stack, n)
		return false, true
	}
	return false, false
}

// number reads the number of a length or count line, at most limit.
func (r *redisDown) number(limit int) (int, bool) {
	if r.long {
		return 0, false
	}
	n, err := strconv.Atoi(string(bytes.TrimRight(r.line[1:], "\r\n")))
	return n, err == nil && n <= limit
}

// valueDone records that a value ended and reports whether that ended a
// top-level reply that counts as a response (not a push or an attribute).
func (r *redisDown) valueDone() bool {
	for len(r.stack) > 0 {
		r.stack[len(r.stack)-1]--
		if r.stack[len(r.stack)-1] > 0 {
			return false
		}
		r.stack = r.stack[:len(r.stack)-1]
	}
	return r.top != '>' && r.top != '|'
}

// boundary implements downCodec.
func (r *redisDown) boundary() bool { return r.bulk == 0 && len(r.stack) == 0 && len(r.line) == 0 }
