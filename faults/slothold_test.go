package faults

import (
	"context"
	"io"
	"net"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rs/zerolog"
)

// fakeSlots is a server of total connection slots in memory: a dial takes
// a slot until the hold closes it; clients (the test) take and free slots
// directly, and the server lists a client's address until the test says it
// noticed the client leave.
type fakeSlots struct {
	mu       sync.Mutex
	total    int
	used     int
	listed   map[string]bool
	attempts int
}

func (s *fakeSlots) String() string { return "fake server" }

func (s *fakeSlots) dial(context.Context) (net.Conn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts++
	if s.used >= s.total {
		return nil, errNoSlot
	}
	s.used++
	hold, server := net.Pipe()
	go func() { // the server's side: the slot is free once the hold hangs up
		_, _ = io.Copy(io.Discard, server)
		s.mu.Lock()
		s.used--
		s.mu.Unlock()
	}()
	return hold, nil
}

func (s *fakeSlots) hangUp(c net.Conn) { c.Close() }

func (s *fakeSlots) openProbe(ctx context.Context) (slotProbe, error) {
	c, err := s.dial(ctx)
	if err != nil {
		return nil, err
	}
	return &fakeProbe{s: s, c: c}, nil
}

func (s *fakeSlots) answer([]byte) ServerAnswer     { return Unknown }
func (s *fakeSlots) released(context.Context) error { return nil }
func (s *fakeSlots) free() int                      { s.mu.Lock(); defer s.mu.Unlock(); return s.total - s.used }
func (s *fakeSlots) client(addr string)             { s.mu.Lock(); s.used++; s.listed[addr] = true; s.mu.Unlock() }
func (s *fakeSlots) noticed(addr string) {
	s.mu.Lock()
	s.used--
	delete(s.listed, addr)
	s.mu.Unlock()
}
func (s *fakeSlots) tries() int                              { s.mu.Lock(); defer s.mu.Unlock(); return s.attempts }
func (p *fakeProbe) free(context.Context) (int, bool, error) { return p.s.free(), true, nil }
func (p *fakeProbe) close()                                  { p.c.Close() }

type fakeProbe struct {
	s *fakeSlots
	c net.Conn
}

func (p *fakeProbe) listed(_ context.Context, addrs []string) ([]string, error) {
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	var still []string
	for _, a := range addrs {
		if p.s.listed[a] {
			still = append(still, a)
		}
	}
	return still, nil
}

// runHold fills s and tops up until the returned stop is called.
func runHold(t *testing.T, s *fakeSlots) (*slotHold, func()) {
	t.Helper()
	h := newSlotHold(s, holdConfig{poll: time.Hour, pendingWait: time.Minute}, zerolog.Nop())
	ctx, cancel := context.WithCancel(context.Background())
	if err := h.start(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); h.run(ctx) }()
	if complete, err := h.waitFirst(ctx, time.Now().Add(time.Minute)); !complete || err != nil {
		t.Fatalf("fill: complete %v, %v", complete, err)
	}
	return h, func() { cancel(); <-done; h.release() }
}

// TestSlotHoldAdmitWaitsForClosedSlot: a proxied connection closed while the
// server still lists it (its slot not yet free) holds back a new connection's
// Admit until the server has let it go and the hold has taken its slot: when
// Admit returns, the server has no slot free.
func TestSlotHoldAdmitWaitsForClosedSlot(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		s := &fakeSlots{total: 10, listed: map[string]bool{}}
		s.client("10.0.0.1:1") // the service's connection, open before the fault
		h, stop := runHold(t, s)
		defer stop()
		if s.free() != 0 || h.count(nil).Held != 9 {
			t.Fatalf("after the fill: %d free, %d held; want 0, 9", s.free(), h.count(nil).Held)
		}
		h.Closed("10.0.0.1:1") // reset by the proxy: the server has not noticed yet
		admitted := make(chan struct{})
		go func() { defer close(admitted); h.Admit(context.Background()) }()
		synctest.Wait()
		select {
		case <-admitted:
			t.Fatal("Admit returned while the closed connection still held its slot")
		default:
		}
		s.noticed("10.0.0.1:1") // the server lets it go: a slot is free...
		<-admitted              // ...and taken by the hold before Admit returns
		if s.free() != 0 || h.count(nil).Held != 10 {
			t.Errorf("when Admit returned: %d free, %d held; want 0, 10", s.free(), h.count(nil).Held)
		}
	})
}

// TestSlotHoldQuiet: with nothing changing, neither polls nor Admits make a
// connection attempt: the probe says no slot is free.
func TestSlotHoldQuiet(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		s := &fakeSlots{total: 5, listed: map[string]bool{}}
		h, stop := runHold(t, s)
		defer stop()
		filled := s.tries()
		for range 10 {
			h.Admit(context.Background())
		}
		if got := s.tries() - filled; got != 0 || h.count(nil).Checks < 11 {
			t.Errorf("%d attempts over %d checks with nothing freed; want none", got, h.count(nil).Checks)
		}
	})
}
