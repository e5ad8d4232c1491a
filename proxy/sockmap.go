package proxy

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"github.com/cilium/ebpf"
	ebpflink "github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"
	"golang.org/x/sys/unix"
)

// The sockmap fast path. Where the kernel allows it, a connection with no
// fault on a link is not copied by the proxy at all: both of its sockets sit
// in a BPF sockmap with an sk_skb stream verdict program attached, and the
// kernel forwards each segment received on one socket to the other one's
// send queue (bpf_sk_redirect_map, egress). The proxy's goroutines sleep in
// the poller, and the runtime's epoll does not watch the sockets' reads
// meanwhile (sockmap_poller.go): the kernel wakes nobody for forwarded
// bytes, only for the end of the stream, an error, or the switch to FULL
// below (a ring buffer record).
//
//	client ──▶ C ──(verdict: redirect)──▶ U's psock backlog ──▶ U ──▶ server
//	client ◀── C ◀──(psock backlog)◀──(verdict: redirect)── U ◀── server
//
// Maps, one set per proxy, created by newSockmap and closed with the proxy
// (file descriptors only: nothing is pinned, so nothing outlives the
// process):
//
//	socks    SOCKMAP  slot → socket; a connection has the pair of slots
//	                  2k (client socket C) and 2k+1 (upstream socket U), so a
//	                  socket's peer is slot^1
//	cookies  HASH     socket cookie → slot
//	state    ARRAY    slot → one 64-bit word, mmapped into the proxy
//	                  (BPF_F_MMAPABLE) and shared with the program
//	ring     RINGBUF  the slots the program switched to FULL, read by
//	                  wakeFull, which wakes their links
//
// A slot's word is the state of the link that reads that socket: its top two
// bits are the mode, the other 62 a byte count.
//
//	KERNEL (0): the program adds the segment's length and redirects it to the
//	            peer; the count is the bytes forwarded since the link joined.
//	USER:       the program adds the length and passes the segment to the
//	            socket itself (its psock's ingress queue), where the proxy's
//	            read(2) finds it in order; the count only changes. Bit 61
//	            (veto) may be set: see joining below.
//	FULL:       as USER, set by the program itself when a period forwarded
//	            more than sockmapBudget (4 MiB); flip_at, the slot's second
//	            word, holds what the period forwarded.
//
// The program does one atomic fetch-and-add and decides on the mode it got
// back, so a segment is counted in exactly the period whose mode sent it on;
// the proxy changes a word only with compare-and-swap, so it reads the
// count of the period it ends without a race. The program drops a segment
// of length 0 (a bare FIN): redirected, the peer's backlog would take the
// empty send for a broken pipe and poison the peer socket with EPIPE.
//
// Why FULL: the kernel does not charge a redirected segment to any socket
// while it waits in the peer's backlog, so the sender's window never
// closes. A destination that stops reading made the backlog grow by about
// 1 GB/s here. After the budget the program passes segments to the source
// socket, where they are charged to its receive buffer (its window closes:
// back-pressure as on the copy path); the proxy wakes, waits for the
// backlog to drain, copies what was passed and joins again.
//
// # Hard parts, and how they are solved
//
// (a) Kernel → user (a fault arrives) without losing a byte. Inject's
// notify switches the word itself, before Inject returns, so no segment the
// kernel handles afterwards bypasses the fault; the link goroutine then
// does the rest. A socket is
// never deleted from the map while its connection lives: deleting it drops
// its psock, and with it every segment still queued in the psock (its
// ingress queue and its backlog of segments redirected to it), which would
// lose bytes. Leaving the kernel path is a mode change instead. The link
// swaps its word to USER: from that instant every segment is passed to the
// proxy, and the swap returns exactly how many bytes the kernel redirected
// before it. Those bytes may still sit in the peer's psock backlog, sent by
// a kernel worker, and a byte written by the proxy now could overtake them.
// So the link waits until the destination socket has accepted all of them:
// the bytes the proxy wrote to it plus the bytes redirected to it, against
// the socket's own count of bytes queued or acknowledged (TCP_INFO
// tcpi_bytes_acked read before SIOCOUTQ: a lower bound of its write_seq, so
// the wait never ends early), offset by that count when the socket joined
// the map. That is how the proxy knows the kernel path drained; it polls,
// from 20 µs doubling to 5 ms, because the backlog's progress raises no
// event a process can wait for. Then the pipeline starts.
//
// User → kernel (the last such fault is reverted): the pipeline drains
// first. The segments passed to the proxy are in the socket's ingress
// queue; bytes that arrived before the socket joined the map are still in
// its receive queue and never met the program. Both must be read and
// written before anything is redirected, or a redirected segment would
// overtake them. The link reads everything, then loads its word (USER and
// a count), reads the socket's tcpi_bytes_received, and if that equals the
// bytes it read plus the bytes ever redirected, swaps the word it loaded
// for KERNEL with a compare-and-swap. Any segment the program handled after
// the load changed the word, so the swap fails and the link reads again; a
// segment that arrived before the TCP_INFO read is in tcpi_bytes_received
// and must have been read. After the swap, every byte that reached the
// socket has been written to the destination, and the next segment is
// redirected behind it.
//
// (b) A socket in the map with a verdict program and a user-space reader:
// every segment that arrives after the socket joined is taken off the
// receive queue by the program, in softirq, before any reader can see it
// (both hold the socket lock), in order. The reader sees only what the
// program passed to the socket itself and, while those queues are empty,
// what arrived before the socket joined; the kernel never lets it read a
// later segment before an earlier one. On the kernel path the proxy never
// reads: it waits in the poller and peeks (MSG_PEEK) when woken, which
// finds the end of the stream or an error. A peek that finds data (which
// the program never passes on the kernel path) makes the link leave and
// join again, which copies that data in order rather than losing it.
// splice(2) reads the receive queue, which stays empty: links in the map
// never splice.
//
// (c) Counting bytes in BPF: the word's count, added atomically by the
// program and settled into the proxy's counters when the link leaves the
// kernel path (or the connection ends). Stats adds the counts of the links
// on the kernel path now, under the same lock the settling takes, so the
// per-target counters are exact and never go backwards. A forwarded byte is
// counted when it is redirected, a moment before the peer's backlog writes
// it.
//
// (d) Cleanup: the maps and the program are file descriptors held by the
// proxy; closing them when the proxy stops frees them (the sockmap lets go
// of its program when its last user reference goes). Closing a socket takes
// it out of the map; a connection's slots are emptied and its cookies
// deleted when it ends, before the pair is reused.

// A slot's state: the word, then flip_at (see FULL above), then what the
// program keeps against overlapping segments (sockmap_overlap.go).
const stateSize = 40

// Layout of a state word.
const (
	modeKernel uint64 = 0
	modeUser   uint64 = 1 << 62
	modeFull   uint64 = 2 << 62
	modeMask   uint64 = 3 << 62
	vetoBit    uint64 = 1 << 61 // USER only: a fault arrived, a join must not complete
	countMask  uint64 = vetoBit - 1
)

// sockmapBudget is how many bytes the kernel forwards on a link before it
// hands the link back to the proxy (FULL): the most that can wait in a
// destination's backlog when the destination does not read.
const sockmapBudget = 4 << 20

// sockmapPairs is how many connections one proxy can keep on the kernel
// path at once; the ones beyond stay on the copy path.
const sockmapPairs = 16384

// FastPath values of Stats.
const (
	FastPathSockmap = "sockmap"
	FastPathCopy    = "copy"
)

// sockmap is one proxy's set of maps and its verdict program, and the
// allocator of their slots.
type sockmap struct {
	socks, cookies, state, ring *ebpf.Map
	prog                        *ebpf.Program
	mem                         []byte // state, mmapped
	ringRd                      *ringbuf.Reader
	ringDone                    chan struct{}          // closed when wakeFull returned
	owners                      []atomic.Pointer[link] // by slot: the link reading that socket

	mu      sync.Mutex // guards the slots and the settling of word counts
	free    []uint32   // free pair numbers
	next    uint32     // pairs ever handed out
	inUse   []bool     // by pair
	full    sync.Once
	inKern  atomic.Int64 // links on the kernel path now
	quiet   atomic.Int64 // of them, links whose source's reads are quiet (sockmap_poller.go)
	closeMu sync.Once
}

// errSockmapPrivilege says what loading the program needs.
var errSockmapPrivilege = errors.New("needs root, or CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN")

// newSockmap creates the maps, loads the verdict program and attaches it.
// It fails on a kernel without sockmap support or without the privilege.
func newSockmap(pairs int) (*sockmap, error) {
	k, err := loadKernelLayout()
	if err != nil {
		return nil, err
	}
	spec := sockmapSpec(uint32(2*pairs), k)
	coll, err := ebpf.NewCollection(spec)
	if err != nil {
		return nil, explainBPF(err)
	}
	defer coll.Close()
	s := &sockmap{
		socks: coll.DetachMap("socks"), cookies: coll.DetachMap("cookies"), state: coll.DetachMap("state"),
		ring: coll.DetachMap("ring"), prog: coll.DetachProgram("verdict"), inUse: make([]bool, pairs),
		owners: make([]atomic.Pointer[link], 2*pairs),
	}
	if err := ebpflink.RawAttachProgram(ebpflink.RawAttachProgramOptions{
		Target: s.socks.FD(), Program: s.prog, Attach: ebpf.AttachSkSKBStreamVerdict,
	}); err != nil {
		s.close()
		return nil, explainBPF(fmt.Errorf("attach the stream verdict program: %w", err))
	}
	size := int(spec.Maps["state"].MaxEntries) * stateSize
	s.mem, err = unix.Mmap(s.state.FD(), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		s.close()
		return nil, fmt.Errorf("mmap the state map: %w", err)
	}
	if s.ringRd, err = ringbuf.NewReader(s.ring); err != nil {
		s.close()
		return nil, fmt.Errorf("read the ring buffer: %w", err)
	}
	s.ringDone = make(chan struct{})
	go s.wakeFull()
	return s, nil
}

// wakeFull wakes the link of each slot the program switched to FULL (its
// source socket's reads are quiet: nothing else would tell it), until the
// ring's reader is closed.
func (s *sockmap) wakeFull() {
	defer close(s.ringDone)
	var rec ringbuf.Record
	for {
		if err := s.ringRd.ReadInto(&rec); err != nil {
			if errors.Is(err, ringbuf.ErrClosed) {
				return
			}
			continue // a lost record is counted by the reader; the next read goes on
		}
		if len(rec.RawSample) < 4 {
			continue
		}
		slot := binary.NativeEndian.Uint32(rec.RawSample)
		if int(slot) < len(s.owners) {
			if l := s.owners[slot].Load(); l != nil {
				l.wakeUp()
			}
		}
	}
}

// explainBPF adds what is missing to a permission error.
func explainBPF(err error) error {
	if errors.Is(err, os.ErrPermission) || errors.Is(err, syscall.EPERM) {
		return fmt.Errorf("%w: %w", errSockmapPrivilege, err)
	}
	return err
}

// close releases the maps and the program. It is idempotent.
func (s *sockmap) close() {
	s.closeMu.Do(func() {
		if s.ringRd != nil {
			_ = s.ringRd.Close()
			if s.ringDone != nil {
				<-s.ringDone
			}
		}
		if s.mem != nil {
			_ = unix.Munmap(s.mem)
		}
		for _, c := range []interface{ Close() error }{s.prog, s.socks, s.cookies, s.state, s.ring} {
			if c != nil && !isNilCloser(c) {
				_ = c.Close()
			}
		}
	})
}

// isNilCloser reports whether c holds a nil pointer (DetachMap returns nil
// for a name it does not have).
func isNilCloser(c interface{ Close() error }) bool {
	switch v := c.(type) {
	case *ebpf.Map:
		return v == nil
	case *ebpf.Program:
		return v == nil
	}
	return false
}

// word returns the state word of slot, in the mmapped map.
func (s *sockmap) word(slot uint32) *uint64 {
	return (*uint64)(unsafe.Pointer(&s.mem[stateSize*slot]))
}

// flipAt returns slot's flip_at: the bytes redirected in the period the
// program ended by switching the word to FULL.
func (s *sockmap) flipAt(slot uint32) uint64 {
	return atomic.LoadUint64((*uint64)(unsafe.Pointer(&s.mem[stateSize*slot+8])))
}

// forwarded is what a word says the kernel redirected in the current
// period: its count on KERNEL, flip_at on FULL, nothing on USER.
func (s *sockmap) forwarded(slot uint32, w uint64) uint64 {
	switch w & modeMask {
	case modeKernel:
		return w & countMask
	case modeFull:
		return s.flipAt(slot)
	}
	return 0
}

// pair is one connection's place in the maps.
type pair struct {
	n       uint32    // pair number: slots 2n (client socket) and 2n+1 (upstream)
	cookies [2]uint64 // of the client and the upstream socket
}

// slot returns the slot of the socket that link direction dir reads: the
// client socket for upstream, the upstream socket for downstream.
func (pr pair) slot(dir int) uint32 { return 2*pr.n + uint32(dir) }

// add puts a connection's two sockets in the map, both read by user space
// (USER) until their links join. ok is false when every pair is taken.
func (s *sockmap) add(client, upstream int) (pr pair, ok bool, err error) {
	pr.n, ok = s.take()
	if !ok {
		return pair{}, false, nil
	}
	for i, fd := range []int{client, upstream} {
		if pr.cookies[i], err = unix.GetsockoptUint64(fd, unix.SOL_SOCKET, unix.SO_COOKIE); err != nil {
			s.remove(pr)
			return pair{}, true, fmt.Errorf("read the socket cookie: %w", err)
		}
		slot := pr.slot(i)
		atomic.StoreUint64(s.word(slot), modeUser)
		s.resetNxt(slot)
		if err := s.cookies.Put(pr.cookies[i], slot); err != nil {
			s.remove(pr)
			return pair{}, true, fmt.Errorf("add to the cookie map: %w", err)
		}
	}
	for i, fd := range []int{client, upstream} {
		if err := s.socks.Put(pr.slot(i), uint64(fd)); err != nil {
			s.remove(pr)
			return pair{}, true, fmt.Errorf("add to the sockmap: %w", err)
		}
	}
	return pr, true, nil
}

// take hands out a free pair number.
func (s *sockmap) take() (uint32, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n uint32
	switch {
	case len(s.free) > 0:
		n = s.free[len(s.free)-1]
		s.free = s.free[:len(s.free)-1]
	case int(s.next) < len(s.inUse):
		n = s.next
		s.next++
	default:
		return 0, false
	}
	s.inUse[n] = true
	return n, true
}

// remove takes a connection's sockets out of the maps (they are usually
// out already: closing a socket removes it) and frees the pair.
func (s *sockmap) remove(pr pair) {
	for i := range 2 {
		_ = s.socks.Delete(pr.slot(i))
		if pr.cookies[i] != 0 {
			_ = s.cookies.Delete(pr.cookies[i])
		}
		atomic.StoreUint64(s.word(pr.slot(i)), modeUser)
		s.owners[pr.slot(i)].Store(nil)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inUse[pr.n] = false
	s.free = append(s.free, pr.n)
}

// stop ends the kernel path of slot's link: the word becomes USER, so the
// program passes every later segment to the proxy, and the bytes the
// kernel redirected in the period are added to ctr, under the lock Stats
// takes (no snapshot counts them twice or not at all), and returned. On a
// word already USER it returns 0 and, with veto, marks the word so that a
// join in progress fails its compare-and-swap and looks at the faults
// again. Only compare-and-swap changes the word here: the program's
// fetch-and-add may land at any moment.
func (s *sockmap) stop(slot uint32, ctr *atomic.Uint64, veto bool) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.word(slot)
	for {
		old := atomic.LoadUint64(p)
		if old&modeMask == modeUser {
			if !veto || old&vetoBit != 0 || atomic.CompareAndSwapUint64(p, old, old|vetoBit) {
				return 0
			}
			continue
		}
		n := s.forwarded(slot, old)
		if atomic.CompareAndSwapUint64(p, old, modeUser) {
			ctr.Add(n)
			return n
		}
	}
}

// bytes returns the proxy's byte counters with the bytes the kernel is
// forwarding now for the links on the kernel path.
func (s *sockmap) bytes(ctr *[2]atomic.Uint64) [2]uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := [2]uint64{ctr[0].Load(), ctr[1].Load()}
	for n := range s.next {
		if !s.inUse[n] {
			continue
		}
		for dir := range 2 {
			slot := 2*n + uint32(dir)
			b[dir] += s.forwarded(slot, atomic.LoadUint64(s.word(slot)))
		}
	}
	return b
}
