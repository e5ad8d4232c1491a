package proxy_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/chaosload/chaosload/faults"
	"github.com/chaosload/chaosload/proxy"
)

// TestSwitchingPathsLosesNoByte streams 8 MiB through an echo upstream while
// latency faults (upstream, downstream, both, overlapping, one that selects
// no connection) are injected and reverted about 60 times mid-stream, moving
// both links between the fast path and pipelines of one or two stages. What
// comes back must be the same bytes in the same order, and the live byte
// counters must match.
func TestSwitchingPathsLosesNoByte(t *testing.T) {
	up := serveTCP(t, echo)
	p := startProxy(t, proxy.Config{Name: "switch", Upstream: up.Addr(), Seed: 3})
	c := dial(t, p.Addr())
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 8<<20)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}

	type result struct {
		got []byte
		err error
	}
	res := make(chan result, 1)
	go func() {
		c.SetReadDeadline(time.Now().Add(60 * time.Second))
		got, err := io.ReadAll(c)
		res <- result{got, err}
	}()

	specs := []faults.LatencySpec{
		{Latency: time.Millisecond, Jitter: time.Millisecond, Direction: faults.Both},
		{Latency: 2 * time.Millisecond, Direction: faults.Upstream},
		{Latency: 500 * time.Microsecond, Jitter: 500 * time.Microsecond, Direction: faults.Downstream},
	}
	sw := &switcher{t: t, p: p}
	defer sw.revertAll()
	for off := 0; off < len(data); {
		n := min(1+rng.IntN(16<<10), len(data)-off)
		if _, err := c.Write(data[off : off+n]); err != nil {
			t.Fatalf("write at %d: %v", off, err)
		}
		off += n
		if rng.IntN(16) == 0 {
			sw.toggle(specs[sw.count%len(specs)], rng.IntN(8) == 0)
			time.Sleep(2 * time.Millisecond) // let the links see each state, not just the last
		}
	}
	sw.revertAll()
	c.CloseWrite()
	r := <-res
	if r.err != nil {
		t.Fatalf("read back: %v", r.err)
	}
	if !bytes.Equal(r.got, data) {
		t.Fatalf("got %d bytes (sha256 %x), want %d (sha256 %x); first difference at %d",
			len(r.got), sha256.Sum256(r.got), len(data), sha256.Sum256(data), firstDiff(r.got, data))
	}
	t.Logf("%d fault changes during the stream", sw.count)
	if sw.count < 20 {
		t.Errorf("only %d fault changes happened", sw.count)
	}
	st := p.Stats()
	var delayed int64
	for _, f := range st.Faults {
		delayed += f.ChunksDelayed
	}
	t.Logf("%d path switches, %d chunks delayed", st.Switches, delayed)
	if st.Switches < 20 || delayed == 0 {
		t.Errorf("the links did not move between paths: %d switches, %d chunks delayed", st.Switches, delayed)
	}
	if st.BytesUp != uint64(len(data)) || st.BytesDown != uint64(len(data)) {
		t.Errorf("byte counters up %d down %d, want %d each", st.BytesUp, st.BytesDown, len(data))
	}
}

// switcher injects and reverts latency faults, keeping up to two active.
type switcher struct {
	t      *testing.T
	p      *proxy.Proxy
	active []faults.Revert
	count  int
}

// toggle reverts the oldest fault when two are active and otherwise injects
// spec (with toxicity 0, selecting no connection, when none is true).
func (s *switcher) toggle(spec faults.LatencySpec, none bool) {
	s.count++
	if len(s.active) == 2 {
		if err := s.active[0](context.Background()); err != nil {
			s.t.Fatal(err)
		}
		s.active = s.active[1:]
		return
	}
	toxicity := 1.0
	if none {
		toxicity = 0
	}
	undo, err := s.p.Inject(context.Background(), fmt.Sprintf("f%d", s.count), spec, toxicity)
	if err != nil {
		s.t.Fatal(err)
	}
	s.active = append(s.active, undo)
}

func (s *switcher) revertAll() {
	for _, undo := range s.active {
		undo(context.Background())
	}
	s.active = nil
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
