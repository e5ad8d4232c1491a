package proxy

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
)

// TestAtomicEncoding: the program's atomic instructions marshal with the
// immediate the kernel reads as fetch-and-add and compare-and-exchange
// (cilium/ebpf v0.22.0's own FetchAdd and CmpXchg marshal an immediate of 0,
// a plain add). Not parallel: a paused test of package proxy is a
// goroutine TestRunReturnsWithEverythingClosed would count.
func TestAtomicEncoding(t *testing.T) {
	cases := []struct {
		ins  asm.Instruction
		want []byte
	}{
		// stxdw [r0+0] fetch_add r1: opcode 0xdb, regs src=1 dst=0, imm 0x01
		{atomic64(asm.R0, asm.R1, bpfFetchAdd), []byte{0xdb, 0x10, 0, 0, 0x01, 0, 0, 0}},
		// stxdw [r8+0] cmpxchg r2: imm 0xf1
		{atomic64(asm.R8, asm.R2, bpfCmpXchg), []byte{0xdb, 0x28, 0, 0, 0xf1, 0, 0, 0}},
	}
	for _, c := range cases {
		var b bytes.Buffer
		if _, err := c.ins.Marshal(&b, binary.LittleEndian); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b.Bytes(), c.want) {
			t.Errorf("%v marshals as % x, want % x", c.ins, b.Bytes(), c.want)
		}
	}
}

// sockmapOK says why the sockmap fast path cannot be tested here, or nil.
func sockmapOK() error {
	sm, err := newSockmap(4)
	if err != nil {
		return err
	}
	sm.close()
	return nil
}

// TestSockmapGoesWithTheProxy: the proxy's maps and program exist while it
// runs and are gone from the kernel once it closed (nothing is pinned, and
// the sockmap's reference to its program does not keep either alive).
func TestSockmapGoesWithTheProxy(t *testing.T) {
	if err := sockmapOK(); err != nil {
		t.Skipf("the sockmap fast path is not available here: %v", err)
	}
	p, err := Listen(Config{Name: "gone", Upstream: "127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	if p.sm == nil {
		t.Fatal("no sockmap although the kernel offers it")
	}
	var mapIDs []ebpf.MapID
	for _, m := range []*ebpf.Map{p.sm.socks, p.sm.cookies, p.sm.state} {
		info, err := m.Info()
		if err != nil {
			t.Fatal(err)
		}
		id, _ := info.ID()
		mapIDs = append(mapIDs, id)
	}
	pinfo, err := p.sm.prog.Info()
	if err != nil {
		t.Fatal(err)
	}
	progID, _ := pinfo.ID()
	if got := p.Stats().FastPath; got != FastPathSockmap {
		t.Errorf("Stats().FastPath = %q, want %q", got, FastPathSockmap)
	}
	p.Close()
	// The kernel frees a program's maps after an RCU grace period: wait
	// for that, with a deadline that only catches a leak.
	deadline := time.Now().Add(10 * time.Second)
	for _, id := range mapIDs {
		for mapExists(id) {
			if time.Now().After(deadline) {
				t.Fatalf("map %d still exists 10s after Close", id)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	if prog, err := ebpf.NewProgramFromID(progID); err == nil {
		prog.Close()
		t.Errorf("program %d still exists after Close", progID)
	}
}

// mapExists reports whether a BPF map with that ID exists.
func mapExists(id ebpf.MapID) bool {
	m, err := ebpf.NewMapFromID(id)
	if err != nil {
		return false
	}
	m.Close()
	return true
}
