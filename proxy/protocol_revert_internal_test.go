package proxy

import (
	"testing"

	"github.com/chaosload/chaosload/faults"
)

// TestSessionOwesWhatItDecided: after each client stream, what the
// session owes its client, which a revert must finish before the
// connection leaves the fault (settled): the answers queued, and whether the
// request codec is in the middle of something it decided. A fault being
// reverted (leaving) decides nothing new, and an error is counted exactly
// when its answer is queued.
func TestSessionOwesWhatItDecided(t *testing.T) {
	pgErr := faults.PGErrorSpec{Match: faults.Match{SQL: `(?i)^(commit|select)`}, Probability: 1, SQLState: "40001", Message: "x"}
	redisErr := faults.RedisErrorSpec{Match: faults.Match{Command: "SET"}, Probability: 1, Message: "ERR x"}
	httpErr := faults.HTTPErrorSpec{Match: faults.Match{Path: "/x"}, Probability: 1, Status: 503}
	for _, tc := range []struct {
		name    string
		spec    faults.Spec
		sent    string
		leaving bool  // the fault is being reverted before the client sends
		answers int   // answers queued
		counted int64 // errors counted
		owes    bool  // the codec is in the middle of something it decided
	}{
		{ // a failed COMMIT: its error, before the ROLLBACK's ReadyForQuery
			name: "pg-commit", spec: pgErr, sent: pgQ("COMMIT"), answers: 1, counted: 1},
		{ // a query the fault does not match: nothing
			name: "pg-other", spec: pgErr, sent: pgQ("INSERT INTO t VALUES (1)")},
		{ // a Bind dropped, its Sync to come: the error is owed at the Sync
			name: "pg-batch-open", spec: pgErr, sent: pgParse("select 1") + pgBind(), counted: 1, owes: true},
		{ // the Sync came: the error is queued, the batch closed
			name: "pg-batch-synced", spec: pgErr, sent: pgParse("select 1") + pgBind() + "S\x00\x00\x00\x04", answers: 1, counted: 1},
		{ // reverted before the COMMIT came: the COMMIT passes
			name: "pg-leaving", spec: pgErr, sent: pgQ("COMMIT"), leaving: true},
		{ // a failed SET outside a transaction: its error
			name: "redis-plain", spec: redisErr, sent: "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n", answers: 1, counted: 1},
		{ // a failed SET inside MULTI: its error, and the EXEC owes EXECABORT
			name: "redis-multi-open", spec: redisErr, sent: "*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n",
			answers: 1, counted: 1, owes: true},
		{ // the EXEC came: replaced by a DISCARD whose reply becomes EXECABORT
			name: "redis-multi-exec", spec: redisErr,
			sent: "*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*1\r\n$4\r\nEXEC\r\n", answers: 2, counted: 1},
		{ // an answered request whose body is still coming: the rest is dropped
			name: "http-body-open", spec: httpErr, sent: "POST /x HTTP/1.1\r\nContent-Length: 4\r\n\r\nab", answers: 1, counted: 1, owes: true},
		{ // the body is complete
			name: "http-body-done", spec: httpErr, sent: "POST /x HTTP/1.1\r\nContent-Length: 4\r\n\r\nabcd", answers: 1, counted: 1},
		{ // reverted before the request came: it passes
			name: "http-leaving", spec: httpErr, sent: "GET /x HTTP/1.1\r\n\r\n", leaving: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := specSession(tc.spec)
			s.f.leaving.Store(tc.leaving)
			u := &protoUpStage{f: s.f, s: s}
			s.buf = []byte(tc.sent)
			for len(s.buf) > 0 {
				st := u.decide()
				if st.lost != "" || st.n == 0 {
					t.Fatalf("step %+v with %q left", st, s.buf)
				}
				s.buf = s.buf[st.n:]
			}
			if len(s.answers) != tc.answers || s.upOwes != tc.owes {
				t.Errorf("%d answers queued, codec owes %v; want %d, %v", len(s.answers), s.upOwes, tc.answers, tc.owes)
			}
			if n := s.f.eff.requestsErrored.Load(); n != tc.counted {
				t.Errorf("%d errors counted, want %d", n, tc.counted)
			}
			if want := tc.answers == 0 && !tc.owes; s.settled() != want {
				t.Errorf("settled %v, want %v", s.settled(), want)
			}
		})
	}
}

// pgQ, pgParse and pgBind render PostgreSQL client messages: a simple
// query, a Parse of an unnamed statement, a Bind of it without parameters.
func pgQ(sql string) string { return pgMsg('Q', sql+"\x00") }

func pgParse(sql string) string { return pgMsg('P', "\x00"+sql+"\x00\x00\x00") }

func pgBind() string { return pgMsg('B', "\x00\x00\x00\x00\x00\x00\x00\x00") }

func pgMsg(typ byte, body string) string {
	n := len(body) + 4
	return string([]byte{typ, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}) + body
}
