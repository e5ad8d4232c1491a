package faults

import (
	"strconv"
	"strings"
	"time"

	"github.com/chaosload/chaosload/bytesize"
)

// The rules on the values of the data-path and protocol-aware kinds live
// here once, on the typed specs: CheckSpec. Validate applies them to a
// file's entry through Spec (its defaults filled in), and package proxy to a
// spec a caller built by hand before carrying it out, so an experiment file
// and a direct proxy call refuse and accept exactly the same values. The
// checks on *Fault that remain say how an entry is written (a byte rate
// where a share is due, a key one mode does not take).

// The limits of the specs' numbers. Package config names the same spans in
// its messages about a number that does not fit its Go type.
const (
	// MaxWait bounds a latency, jitter, delay or timeout.
	MaxWait = time.Hour
	// MinRTO and MaxRTO bound the loss model's first retransmission
	// timeout (Linux's own RTO tops out at 120 s).
	MinRTO = time.Millisecond
	MaxRTO = 2 * time.Minute
	// MaxLossRate keeps the loss model's consecutive losses (and so its
	// doubling RTO) finite in practice: beyond it TCP hardly moves at all.
	MaxLossRate = 0.5
	// MaxByteRate bounds a bandwidth limit, in bytes per second (1 TB/s:
	// no limit at all).
	MaxByteRate = 1e12
	// MaxBytes bounds a byte count of a fault (limit-data, memory, disk).
	MaxBytes = 1 << 40
	// MaxSliceSize bounds a slicer's slice and its variation.
	MaxSliceSize = 1 << 30
	// MaxConns bounds a connection count (conn-limit's max).
	MaxConns = 1_000_000
	// MaxSlots bounds the server slots pool exhaustion leaves free or
	// reserved.
	MaxSlots = 10_000
)

// Problems is every problem found in one spec; it is the error CheckSpec
// returns.
type Problems []Problem

func (ps Problems) Error() string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.Error()
	}
	return strings.Join(s, "; ")
}

// CheckSpec reports what is wrong with a data-path or protocol-aware spec,
// each problem named by the field's YAML key; nil when it is valid. A spec
// is checked with its defaults filled in, as Fault.Spec returns it; the
// zero values a proxy takes as their default (a Direction, a LossMode, an
// Excess) are valid too. Process and host specs are checked on the file's
// entry only (Validate).
func CheckSpec(s Spec) error {
	if ps := specProblems(s); len(ps) > 0 {
		return Problems(ps)
	}
	return nil
}

// CheckToxicity reports whether toxicity is a share of connections, in
// [0, 1].
func CheckToxicity(toxicity float64) error {
	if !isShare(toxicity) {
		return Problem{"toxicity", toxicityMsg}
	}
	return nil
}

const toxicityMsg = "must be between 0% and 100%"

func isShare(x float64) bool { return x >= 0 && x <= 1 } // false for NaN

// specProblems returns the problems of s, nil for a kind it has no rules
// for.
func specProblems(s Spec) []Problem {
	var ps problems
	switch s := s.(type) {
	case LatencySpec:
		ps.positiveWait("latency", s.Latency, "100ms")
		ps.jitter("jitter", s.Jitter, s.Latency, "latency")
		ps.direction(s.Direction)
	case BandwidthSpec:
		ps.byteRate("rate", s.Rate)
		ps.direction(s.Direction)
	case SlowCloseSpec:
		ps.positiveWait("delay", s.Delay, "2s")
		ps.direction(s.Direction)
	case TimeoutSpec:
		ps.wait("timeout", s.Timeout)
	case ResetPeerSpec:
		ps.wait("timeout", s.Timeout)
	case SlicerSpec:
		ps.slicer(s)
	case LimitDataSpec:
		ps.add(s.Bytes <= 0, "bytes", "is required and must be positive, e.g. 1MB")
		ps.bytes("bytes", s.Bytes, 1, MaxBytes)
		ps.direction(s.Direction)
	case LossSpec:
		ps.loss(s)
	case ConnLimitSpec:
		ps.add(s.Max < 1, "max", "is required and must be at least 1")
		ps.count("max", int64(s.Max), 1, MaxConns)
		ps.excess(s.OnExcess)
	case ConnectDelaySpec:
		ps.positiveWait("delay", s.Delay, "1s")
		ps.jitter("jitter", s.Jitter, s.Delay, "delay")
	case PoolExhaustionSpec:
		ps.add(s.LeaveFree < 0, "leaveFree", "must not be negative")
		ps.count("leaveFree", int64(s.LeaveFree), 0, MaxSlots)
		if s.Reserved != nil {
			ps.add(*s.Reserved < 0, "reserved", "must not be negative (0 takes the reserved slots too)")
			ps.count("reserved", int64(*s.Reserved), 0, MaxSlots)
		}
	default:
		ps.protocol(s)
	}
	return ps
}

// problems collects problems; add records one when bad holds, unless the
// field has one already (a field gets one message).
type problems []Problem

func (ps *problems) add(bad bool, field, msg string) {
	if bad && !ps.has(field) {
		*ps = append(*ps, Problem{field, msg})
	}
}

func (ps *problems) has(field string) bool {
	for _, p := range *ps {
		if p.Field == field {
			return true
		}
	}
	return false
}

// addNew appends the problems of fields that have none yet.
func (ps *problems) addNew(more []Problem) {
	for _, p := range more {
		ps.add(true, p.Field, p.Msg)
	}
}

func (ps *problems) direction(d Direction) {
	switch d {
	case "", Upstream, Downstream, Both:
	default:
		ps.add(true, "direction", "must be upstream, downstream or both")
	}
}

func (ps *problems) excess(e Excess) {
	switch e {
	case "", Refuse, Queue:
	default:
		ps.add(true, "onExcess", "must be refuse (reset at once) or queue (wait until a connection closes)")
	}
}

// positiveWait checks a required duration: above 0, at most MaxWait.
func (ps *problems) positiveWait(field string, d time.Duration, example string) {
	ps.add(d <= 0, field, "is required and must be positive (e.g. "+example+")")
	ps.wait(field, d)
}

// wait checks a duration in [0, MaxWait].
func (ps *problems) wait(field string, d time.Duration) {
	ps.add(d < 0, field, "must not be negative")
	ps.durationIn(field, d, 0, MaxWait)
}

// jitter checks a jitter in [0, of], the duration called name it varies.
func (ps *problems) jitter(field string, j, of time.Duration, name string) {
	ps.add(j < 0 || j > of, field, "must be between 0 and "+name)
}

func (ps *problems) slicer(s SlicerSpec) {
	ps.add(s.Size <= 0, "size", "is required and must be positive: the average slice, e.g. 64B")
	ps.bytes("size", int64(s.Size), 1, MaxSliceSize)
	ps.add(s.SizeVariation < 0 || (s.Size > 0 && s.SizeVariation >= s.Size), "sizeVariation",
		"must be at least 0 and smaller than size")
	ps.wait("delay", s.Delay)
	ps.direction(s.Direction)
}

func (ps *problems) loss(s LossSpec) {
	switch {
	case !(s.Rate > 0):
		ps.add(true, "rate", "is required: the share of packets lost, above 0%, e.g. 5%")
	case s.Rate > MaxLossRate:
		ps.add(true, "rate", "must be at most 50%: beyond that TCP connections hardly move at all; use timeout for a black hole")
	}
	switch s.Mode {
	case "", Model:
		ps.durationIn("rto", s.RTO, MinRTO, MaxRTO)
	case Kernel: // the kernel's own TCP times retransmissions: RTO is not used
		ps.add(s.Direction != "" && s.Direction != Both, "direction", "mode: kernel drops packets both ways; remove direction")
	default:
		ps.add(true, "mode", "must be model (held chunks, works anywhere) or kernel (real packet drops; Linux, root, nftables)")
	}
	ps.direction(s.Direction)
}

// durationIn checks d in [lo, hi].
func (ps *problems) durationIn(field string, d, lo, hi time.Duration) {
	ps.add(d < lo || d > hi, field, outOfRange(d.String(), lo.String(), hi.String()))
}

// bytes checks a byte count in [lo, hi].
func (ps *problems) bytes(field string, n, lo, hi int64) {
	b := func(n int64) string { return bytesize.Size(n).String() }
	ps.add(n < lo || n > hi, field, outOfRange(b(n), b(lo), b(hi)))
}

// count checks a plain number in [lo, hi].
func (ps *problems) count(field string, n, lo, hi int64) {
	c := strconv.FormatInt
	ps.add(n < lo || n > hi, field, outOfRange(c(n, 10), c(lo, 10), c(hi, 10)))
}

// byteRate checks a bandwidth in [1 B/s, MaxByteRate].
func (ps *problems) byteRate(field string, r float64) {
	bps := func(r float64) string { return Rate{PerSecond: r}.String() }
	ps.add(!(r >= 1 && r <= MaxByteRate), field, outOfRange(bps(r), bps(1), bps(MaxByteRate)))
}

// outOfRange is the message of a number outside its span, written as the
// field is written; package config words its own spans alike.
func outOfRange(v, lo, hi string) string {
	return v + " is out of range; valid: " + lo + " to " + hi
}
