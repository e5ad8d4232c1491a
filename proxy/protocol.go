package proxy

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/Shopify/toxiproxy/v2/stream"
	"github.com/Shopify/toxiproxy/v2/toxics"

	"github.com/chaosload/chaosload/faults"
)

// Protocol-aware faults (http-error, pg-error, redis-error and the delays)
// run as a pair of stages on a connection: the upstream stage parses the
// client's requests and decides, per request, to pass it on, hold it
// (delay) or answer it itself; the downstream stage parses the server's
// responses, counts them, and splices the proxy's answers into the stream at
// the right place, so pipelined requests keep their order. The two share a
// protoSession, which outlives pipeline rebuilds (another fault coming or
// going): the parsers' state is in it, not in the stages.
//
// A request the proxy answers is never passed to the server as it is: HTTP
// and Redis requests are dropped, and their answer follows the responses to
// the requests before them; a PostgreSQL query or extended-protocol batch is
// replaced by a Sync, and the error is inserted before the server's
// ReadyForQuery to that Sync, whose status is patched (in a transaction:
// failed) — so the session stays in step with the server. A failed
// PostgreSQL COMMIT is replaced by a ROLLBACK instead, and the EXEC of a
// Redis transaction holding a failed command by a DISCARD, whose reply the
// downstream stage drops (swallow) and replaces by EXECABORT.

// upCodec parses client → server bytes. next looks at buf, the bytes not yet
// handled, and says what to do with a prefix of it (n == 0: more bytes are
// needed). Codecs keep their own state between calls.
type upCodec interface {
	next(buf []byte) upStep
	// owes reports whether the codec is in the middle of something it
	// decided that later requests complete: an extended-protocol batch
	// dropped until its Sync (whose ReadyForQuery brings the error), a
	// Redis transaction whose EXEC must be aborted, the body of an HTTP
	// request the proxy answered. A reverted fault stays on the connection
	// until it owes nothing (see protoSession.settled).
	owes() bool
}

// upStep is what to do with the next n bytes of the client's stream.
type upStep struct {
	n       int
	drop    bool   // do not pass those bytes on
	extra   []byte // pass these on after them (a Sync standing for a dropped query)
	expect  int    // responses the passed bytes make the server send
	answer  []byte // answer queued after every response expected so far
	patch   bool   // answer goes before the next ReadyForQuery (PostgreSQL), which becomes failed
	reply   []byte // written to the client at once (nothing is in flight: the SSLRequest's 'N')
	delay   bool   // hold the bytes for the fault's delay first
	swallow bool   // the server's response to extra is dropped; answer takes its place
	counted bool   // count one injected error
	lost    string // the stream cannot be parsed: say why, pass the rest through
}

// tlsRecord is the first byte of a TLS handshake record (a ClientHello): no
// HTTP/1 request, RESP command or typed PostgreSQL message starts with it,
// so a request parser that meets it where a request starts gives the
// connection up at once, rather than wait for a line end that never comes
// while the client waits for the server's hello.
const tlsRecord = 0x16

// lostTLS says why a connection speaking TLS is given up.
const lostTLS = "the client speaks TLS; the fault cannot read its requests (it passes them untouched)"

// downCodec parses server → client bytes: next consumes a prefix of d and
// reports what ends there.
type downCodec interface {
	next(d []byte) (n int, ev downEvent)
	// boundary reports whether the codec is between responses.
	boundary() bool
}

// downEvent is what a downCodec found at the end of the bytes it consumed.
type downEvent int

const (
	evNone    downEvent = iota // all of d consumed, nothing ended
	evDone                     // a response ended
	evBeforeZ                  // a ReadyForQuery begins here (PostgreSQL)
	evLost                     // the stream cannot be parsed: pass the rest through
)

// answer is a reply of the proxy waiting for its place in the downstream
// stream: after `after` responses have been passed on (or, when patch is
// set, before the ReadyForQuery that ends response number after+1).
type answer struct {
	after int64
	data  []byte
	patch bool
}

// protoSession is the state one connection's protocol stages share.
type protoSession struct {
	f *fault
	c *conn

	mu      sync.Mutex
	fwd     int64    // responses the server owes for what was passed on
	done    int64    // responses passed on to the client
	answers []answer // in order of after
	// swallows are the indices of responses to drop (the server's reply to
	// a request standing for one the proxy answers differently), ascending;
	// swallowing says the response under way is one (downstream stage's).
	swallows   []int64
	nSwallows  atomic.Int32 // len(swallows), read without the lock per response
	swallowing bool
	patching   bool        // an error went in before the ReadyForQuery under way, whose status becomes failed
	upOwes     bool        // the request codec owes (upCodec.owes), as of its last step
	lost       atomic.Bool // parsing gave up: everything passes

	wake chan struct{} // capacity 1: an answer was queued
	up   upCodec       // owned by the upstream stage
	down downCodec     // owned by the downstream stage
	buf  []byte        // client bytes not yet handled, owned by the upstream stage
	rng  *rand.Rand    // per-request draws, owned by the upstream stage

	// released is closed once the fault was reverted and the session owes
	// its client nothing more (settle): its stages stop then. It is the
	// stages' "gone", in place of the fault's.
	released chan struct{}
	isFree   bool // released was closed; guarded by mu
}

// newSession returns the protocol session of fault f on connection c
// (accept sequence seq).
func newSession(f *fault, c *conn, seq uint64) *protoSession {
	s := &protoSession{f: f, c: c, wake: make(chan struct{}, 1), released: make(chan struct{}),
		rng: stageRand(f.key, seq, stream.Upstream)}
	s.up, s.down = newCodecs(f, s)
	return s
}

// session returns the protocol session of connection c for fault f,
// creating it on first use. A fault being reverted gives a link that
// builds its stages late (it read the fault set before the revert) a
// session already released: it draws nothing and its stages stop at once.
func (f *fault) session(l *link) *protoSession {
	f.sessMu.Lock()
	defer f.sessMu.Unlock()
	if s, ok := f.sessions[l.c]; ok {
		return s
	}
	s := newSession(f, l.c, l.c.seq)
	if f.leaving.Load() {
		s.isFree = true
		close(s.released)
		return s
	}
	f.sessions[l.c] = s
	return s
}

// forgetConn drops connection c's session once the connection is gone (both
// links ended). It reports whether c was the last connection a reverted
// fault was still finishing: the caller then removes the fault from the
// fault set.
func (f *fault) forgetConn(c *conn) (last bool) {
	f.sessMu.Lock()
	defer f.sessMu.Unlock()
	delete(f.sessions, c)
	return f.unlistLocked()
}

// unlistLocked reports, once, that a reverted fault no longer has a
// connection to finish. The caller holds f.sessMu.
func (f *fault) unlistLocked() bool {
	if !f.leaving.Load() || len(f.sessions) > 0 || f.unlisted {
		return false
	}
	f.unlisted = true
	return true
}

// newCodecs returns the parsers of the fault's protocol.
func newCodecs(f *fault, s *protoSession) (upCodec, downCodec) {
	switch faults.ProtocolKinds[f.spec.Kind()] {
	case "postgres":
		return newPGUp(f, s), newPGDown()
	case "redis":
		return newRedisUp(f, s), newRedisDown()
	case "http":
		h := newHTTPShared()
		return newHTTPUp(f, s, h), newHTTPDown(h)
	}
	panic("proxy: no protocol codec for fault kind " + string(f.spec.Kind()))
}

// isProtocol reports whether a spec is a protocol-aware kind.
func isProtocol(spec faults.Spec) bool {
	_, ok := faults.ProtocolKinds[spec.Kind()]
	return ok
}

// draw reports whether a matching request is acted on (probability p), from
// the session's seeded generator. The upstream stage calls it (through its
// codec) holding s.mu, so a revert's settle sees either the decision or,
// after it, leaving.
func (s *protoSession) draw(p float64) bool {
	if s.f.leaving.Load() {
		return false
	}
	return p >= 1 || (p > 0 && s.rng.Float64() < p)
}

// book records what step st owes: its answer, queued after every response
// expected so far, the response it swallows and the responses it expects.
// The caller holds s.mu.
func (s *protoSession) book(st upStep) {
	switch {
	case st.swallow: // the answer follows the response it replaces
		s.swallows = append(s.swallows, s.fwd)
		s.nSwallows.Add(1)
		s.fwd++
		s.answers = append(s.answers, answer{after: s.fwd, data: st.answer})
	case st.answer != nil:
		s.answers = append(s.answers, answer{after: s.fwd, data: st.answer, patch: st.patch})
		s.fwd += int64(st.expect)
	default:
		s.fwd += int64(st.expect)
	}
}

// wakeDown tells the downstream stage an answer was queued.
func (s *protoSession) wakeDown() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// ready pops the answers whose place has come: plain ones once done
// responses have passed (patch false), or the patch answer of the response
// starting now (patch true).
func (s *protoSession) ready(patch bool) [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out [][]byte
	for len(s.answers) > 0 && s.answers[0].after <= s.done && s.answers[0].patch == patch {
		out = append(out, s.answers[0].data)
		s.answers = s.answers[1:]
		if patch {
			s.patching = true
			break
		}
	}
	return out
}

// startSwallow reports whether the response starting now is one to drop.
func (s *protoSession) startSwallow() bool {
	if s.nSwallows.Load() == 0 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.swallows) > 0 && s.swallows[0] == s.done {
		s.swallows = s.swallows[1:]
		s.nSwallows.Add(-1)
		return true
	}
	return false
}

// responded counts one response passed on and reports whether its
// ReadyForQuery gets the failed status (an error went in before it).
func (s *protoSession) responded() (patch bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.done++
	patch, s.patching = s.patching, false
	return patch
}

// protoStages returns the stage of fault f on link l.
func (f *fault) protoStage(l *link, pl *pipeline) toxics.Toxic {
	s := f.session(l)
	w := stageWait{dead: l.c.dead, gone: s.released}
	if l.dir == stream.Upstream {
		return &protoUpStage{f: f, s: s, l: l, pl: pl, w: w}
	}
	return &protoDownStage{f: f, s: s, l: l, pl: pl, w: w}
}

// The revert of a protocol fault. An error the fault decided must reach its
// client whatever the server's speed: the client's query was dropped (or
// its COMMIT turned into a ROLLBACK), and the server's reply to what stood
// for it would otherwise be taken for the query's own — a COMMIT answered
// by nothing looks committed. So a revert stops every new draw at once, and
// each connection that still owes something (an answer not yet spliced in,
// a ReadyForQuery not yet patched, a batch, transaction or body the codec is
// in the middle of) keeps the fault's stages, which draw nothing more, until
// it owes nothing; then its session is released and the link drops them.
// The revert itself never waits for traffic.
//
//	Revert: leaving ─▶ settle each session ─▶ publish (the fault stays in
//	        the set while a session lingers; links filter it, see applies)
//	stage:  after each step or response: settle ─▶ released ─▶ notify the
//	        connection's links ─▶ last one: the fault leaves the set

// leave starts the revert of fault f: no request is drawn from now on, and
// every session that owes nothing is released. It returns how many
// connections it is still finishing (the fault then stays in the set).
// The caller holds the proxy's mu.
func (f *fault) leave() (lingering int) {
	if f.sessions == nil {
		return 0
	}
	f.sessMu.Lock()
	defer f.sessMu.Unlock()
	f.leaving.Store(true)
	for c, s := range f.sessions {
		if s.release() {
			delete(f.sessions, c)
		}
	}
	if f.unlistLocked() {
		return 0
	}
	return len(f.sessions)
}

// applies reports whether stage fault f applies to connection c: f selects
// it and, while f is being reverted, c is one it is still finishing.
func (f *fault) applies(c *conn) bool {
	if !f.selects(c.seq) {
		return false
	}
	if !f.leaving.Load() {
		return true
	}
	f.sessMu.Lock()
	defer f.sessMu.Unlock()
	_, ok := f.sessions[c]
	return ok
}

// settled reports whether the session owes its client nothing. The caller
// holds s.mu.
func (s *protoSession) settled() bool {
	return s.lost.Load() || (len(s.answers) == 0 && len(s.swallows) == 0 && !s.patching && !s.upOwes)
}

// release closes released if the session owes nothing; it reports whether
// this call closed it.
func (s *protoSession) release() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.isFree || !s.settled() {
		return false
	}
	s.isFree = true
	close(s.released)
	return true
}

// settle releases the session of a fault being reverted once it owes
// nothing; the stages call it after each step and response. Its
// connection's links then drop the stages, and the last session of the
// fault takes the fault out of the fault set.
func (s *protoSession) settle() {
	if !s.f.leaving.Load() || !s.release() {
		return
	}
	f := s.f
	f.sessMu.Lock()
	if f.sessions[s.c] == s {
		delete(f.sessions, s.c)
	}
	last := f.unlistLocked()
	f.sessMu.Unlock()
	s.c.notify(int(stream.Upstream))
	s.c.notify(int(stream.Downstream))
	if last {
		s.c.p.unlist(f)
	}
}

// reverseProtocol reverses the order of the protocol-aware faults among
// stages, leaving the others where they are.
func reverseProtocol(stages []*fault) {
	var idx []int
	for i, f := range stages {
		if isProtocol(f.spec) {
			idx = append(idx, i)
		}
	}
	for i, j := 0, len(idx)-1; i < j; i, j = i+1, j-1 {
		stages[idx[i]], stages[idx[j]] = stages[idx[j]], stages[idx[i]]
	}
}

// selection returns which requests a protocol-aware spec acts on: its
// match, and the share p of matching requests drawn.
func selection(spec faults.Spec) (m faults.Match, p float64) {
	switch s := spec.(type) {
	case faults.HTTPErrorSpec:
		return s.Match, s.Probability
	case faults.PGErrorSpec:
		return s.Match, s.Probability
	case faults.RedisErrorSpec:
		return s.Match, s.Probability
	case faults.RequestDelaySpec:
		return s.Match, s.Probability
	}
	return faults.Match{}, 1
}
