package proxy

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/chaosload/chaosload/faults"
)

// The fuzz targets of the protocol codecs (pg, RESP and HTTP/1, each
// direction) drive a codec the way its stage does (protocol_stage.go) and
// check what the stage relies on:
//
//   - a codec never panics, and never claims more bytes than it was given
//     (the stage slices its buffer by the claim);
//   - an upstream step that claims nothing has no effect (the stage drops
//     it and waits for more bytes);
//   - a downstream call always moves on: it consumes a byte, or announces a
//     ReadyForQuery once, or gives up (else the stage loops for ever); a
//     response never ends before its first byte (the stage patches the
//     byte before the end);
//   - how the bytes are cut into reads changes nothing: the bytes the peer
//     gets, the proxy's answers and their places are the same when the
//     stream arrives whole as when it arrives in pieces of chunk bytes.
//
// The seed corpora under testdata/fuzz/FuzzXxx are bytes real clients and
// servers sent (pgx and PostgreSQL, go-redis and Redis, net/http), captured
// by TestCaptureFuzzSeeds in package faults, with the crashers found kept
// beside them.

// fuzzSpecs are the faults the targets run the codecs for: an error fault
// acting on half of the requests that match, which takes every path of a
// codec (pass, drop, answer, transaction bookkeeping).
var fuzzSpecs = map[string]faults.Spec{
	"postgres": faults.PGErrorSpec{Match: faults.Match{SQL: `(?i)select|insert|commit`}, Probability: 0.5,
		SQLState: "40001", Message: "injected"},
	"redis": faults.RedisErrorSpec{Match: faults.Match{Key: "k*"}, Probability: 0.5, Message: "ERR injected"},
	"http":  faults.HTTPErrorSpec{Match: faults.Match{Path: "/a*"}, Probability: 0.5, Status: 503, Body: "no"},
}

// fuzzSession returns a fresh protocol session of the protocol's fault,
// with the same draws every time.
func fuzzSession(protocol string) *protoSession { return specSession(fuzzSpecs[protocol]) }

// specSession returns a fresh protocol session of a fault of spec.
func specSession(spec faults.Spec) *protoSession {
	return newSession(newFault(1, "fuzz", spec, 1), nil, 1)
}

// pieces cuts data into reads of chunk bytes (all of it at once for 0).
func pieces(data []byte, chunk int) [][]byte {
	if chunk <= 0 || chunk >= len(data) {
		return [][]byte{data}
	}
	var out [][]byte
	for len(data) > chunk {
		out = append(out, data[:chunk])
		data = data[chunk:]
	}
	return append(out, data)
}

// upTrace is what an upstream codec made of a client's stream.
type upTrace struct {
	out    []byte   // the bytes the server gets, in order
	events []string // answers, replies, holds and counts, each at its place in out
	lost   bool
}

// runUp feeds reads to a fresh session's upstream codec as protoUpStage
// does; after a give-up the rest passes as it is.
func runUp(t *testing.T, protocol string, reads [][]byte) (upTrace, *protoSession) {
	s := fuzzSession(protocol)
	return runSession(t, s, reads), s
}

// runSession is runUp on session s.
func runSession(t *testing.T, s *protoSession, reads [][]byte) upTrace {
	var tr upTrace
	var buf []byte
	fwd := 0
	for _, r := range reads {
		if tr.lost {
			tr.out = append(tr.out, r...)
			continue
		}
		buf = append(buf, r...)
		for len(buf) > 0 {
			st := s.up.next(buf)
			if st.lost != "" { // where a codec notices does not matter: the bytes pass all the same
				tr.lost = true
				tr.events = append(tr.events, "lost")
				tr.out = append(tr.out, buf...)
				buf = nil
				break
			}
			if st.n < 0 || st.n > len(buf) {
				t.Fatalf("step claims %d bytes of %d: %+v", st.n, len(buf), st)
			}
			if st.n == 0 {
				if !st.passThrough() || st.expect != 0 {
					t.Fatalf("a step claiming no bytes has effects: %+v", st)
				}
				break
			}
			fwd += st.expect
			tr.record(st, fwd)
			if !st.drop {
				tr.out = append(tr.out, buf[:st.n]...)
			}
			tr.out = append(tr.out, st.extra...)
			buf = buf[st.n:]
		}
	}
	tr.out = append(tr.out, buf...) // the stage flushes what is left at the end
	return tr
}

// record notes the effects of one step other than its bytes.
func (tr *upTrace) record(st upStep, fwd int) {
	at := len(tr.out)
	if st.delay {
		tr.events = append(tr.events, fmt.Sprintf("hold@%d", at))
	}
	if st.counted {
		tr.events = append(tr.events, fmt.Sprintf("count@%d", at))
	}
	if st.reply != nil {
		tr.events = append(tr.events, fmt.Sprintf("reply@%d %q", at, st.reply))
	}
	if st.answer != nil {
		tr.events = append(tr.events, fmt.Sprintf("answer@%d after %d patch=%v swallow=%v %q", at, fwd, st.patch, st.swallow, st.answer))
	}
}

// fuzzUp checks an upstream codec on one input, whole and in pieces.
func fuzzUp(t *testing.T, protocol string, data []byte, chunk uint16) {
	whole, _ := runUp(t, protocol, [][]byte{data})
	cut, _ := runUp(t, protocol, pieces(data, int(chunk)))
	sameTrace(t, whole.out, cut.out, whole.events, cut.events, chunk)
}

// downTrace is what a downstream codec made of a server's stream.
type downTrace struct {
	events []string // responses ended, ReadyForQuery announced, holds, give-up, each at its offset
}

// runDown feeds reads to a downstream codec as protoDownStage does.
func runDown(t *testing.T, down downCodec, reads [][]byte) downTrace {
	var tr downTrace
	base := 0
	holder, _ := down.(downHolder)
	for _, r := range reads {
		off, idle := 0, 0
		for off < len(r) {
			_ = down.boundary()
			n, ev := down.next(r[off:])
			if n < 0 || n > len(r)-off {
				t.Fatalf("next consumed %d bytes of %d", n, len(r)-off)
			}
			if holder != nil {
				if h := holder.takeHold(); h > 0 {
					tr.events = append(tr.events, fmt.Sprintf("hold@%d %v", base+off, h))
				}
			}
			idle = progress(t, n, ev, idle)
			off += n
			switch ev {
			case evLost: // everything passes from the last response on, wherever the codec noticed
				tr.events = append(tr.events, "lost")
				return tr
			case evDone, evBeforeZ:
				tr.events = append(tr.events, fmt.Sprintf("%s@%d", evNames[ev], base+off))
			}
		}
		base += len(r)
	}
	return tr
}

var evNames = map[downEvent]string{evDone: "done", evBeforeZ: "beforeZ"}

// progress checks that a downstream call moved on (idle counts the calls
// in a row that consumed nothing) and returns the new idle count.
func progress(t *testing.T, n int, ev downEvent, idle int) int {
	switch {
	case n > 0:
		return 0
	case ev == evLost:
		return 0
	case ev == evDone:
		t.Fatal("a response ended before its first byte")
	case ev == evNone || idle > 0:
		t.Fatalf("next consumed nothing twice in a row (event %d): the stage would loop for ever", ev)
	}
	return idle + 1
}

// fuzzDown checks a downstream codec on one input, whole and in pieces.
func fuzzDown(t *testing.T, newDown func() downCodec, data []byte, chunk uint16) {
	whole := runDown(t, newDown(), [][]byte{data})
	cut := runDown(t, newDown(), pieces(data, int(chunk)))
	sameTrace(t, nil, nil, whole.events, cut.events, chunk)
}

// sameTrace fails when cutting the stream into reads changed what a codec
// did.
func sameTrace(t *testing.T, wholeOut, cutOut []byte, whole, cut []string, chunk uint16) {
	t.Helper()
	if !slices.Equal(wholeOut, cutOut) {
		t.Errorf("in reads of %d bytes the peer gets\n%q\nwhole it gets\n%q", chunk, cutOut, wholeOut)
	}
	if !slices.Equal(whole, cut) {
		t.Errorf("in reads of %d bytes:\n%s\nwhole:\n%s", chunk, strings.Join(cut, "\n"), strings.Join(whole, "\n"))
	}
}

// panicky and panickyDown are codecs with a bug: they panic on any input.
type panicky struct{}

func (panicky) next([]byte) upStep { panic("a parser bug") }
func (panicky) owes() bool         { return false }

type panickyDown struct{}

func (panickyDown) next([]byte) (int, downEvent) { panic("a parser bug") }
func (panickyDown) boundary() bool               { return true }

// greedy is a codec with a bug: it claims more than it was given.
type greedy struct{}

func (greedy) next(buf []byte) upStep { return upStep{n: len(buf) + 1} }
func (greedy) owes() bool             { return false }

// TestStagesSurviveCodecBugs: a codec that panics or claims bytes it was not
// given makes its stage give the connection up (a lost step or event), not
// take the proxy down; the fuzz targets keep the codecs from doing either.
func TestStagesSurviveCodecBugs(t *testing.T) {
	f := newFault(1, "bug", fuzzSpecs["redis"], 1)
	l := &link{c: &conn{p: &Proxy{log: zerolog.Nop()}}}
	for _, codec := range []upCodec{panicky{}, greedy{}} {
		u := &protoUpStage{f: f, l: l, s: &protoSession{up: codec, buf: []byte("PING\r\n")}}
		if st := u.nextStep(); st.lost == "" || st.n != 0 {
			t.Errorf("%T: step %+v, want the connection given up", codec, st)
		}
	}
	d := &protoDownStage{f: f, l: l, s: &protoSession{down: panickyDown{}}}
	if n, ev := d.nextEvent([]byte("+OK\r\n")); ev != evLost || n != 0 {
		t.Errorf("panicking response codec: %d bytes, event %d; want the connection given up", n, ev)
	}
}
