package proxy

import (
	"encoding/binary"
	"fmt"
	"regexp"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/chaosload/chaosload/faults"
)

// The PostgreSQL codecs (protocol 3.0). Upstream, the startup phase is
// recognised by its first byte (0: an untyped message's length), an
// SSLRequest or GSSENCRequest is declined with 'N' so the session stays
// readable, and a TLS stream met later (a connection that negotiated TLS
// before the fault came) is given up with a clear error in the log and
// FaultStats.Uninspectable. Query, Parse and Bind bodies are decoded with
// pgx's pgproto3; every other message is passed on as it arrives, without
// being buffered whole.

// The startup codes (untyped messages).
const (
	pgSSLRequest    = 80877103
	pgGSSENCRequest = 80877104
	pgCancelRequest = 80877102
)

// pgMaxWhole bounds the messages the proxy buffers whole to decide on them
// (Query, Parse, Bind): a client announcing more (PostgreSQL accepts up to
// 1 GB) is given up rather than held in memory.
const pgMaxWhole = 16 << 20

// pgUp parses what a PostgreSQL client sends.
type pgUp struct {
	f        *fault
	s        *protoSession
	sql      *regexp.Regexp // nil: every query matches
	p        float64        // share of matching queries acted on
	errMsg   []byte         // the ErrorResponse of a pg-error fault, nil for a delay
	stmts    map[string]string
	skip     int  // bytes of a long message still to pass (or drop)
	dropping bool // an injected error in the extended protocol: drop until Sync
}

func newPGUp(f *fault, s *protoSession) *pgUp {
	m, p := selection(f.spec)
	u := &pgUp{f: f, s: s, p: p, stmts: map[string]string{}}
	if m.SQL != "" {
		u.sql = regexp.MustCompile(m.SQL) // validated by package faults
	}
	if spec, ok := f.spec.(faults.PGErrorSpec); ok {
		e := &pgproto3.ErrorResponse{Severity: "ERROR", SeverityUnlocalized: "ERROR", Code: spec.SQLState, Message: spec.Message}
		u.errMsg, _ = e.Encode(nil)
	}
	return u
}

// pgSync is the Sync standing for a query the proxy answers.
var pgSync, _ = (&pgproto3.Sync{}).Encode(nil)

// next implements upCodec.
func (u *pgUp) next(buf []byte) upStep {
	if u.skip > 0 {
		n := min(u.skip, len(buf))
		u.skip -= n
		return upStep{n: n, drop: u.dropping}
	}
	if buf[0] == 0 {
		return u.startup(buf)
	}
	if len(buf) < 5 {
		return upStep{}
	}
	typ, size := buf[0], int(binary.BigEndian.Uint32(buf[1:5]))+1
	switch {
	case typ == tlsRecord || typ == 0x17: // a handshake or application-data record
		return upStep{lost: "the client speaks TLS (it negotiated it before the fault was applied); a client requiring TLS cannot be inspected: use sslmode=disable or prefer"}
	case size < 5 || !pgClientTypes[typ]:
		return upStep{lost: fmt.Sprintf("not PostgreSQL's wire protocol (message type %q)", typ)}
	}
	switch typ {
	case 'Q', 'P', 'B':
		if size > pgMaxWhole {
			return upStep{lost: fmt.Sprintf("a %q message of %d bytes, over the %d the proxy reads whole", typ, size, pgMaxWhole)}
		}
		if len(buf) < size {
			return upStep{}
		}
		return u.decide(typ, buf[:size])
	case 'S':
		if size != 5 {
			return upStep{lost: fmt.Sprintf("a Sync message of %d bytes (a Sync has no body)", size)}
		}
		return u.sync(size)
	case 'F':
		return u.stream(buf, size, 1)
	}
	return u.stream(buf, size, 0)
}

// pgClientTypes are the message types a client sends.
var pgClientTypes = map[byte]bool{'Q': true, 'P': true, 'B': true, 'E': true, 'D': true, 'C': true, 'S': true,
	'H': true, 'F': true, 'X': true, 'p': true, 'd': true, 'c': true, 'f': true}

// stream passes a message on as it arrives (or drops it in a failed batch).
func (u *pgUp) stream(buf []byte, size, expect int) upStep {
	n := min(size, len(buf))
	u.skip = size - n
	if u.dropping {
		expect = 0
	}
	return upStep{n: n, drop: u.dropping, expect: expect}
}

// startup handles an untyped message: the startup message, SSLRequest,
// GSSENCRequest or CancelRequest.
func (u *pgUp) startup(buf []byte) upStep {
	if len(buf) < 8 {
		return upStep{}
	}
	size := int(binary.BigEndian.Uint32(buf[0:4]))
	if size < 8 || size > 10000 {
		return upStep{lost: "not PostgreSQL's startup message"}
	}
	if len(buf) < size {
		return upStep{}
	}
	switch binary.BigEndian.Uint32(buf[4:8]) {
	case pgSSLRequest, pgGSSENCRequest:
		return upStep{n: size, drop: true, reply: []byte{'N'}}
	case pgCancelRequest:
		return upStep{n: size}
	}
	return upStep{n: size, expect: 1} // the startup ends with a ReadyForQuery
}

// owes implements upCodec: a batch whose Bind was dropped owes its error,
// which goes in before the ReadyForQuery of its Sync.
func (u *pgUp) owes() bool { return u.dropping }

// sync ends an extended-protocol batch; after an injected error, its
// ReadyForQuery gets the error before it.
func (u *pgUp) sync(size int) upStep {
	if u.dropping {
		u.dropping = false
		return upStep{n: size, expect: 1, answer: u.errMsg, patch: true}
	}
	return upStep{n: size, expect: 1}
}

// decide handles a whole Query, Parse or Bind message.
func (u *pgUp) decide(typ byte, msg []byte) upStep {
	body := msg[5:]
	switch typ {
	case 'Q':
		var q pgproto3.Query
		if q.Decode(body) != nil {
			return upStep{lost: "a Query message pgproto3 cannot decode"}
		}
		return u.query(len(msg), q.String)
	case 'P':
		var p pgproto3.Parse
		if p.Decode(body) != nil {
			return upStep{lost: "a Parse message pgproto3 cannot decode"}
		}
		u.stmts[p.Name] = p.Query
		return upStep{n: len(msg), drop: u.dropping}
	}
	var b pgproto3.Bind
	if b.Decode(body) != nil {
		return upStep{lost: "a Bind message pgproto3 cannot decode"}
	}
	return u.bind(len(msg), u.stmts[b.PreparedStatement])
}

// pgRollback is the ROLLBACK standing for a COMMIT the proxy fails.
var pgRollback, _ = (&pgproto3.Query{String: "ROLLBACK"}).Encode(nil)

// pgCommit matches a simple-protocol query that only ends a transaction
// with COMMIT (or its synonym END).
var pgCommit = regexp.MustCompile(`(?i)^\s*(commit|end)(\s+(work|transaction))?\s*;?\s*$`)

// query decides a simple-protocol query: an error replaces it by a Sync, so
// the server does nothing and a transaction stays open (failed, as after
// any error in it, until the client's ROLLBACK). A failed COMMIT is
// replaced by a ROLLBACK instead: PostgreSQL ends the transaction when its
// COMMIT fails (a serialization failure at commit), and the client sees
// the error, then ReadyForQuery idle, as from the real server; only the
// ROLLBACK's CommandComplete precedes the error.
func (u *pgUp) query(n int, sql string) upStep {
	u.dropping = false
	if !u.matches(sql) {
		return upStep{n: n, expect: 1}
	}
	if u.errMsg == nil {
		return upStep{n: n, expect: 1, delay: true}
	}
	stand := pgSync
	if pgCommit.MatchString(sql) {
		stand = pgRollback
	}
	return upStep{n: n, drop: true, extra: stand, expect: 1, answer: u.errMsg, patch: true, counted: true}
}

// bind decides an extended-protocol execution: an error drops the Bind and
// the rest of the batch up to its Sync, as the server would skip it.
func (u *pgUp) bind(n int, sql string) upStep {
	if u.dropping || !u.matches(sql) {
		return upStep{n: n, drop: u.dropping}
	}
	if u.errMsg == nil {
		return upStep{n: n, delay: true}
	}
	u.dropping = true
	return upStep{n: n, drop: true, counted: true}
}

// matches reports whether a statement matches and is drawn.
func (u *pgUp) matches(sql string) bool {
	if u.sql != nil && !u.sql.MatchString(sql) {
		return false
	}
	return u.s.draw(u.p)
}

// pgDown frames what a PostgreSQL server sends: a response ends with each
// ReadyForQuery.
type pgDown struct {
	hdr       [5]byte
	hdrN      int
	remaining int
	inZ       bool
	announced bool
}

func newPGDown() *pgDown { return &pgDown{} }

// pgServerTypes are the message types a server sends.
var pgServerTypes = map[byte]bool{'R': true, 'K': true, 'S': true, 'Z': true, 'T': true, 'D': true, 'C': true,
	'E': true, 'N': true, '1': true, '2': true, '3': true, 'n': true, 's': true, 't': true, 'I': true, 'G': true,
	'H': true, 'W': true, 'd': true, 'c': true, 'A': true, 'V': true, 'v': true}

// next implements downCodec.
func (p *pgDown) next(d []byte) (int, downEvent) {
	i := 0
	for i < len(d) {
		if p.remaining > 0 {
			k := min(p.remaining, len(d)-i)
			i += k
			p.remaining -= k
			if p.remaining == 0 && p.inZ {
				p.inZ = false
				return i, evDone
			}
			continue
		}
		if p.hdrN == 0 {
			if !pgServerTypes[d[i]] {
				return i, evLost
			}
			if d[i] == 'Z' && !p.announced {
				p.announced = true
				return i, evBeforeZ
			}
		}
		p.hdr[p.hdrN] = d[i]
		p.hdrN++
		i++
		if p.hdrN == 5 {
			size := int(binary.BigEndian.Uint32(p.hdr[1:5]))
			if size < 4 {
				return i, evLost
			}
			p.remaining, p.inZ, p.announced, p.hdrN = size-4, p.hdr[0] == 'Z', false, 0
			if p.remaining == 0 && p.inZ {
				return i, evLost // a ReadyForQuery always has its status byte
			}
		}
	}
	return i, evNone
}

// boundary implements downCodec.
func (p *pgDown) boundary() bool { return p.hdrN == 0 && p.remaining == 0 }
