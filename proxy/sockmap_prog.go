package proxy

import (
	"math"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
)

// The verdict program is written with cilium/ebpf's asm package rather than
// compiled from C with bpf2go: it is about 120 instructions, it needs no clang
// and no generated object in the repository, and it is assembled and loaded
// at run time on the kernel the proxy meets, with the few kernel offsets it
// reads (sockmap_overlap.go) looked up in that kernel's BTF rather than
// relocated from a compiled object. The same program in C (the trimming of
// overlapping segments, between the state lookup and the count, is in
// sockmap_overlap.go):
//
//	SEC("sk_skb/stream_verdict")
//	int verdict(struct __sk_buff *skb)
//	{
//		if (skb->len == 0)
//			return SK_DROP;  /* a bare FIN: redirected, it would break the peer's psock */
//		__u64 cookie = bpf_get_socket_cookie(skb);
//		__u32 *slot = bpf_map_lookup_elem(&cookies, &cookie);
//		if (!slot)
//			return SK_PASS;                     /* not the proxy's: user space */
//		__u32 i = *slot;
//		struct state *st = bpf_map_lookup_elem(&state, &i);
//		if (!st)
//			return SK_PASS;
//		__u64 old = __sync_fetch_and_add(&st->word, skb->len);
//		if (old >> 62)
//			return SK_PASS;                     /* USER or FULL: the proxy reads it */
//		__u64 r = old + skb->len;
//		if (r > BUDGET) {                       /* this period's budget is spent: */
//			st->flip_at = r;                    /* later segments go to the proxy */
//			if (__sync_val_compare_and_swap(&st->word, r, FULL) == r)
//				bpf_ringbuf_output(&ring, &i, 4, BPF_RB_FORCE_WAKEUP); /* wake its link */
//		}
//		return bpf_sk_redirect_map(skb, &socks, i ^ 1, 0); /* to the peer's send queue */
//	}

// sockmapSpec describes the maps and the program, slots sockets in all, for
// a kernel of layout k.
func sockmapSpec(slots uint32, k kernelLayout) *ebpf.CollectionSpec {
	return &ebpf.CollectionSpec{
		Maps: map[string]*ebpf.MapSpec{
			"socks":   {Name: "chaosload_socks", Type: ebpf.SockMap, KeySize: 4, ValueSize: 8, MaxEntries: slots},
			"cookies": {Name: "chaosload_cooki", Type: ebpf.Hash, KeySize: 8, ValueSize: 4, MaxEntries: slots, Flags: bpfNoPrealloc},
			"state":   {Name: "chaosload_state", Type: ebpf.Array, KeySize: 4, ValueSize: stateSize, MaxEntries: slots, Flags: bpfMmapable},
			"ring":    {Name: "chaosload_ring", Type: ebpf.RingBuf, MaxEntries: ringSize(slots)},
		},
		Programs: map[string]*ebpf.ProgramSpec{
			"verdict": {
				Name: "chaosload_verd", Type: ebpf.SkSKB, AttachType: ebpf.AttachSkSKBStreamVerdict,
				License: "Dual MIT/GPL", Instructions: verdictInstructions(k),
			},
		},
	}
}

// ringSize is the ring buffer's size for slots sockets: a power of two
// with room for two 16-byte records (header and slot) per socket. A slot
// writes one record per kernel period, and a period starts only after its
// link read the record that ended the last one (or left for a fault), so
// the ring never fills.
func ringSize(slots uint32) uint32 {
	n := uint32(4096)
	for n < 2*16*slots {
		n *= 2
	}
	return n
}

// bpfRBForceWakeup is BPF_RB_FORCE_WAKEUP: wake the reader for this record.
const bpfRBForceWakeup = 2

// Map flags (uapi/linux/bpf.h).
const (
	bpfNoPrealloc = 1 << 0
	bpfMmapable   = 1 << 10
)

// Return codes of an sk_skb program.
const (
	skDrop = 0
	skPass = 1
)

// verdictInstructions is the program above, k the kernel's layout it reads.
func verdictInstructions(k kernelLayout) asm.Instructions {
	ins := asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R1),              // r6 = skb
		asm.LoadMem(asm.R9, asm.R6, 0, asm.Word), // r9 = skb->len
		asm.JEq.Imm(asm.R9, 0, "drop"),
		asm.FnGetSocketCookie.Call(),
		asm.StoreMem(asm.RFP, -8, asm.R0, asm.DWord),
		asm.LoadMapPtr(asm.R1, 0).WithReference("cookies"),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -8),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "pass"),
		asm.LoadMem(asm.R7, asm.R0, 0, asm.Word), // r7 = slot
		asm.StoreMem(asm.RFP, -12, asm.R7, asm.Word),
		asm.LoadMapPtr(asm.R1, 0).WithReference("state"),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -12),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "pass"),
		asm.Mov.Reg(asm.R8, asm.R0), // r8 = st
	}
	ins = append(ins, overlapInstructions(k)...)
	return append(ins,
		asm.Mov.Reg(asm.R1, asm.R9).WithSymbol("counted"),
		atomic64(asm.R8, asm.R1, bpfFetchAdd), // r1 = old word; word += len
		asm.Mov.Reg(asm.R2, asm.R1),
		asm.RSh.Imm(asm.R2, 62),
		asm.JNE.Imm(asm.R2, 0, "pass"),
		asm.Add.Reg(asm.R1, asm.R9), // r1 = r: bytes redirected this period, this one included
		asm.JLE.Imm(asm.R1, sockmapBudget, "redirect"),
		asm.StoreMem(asm.R8, 8, asm.R1, asm.DWord), // st->flip_at = r
		asm.Mov.Reg(asm.R0, asm.R1),
		asm.LoadImm(asm.R2, math.MinInt64, asm.DWord), // modeFull, 1<<63
		atomic64(asm.R8, asm.R2, bpfCmpXchg),          // if st->word == r: st->word = FULL; r0 = old word
		asm.JNE.Reg(asm.R0, asm.R1, "redirect"),       // another segment made the switch
		asm.StoreMem(asm.RFP, -16, asm.R7, asm.Word),
		asm.LoadMapPtr(asm.R1, 0).WithReference("ring"),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -16),
		asm.Mov.Imm(asm.R3, 4),
		asm.Mov.Imm(asm.R4, bpfRBForceWakeup),
		asm.FnRingbufOutput.Call(), // the slot, to wake its link
		asm.Mov.Reg(asm.R1, asm.R6).WithSymbol("redirect"),
		asm.LoadMapPtr(asm.R2, 0).WithReference("socks"),
		asm.Mov.Reg(asm.R3, asm.R7),
		asm.Xor.Imm(asm.R3, 1), // the peer's slot
		asm.Mov.Imm(asm.R4, 0), // egress: the peer's send queue
		asm.FnSkRedirectMap.Call(),
		asm.Return(),
		asm.Mov.Imm(asm.R0, skPass).WithSymbol("pass"),
		asm.Return(),
		asm.Mov.Imm(asm.R0, skDrop).WithSymbol("drop"),
		asm.Return(),
	)
}

// Immediates of the atomic instructions (uapi/linux/bpf.h).
const (
	bpfFetchAdd = 0x00 | 0x01 // BPF_ADD | BPF_FETCH: src = fetch_add(*dst, src)
	bpfCmpXchg  = 0xf0 | 0x01 // BPF_CMPXCHG: r0 = cmpxchg(*dst, r0, src)
)

// atomic64 is the 64-bit atomic operation op on *(u64 *)dst with src.
// cilium/ebpf v0.22.0's asm.FetchAdd.Mem and asm.CmpXchg.Mem marshal with
// an immediate of 0 (Marshal reads the immediate before it folds the atomic
// operation into it), which loads as a plain atomic add. An atomic add with
// the immediate set by hand marshals as given; TestAtomicEncoding checks
// the bytes.
func atomic64(dst, src asm.Register, op int64) asm.Instruction {
	ins := asm.StoreXAdd(dst, src, asm.DWord)
	ins.Constant = op
	return ins
}
