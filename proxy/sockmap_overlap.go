package proxy

import (
	"errors"
	"fmt"
	"sync/atomic"
	"unsafe"

	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"
)

// # Segments that overlap what was already handed on
//
// TCP queues a segment that begins before rcv_nxt whole: a retransmission
// that covers bytes already received and some new ones (on loopback they
// follow reordering, when the sender's thread moved between CPUs), or an
// out-of-order segment that such a retransmission partly filled in. A
// reader that copies (tcp_recvmsg) starts at copied_seq and skips the old
// head; the sockmap's reader, tcp_read_skb, hands the verdict program the
// whole segment, and the old head would be forwarded (or passed to the
// proxy) a second time. That is how a 1 GB stream through the kernel path
// received a segment's worth of bytes twice, in about 1 run in 5.
//
// So the program keeps, per socket, nxt: the sequence number after the last
// byte it handed on. A segment that starts before nxt loses its first
// nxt-seq bytes (bpf_skb_adjust_room, at most 4095 bytes a call) before it
// is counted and sent on; its end moves nxt. The segment's numbers are
// TCP_SKB_CB(skb)->seq and ->end_seq, read through bpf_cast_to_kern_ctx.
// The first segment a socket's program sees starts nxt at the socket's
// copied_seq: what the proxy read before the socket joined the map, a
// partly read segment included (tcp_read_skb takes that whole too).

// State of a slot after the word and flip_at (see stateSize).
const (
	stNxt      = 16 // u64: bit 32 set once known, low 32 bits nxt
	stTrimmed  = 24 // u64: bytes removed from overlapping segments
	stTrimFail = 32 // u64: segments the program could not trim
)

// maxTrimCalls bounds the adjust_room calls for one segment: 256 × 4095
// bytes, about 1 MiB. A queued segment can be several coalesced ones (the
// bulk reproduction cut 261,932 bytes in one run); a longer overlap is
// counted (stTrimFail), handed on whole, and the proxy warns when it closes.
const maxTrimCalls = 256

// kernelLayout is what the program needs from the running kernel's BTF.
type kernelLayout struct {
	castKfunc btf.TypeID // bpf_cast_to_kern_ctx
	skbCB     int16      // offsetof(struct sk_buff, cb): TCP_SKB_CB's seq, then end_seq
	copiedSeq int16      // offsetof(struct tcp_sock, copied_seq)
	ctxSk     int16      // offsetof(struct __sk_buff, sk)
}

// errNoLayout says the kernel cannot tell the program where a segment starts.
var errNoLayout = errors.New("the kernel's BTF (/sys/kernel/btf/vmlinux) does not give the TCP segment layout the fast path needs to drop retransmitted bytes")

// loadKernelLayout reads the kernel's BTF.
func loadKernelLayout() (kernelLayout, error) {
	spec, err := btf.LoadKernelSpec()
	if err != nil {
		return kernelLayout{}, fmt.Errorf("%w: %w", errNoLayout, err)
	}
	var k kernelLayout
	var fn *btf.Func
	if err := spec.TypeByName("bpf_cast_to_kern_ctx", &fn); err != nil {
		return kernelLayout{}, fmt.Errorf("%w: bpf_cast_to_kern_ctx: %w", errNoLayout, err)
	}
	if k.castKfunc, err = spec.TypeID(fn); err != nil {
		return kernelLayout{}, fmt.Errorf("%w: %w", errNoLayout, err)
	}
	for _, f := range []struct {
		typ, member string
		off         *int16
	}{
		{"sk_buff", "cb", &k.skbCB},
		{"tcp_sock", "copied_seq", &k.copiedSeq},
		{"__sk_buff", "sk", &k.ctxSk},
	} {
		var st *btf.Struct
		if err := spec.TypeByName(f.typ, &st); err != nil {
			return kernelLayout{}, fmt.Errorf("%w: struct %s: %w", errNoLayout, f.typ, err)
		}
		off, ok := memberOffset(st, f.member)
		if !ok || off > 1<<15-8 {
			return kernelLayout{}, fmt.Errorf("%w: no %s in struct %s", errNoLayout, f.member, f.typ)
		}
		*f.off = int16(off)
	}
	return k, nil
}

// memberOffset finds a member by name in s, looking into anonymous structs
// and unions (tcp_sock groups its fields by cache line).
func memberOffset(t btf.Type, name string) (int, bool) {
	var members []btf.Member
	switch c := t.(type) {
	case *btf.Struct:
		members = c.Members
	case *btf.Union:
		members = c.Members
	default:
		return 0, false
	}
	for _, m := range members {
		if m.Name == name {
			return int(m.Offset.Bytes()), true
		}
		if m.Name != "" {
			continue
		}
		if off, ok := memberOffset(btf.UnderlyingType(m.Type), name); ok {
			return int(m.Offset.Bytes()) + off, true
		}
	}
	return 0, false
}

// overlapInstructions trims the old head of a segment (r6 the skb, r8 the
// slot's state, r9 its length) and reloads r9; it jumps to "drop" if
// nothing new is left. In C:
//
//	struct sk_buff *k = bpf_cast_to_kern_ctx(skb);
//	__u32 seq = TCP_SKB_CB(k)->seq, end = TCP_SKB_CB(k)->end_seq, nxt;
//	if (st->nxt & 1ULL << 32)
//		nxt = st->nxt;
//	else {                                  /* the socket's first segment */
//		struct tcp_sock *tp = skb->sk ? bpf_skc_to_tcp_sock(skb->sk) : NULL;
//		nxt = tp ? tp->copied_seq : seq;
//	}
//	st->nxt = 1ULL << 32 | ((__s32)(end - nxt) > 0 ? end : nxt);
//	__s64 d = (__s32)(nxt - seq);
//	if (d > 0) {
//		if (d > skb->len)
//			d = skb->len;
//		for (n = d / 4095; n > 0; n--)  /* n ≤ 64 */
//			if (bpf_skb_adjust_room(skb, -4095, 0, 0)) goto fail;
//		if (d % 4095 && bpf_skb_adjust_room(skb, -(d % 4095), 0, 0)) goto fail;
//		__sync_fetch_and_add(&st->trimmed, d);
//		...
//	fail:	__sync_fetch_and_add(&st->trim_fail, 1);
//		len = skb->len;
//		if (!len) return SK_DROP;
//	}
func overlapInstructions(k kernelLayout) asm.Instructions {
	castCall := asm.Instruction{
		OpCode: asm.OpCode(asm.JumpClass).SetJumpOp(asm.Call), Src: asm.PseudoKfuncCall,
		Constant: int64(k.castKfunc),
	}
	add := func(off int16) asm.Instruction { // *(u64 *)(r8 + off) += r1, atomically
		ins := asm.StoreXAdd(asm.R8, asm.R1, asm.DWord)
		ins.Offset = off
		return ins
	}
	return asm.Instructions{
		asm.Mov.Reg(asm.R1, asm.R6),
		castCall,
		asm.LoadMem(asm.R2, asm.R0, k.skbCB, asm.Word),   // seq
		asm.LoadMem(asm.R3, asm.R0, k.skbCB+4, asm.Word), // end_seq
		asm.StoreMem(asm.RFP, -24, asm.R2, asm.Word),
		asm.StoreMem(asm.RFP, -28, asm.R3, asm.Word),
		asm.LoadMem(asm.R4, asm.R8, stNxt, asm.DWord),
		asm.JNE.Imm(asm.R4, 0, "known"),
		asm.LoadMem(asm.R1, asm.R6, k.ctxSk, asm.DWord),
		asm.JEq.Imm(asm.R1, 0, "fresh"),
		asm.FnSkcToTcpSock.Call(),
		asm.JEq.Imm(asm.R0, 0, "fresh"),
		asm.LoadMem(asm.R4, asm.R0, k.copiedSeq, asm.Word),
		asm.Ja.Label("known"),
		asm.LoadMem(asm.R4, asm.RFP, -24, asm.Word).WithSymbol("fresh"),
		asm.Mov.Reg32(asm.R4, asm.R4).WithSymbol("known"), // nxt
		asm.LoadMem(asm.R2, asm.RFP, -24, asm.Word),
		asm.LoadMem(asm.R3, asm.RFP, -28, asm.Word),
		asm.Mov.Reg(asm.R5, asm.R3),
		asm.Sub.Reg32(asm.R5, asm.R4),
		asm.LSh.Imm(asm.R5, 32),
		asm.ArSh.Imm(asm.R5, 32), // (s32)(end - nxt)
		asm.Mov.Reg(asm.R0, asm.R4),
		asm.JSLE.Imm(asm.R5, 0, "keep"),
		asm.Mov.Reg(asm.R0, asm.R3),
		asm.Mov.Imm(asm.R1, 1).WithSymbol("keep"),
		asm.LSh.Imm(asm.R1, 32),
		asm.Or.Reg(asm.R0, asm.R1),
		asm.StoreMem(asm.R8, stNxt, asm.R0, asm.DWord),
		asm.Mov.Reg(asm.R5, asm.R4),
		asm.Sub.Reg32(asm.R5, asm.R2),
		asm.LSh.Imm(asm.R5, 32),
		asm.ArSh.Imm(asm.R5, 32), // d = (s32)(nxt - seq)
		asm.JSLE.Imm(asm.R5, 0, "counted"),
		asm.JLE.Reg(asm.R5, asm.R9, "clamped"),
		asm.Mov.Reg(asm.R5, asm.R9),
		asm.StoreMem(asm.RFP, -48, asm.R5, asm.DWord).WithSymbol("clamped"),
		asm.Mov.Reg(asm.R1, asm.R5),
		asm.Mod.Imm(asm.R1, 4095),
		asm.StoreMem(asm.RFP, -40, asm.R1, asm.DWord),
		asm.Mov.Reg(asm.R9, asm.R5),
		asm.Div.Imm(asm.R9, 4095),
		asm.JGT.Imm(asm.R9, maxTrimCalls, "trimfail"),
		asm.JEq.Imm(asm.R9, 0, "rest").WithSymbol("chunk"),
		asm.Mov.Reg(asm.R1, asm.R6),
		asm.Mov.Imm(asm.R2, -4095),
		asm.Mov.Imm(asm.R3, 0),
		asm.Mov.Imm(asm.R4, 0),
		asm.FnSkbAdjustRoom.Call(),
		asm.JNE.Imm(asm.R0, 0, "trimfail"),
		asm.Sub.Imm(asm.R9, 1),
		asm.Ja.Label("chunk"),
		asm.LoadMem(asm.R1, asm.RFP, -40, asm.DWord).WithSymbol("rest"),
		asm.JEq.Imm(asm.R1, 0, "trimmed"),
		asm.Mov.Imm(asm.R2, 0),
		asm.Sub.Reg(asm.R2, asm.R1),
		asm.Mov.Reg(asm.R1, asm.R6),
		asm.Mov.Imm(asm.R3, 0),
		asm.Mov.Imm(asm.R4, 0),
		asm.FnSkbAdjustRoom.Call(),
		asm.JNE.Imm(asm.R0, 0, "trimfail"),
		asm.LoadMem(asm.R1, asm.RFP, -48, asm.DWord).WithSymbol("trimmed"),
		add(stTrimmed),
		asm.Ja.Label("reload"),
		asm.Mov.Imm(asm.R1, 1).WithSymbol("trimfail"),
		add(stTrimFail),
		asm.LoadMem(asm.R9, asm.R6, 0, asm.Word).WithSymbol("reload"), // skb->len, trimmed
		asm.JEq.Imm(asm.R9, 0, "drop"),
	}
}

// overlaps returns the bytes the program removed from overlapping segments
// and the segments it could not trim, over every slot in use so far.
func (s *sockmap) overlaps() (trimmed, failed uint64) {
	s.mu.Lock()
	n := 2 * s.next
	s.mu.Unlock()
	for slot := range n {
		trimmed += atomic.LoadUint64((*uint64)(unsafe.Pointer(&s.mem[stateSize*slot+stTrimmed])))
		failed += atomic.LoadUint64((*uint64)(unsafe.Pointer(&s.mem[stateSize*slot+stTrimFail])))
	}
	return trimmed, failed
}

// resetNxt forgets slot's nxt before a new socket takes the slot.
func (s *sockmap) resetNxt(slot uint32) {
	atomic.StoreUint64((*uint64)(unsafe.Pointer(&s.mem[stateSize*slot+stNxt])), 0)
}
