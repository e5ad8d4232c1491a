package proxy

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chaosload/chaosload/faults"
)

// TestSockmapStreamSurvivesFaultChanges: six connections stream numbered,
// checksummed records both ways through a proxy on the sockmap fast path
// while a latency fault (both directions, toxicity 50%) is applied and
// reverted 1,000 times. Each apply and each revert is waited for: the
// selected connections' links have left the kernel path, then joined it
// again. Every record arrives once, in order and intact, in both
// directions; the proxy's byte counters equal what the clients and the
// server sent; the connections the fault never selected never left the
// kernel path for a fault.
func TestSockmapStreamSurvivesFaultChanges(t *testing.T) {
	if err := sockmapOK(); err != nil {
		t.Skipf("the sockmap fast path is not available here: %v", err)
	}
	const nconns, cycles, seed = 6, 1000, 7 // seed 7 selects 3 of the 6
	up := startStreamServer(t)
	p := startTestProxy(t, Config{Name: "stream", Upstream: up.addr(), Seed: seed})
	clients := make([]*streamPeer, nconns)
	for i := range clients {
		c, err := net.Dial("tcp", p.Addr())
		if err != nil {
			t.Fatal(err)
		}
		clients[i] = newStreamPeer(c.(*net.TCPConn))
	}
	// Accept order is dial order: connection i has accept sequence i+1.
	selected := make([]bool, nconns)
	key := faultKey(seed, "lat")
	nsel := 0
	for i := range selected {
		selected[i] = selects(key, uint64(i+1), 0.5)
		if selected[i] {
			nsel++
		}
	}
	if nsel == 0 || nsel == nconns {
		t.Fatalf("seed %d selects %d of %d connections: the test needs some of each", seed, nsel, nconns)
	}
	waitKernelLinks(t, p, 2*nconns)
	spec := faults.LatencySpec{Latency: 200 * time.Microsecond, Direction: faults.Both}
	for range cycles {
		revert, err := p.Inject(context.Background(), "lat", spec, 0.5)
		if err != nil {
			t.Fatal(err)
		}
		waitKernelLinks(t, p, int64(2*(nconns-nsel)))
		if err := revert(context.Background()); err != nil {
			t.Fatal(err)
		}
		waitKernelLinks(t, p, 2*nconns)
	}
	exits, refills := linkExits(p)
	for _, c := range clients {
		c.finish()
	}
	var sentUp, sentDown uint64
	for i, c := range clients {
		if err := c.wait(); err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		sentUp += c.sent.Load()
		sentDown += c.got.Load()
	}
	if err := up.wait(nconns); err != nil {
		t.Fatal(err)
	}
	if up.got.Load() != sentUp || up.sent.Load() != sentDown {
		t.Errorf("server got %d of %d bytes sent up, clients got %d of %d sent down",
			up.got.Load(), sentUp, sentDown, up.sent.Load())
	}
	s := p.Stats()
	if s.BytesUp != sentUp || s.BytesDown != sentDown {
		t.Errorf("Stats: %d bytes up, %d down; the peers sent %d and %d", s.BytesUp, s.BytesDown, sentUp, sentDown)
	}
	for i := range clients {
		seq := uint64(i + 1)
		switch {
		case selected[i] && exits[seq]+refills[seq] < 2*cycles: // a refill may coincide with a fault
			t.Errorf("connection %d (selected) left the kernel path %d times for the fault and %d after 4 MiB, want ≥ %d in all",
				seq, exits[seq], refills[seq], 2*cycles)
		case !selected[i] && exits[seq] != 0:
			t.Errorf("connection %d (never selected) left the kernel path %d times for a fault", seq, exits[seq])
		}
	}
	t.Logf("%d cycles; %d of %d connections selected; %d MB up, %d MB down, every record once and in order; "+
		"links handed back after 4 MiB (budget): %v", cycles, nsel, nconns, sentUp>>20, sentDown>>20, refills)
}

// startTestProxy runs a proxy until the test ends.
func startTestProxy(t *testing.T, cfg Config) *Proxy {
	t.Helper()
	p, err := Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return p
}

// waitKernelLinks waits until n link directions are on the kernel path.
func waitKernelLinks(t *testing.T, p *Proxy, n int64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for p.Stats().KernelLinks != n {
		if time.Now().After(deadline) {
			t.Fatalf("after 20s: %d links on the kernel path, want %d", p.Stats().KernelLinks, n)
		}
		time.Sleep(50 * time.Microsecond)
	}
}

// linkExits returns, per connection, how many times its links left the
// kernel path for a fault, and how many times the budget or stray data
// handed them back.
func linkExits(p *Proxy) (exits map[uint64]int, refills map[uint64]int) {
	exits, refills = map[uint64]int{}, map[uint64]int{}
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.mu.Lock()
		for _, l := range c.links {
			if l != nil && l.k != nil {
				exits[c.seq] += l.k.faultExits
				refills[c.seq] += l.k.refills
			}
		}
		c.mu.Unlock()
	}
	return exits, refills
}

// A stream of records: seq (8 bytes), length (2), payload, CRC-32 of seq
// and payload (4). The payload of record seq is its length bytes counting
// up from seq; lengths cycle through 1..4096 so that records straddle
// segments.
func record(seq uint64) []byte {
	n := int(seq%4096) + 1
	b := make([]byte, 10+n+4)
	binary.BigEndian.PutUint64(b, seq)
	binary.BigEndian.PutUint16(b[8:], uint16(n))
	for i := range n {
		b[10+i] = byte(seq + uint64(i))
	}
	binary.BigEndian.PutUint32(b[10+n:], crc32.ChecksumIEEE(append(b[:8:8], b[10:10+n]...)))
	return b
}

// readRecords reads records until EOF and checks that they are numbered
// 0, 1, 2, … and intact; it counts the bytes in got.
func readRecords(r io.Reader, got *atomic.Uint64) error {
	br := bufio.NewReaderSize(r, 64<<10)
	for want := uint64(0); ; want++ {
		var head [10]byte
		if _, err := io.ReadFull(br, head[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("record %d: %w", want, err)
		}
		seq, n := binary.BigEndian.Uint64(head[:]), int(binary.BigEndian.Uint16(head[8:]))
		rest := make([]byte, n+4)
		if _, err := io.ReadFull(br, rest); err != nil {
			return fmt.Errorf("record %d: %w", want, err)
		}
		if seq != want {
			return fmt.Errorf("record %d arrived where record %d was due", seq, want)
		}
		if string(append(head[:], rest...)) != string(record(seq)) {
			return fmt.Errorf("record %d arrived damaged", seq)
		}
		got.Add(uint64(10 + n + 4))
	}
}

// streamPeer streams records one way and checks the records coming the
// other way, on one connection.
type streamPeer struct {
	c         *net.TCPConn
	stop      chan struct{}
	wg        sync.WaitGroup
	sent, got atomic.Uint64
	errs      [2]error
}

func newStreamPeer(c *net.TCPConn) *streamPeer {
	s := &streamPeer{c: c, stop: make(chan struct{})}
	s.wg.Go(func() { s.errs[0] = s.write() })
	s.wg.Go(func() { s.errs[1] = readRecords(c, &s.got) })
	return s
}

// write sends records, paced a little, until finish; then half-closes.
func (s *streamPeer) write() error {
	defer s.c.CloseWrite()
	for seq := uint64(0); ; seq++ {
		select {
		case <-s.stop:
			return nil
		default:
		}
		b := record(seq)
		if _, err := s.c.Write(b); err != nil {
			return fmt.Errorf("write record %d: %w", seq, err)
		}
		s.sent.Add(uint64(len(b)))
		if seq%2 == 1 {
			time.Sleep(time.Millisecond) // ≤ 4 MB/s: the streams must not starve the test on 2 cores
		}
	}
}

// finish stops the writer (the reader runs until the peer half-closes).
func (s *streamPeer) finish() { close(s.stop) }

// wait waits for both directions, with a deadline that only catches a
// hang, and closes the connection.
func (s *streamPeer) wait() error {
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		s.c.Close()
		<-done
		return errors.New("the stream did not end within 30s of the half-close")
	}
	s.c.Close()
	return errors.Join(s.errs[0], s.errs[1])
}

// streamServer answers every connection with its own record stream and
// checks the client's; it half-closes when the client did.
type streamServer struct {
	ln        net.Listener
	mu        sync.Mutex
	peers     []*streamPeer
	arrived   chan struct{}
	sent, got atomic.Uint64
	wg        sync.WaitGroup
}

func startStreamServer(t *testing.T) *streamServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &streamServer{ln: ln, arrived: make(chan struct{}, 64)}
	s.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			peer := &streamPeer{c: c.(*net.TCPConn), stop: make(chan struct{})}
			peer.wg.Go(func() {
				peer.errs[1] = readRecords(peer.c, &peer.got)
				close(peer.stop) // the client is done: finish our side
			})
			peer.wg.Go(func() { peer.errs[0] = peer.write() })
			s.mu.Lock()
			s.peers = append(s.peers, peer)
			s.mu.Unlock()
			s.arrived <- struct{}{}
		}
	})
	t.Cleanup(func() {
		ln.Close()
		s.wg.Wait()
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, p := range s.peers {
			p.c.Close()
		}
	})
	return s
}

func (s *streamServer) addr() string { return s.ln.Addr().String() }

// wait waits for n connections to end and checks them.
func (s *streamServer) wait(n int) error {
	for range n {
		<-s.arrived
	}
	s.mu.Lock()
	peers := s.peers
	s.mu.Unlock()
	var errs []error
	for i, p := range peers {
		if err := p.wait(); err != nil {
			errs = append(errs, fmt.Errorf("server side of connection %d: %w", i, err))
		}
		s.sent.Add(p.sent.Load())
		s.got.Add(p.got.Load())
	}
	return errors.Join(errs...)
}
