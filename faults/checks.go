package faults

import "time"

// The checks of each kind's parameters, beyond "is it a parameter of this
// kind" (Validate). Each returns every problem it finds, named by YAML key.

// problems collects problems; add records one when bad holds.
type problems []Problem

func (ps *problems) add(bad bool, field, msg string) {
	if bad {
		*ps = append(*ps, Problem{field, msg})
	}
}

func checkDirection(ps *problems, d Direction) {
	switch d {
	case "", Upstream, Downstream, Both:
	default:
		ps.add(true, "direction", "must be upstream, downstream or both")
	}
}

func checkLatency(f *Fault) []Problem {
	var ps problems
	ps.add(f.Latency <= 0, "latency", "is required and must be positive (e.g. 100ms)")
	ps.add(f.Jitter < 0 || f.Jitter > f.Latency, "jitter", "must be between 0 and latency")
	checkDirection(&ps, f.Direction)
	return ps
}

func checkBandwidth(f *Fault) []Problem {
	var ps problems
	switch {
	case f.Rate.IsZero():
		ps.add(true, "rate", "is required: a byte rate per connection, e.g. 64KB/s")
	case f.Rate.Share != 0:
		ps.add(true, "rate", "bandwidth takes a byte rate such as 64KB/s or 1MB/s, not a share ("+f.Rate.String()+")")
	}
	checkDirection(&ps, f.Direction)
	return ps
}

func checkSlowClose(f *Fault) []Problem {
	var ps problems
	ps.add(f.Delay <= 0, "delay", "is required and must be positive (e.g. 2s)")
	checkDirection(&ps, f.Direction)
	return ps
}

func checkTimeout(f *Fault) []Problem {
	var ps problems
	ps.add(f.Timeout < 0, "timeout", "must not be negative")
	return ps
}

func checkSlicer(f *Fault) []Problem {
	var ps problems
	ps.add(f.Size <= 0, "size", "is required and must be positive: the average slice, e.g. 64B")
	ps.add(f.SizeVariation < 0 || (f.Size > 0 && f.SizeVariation >= f.Size), "sizeVariation",
		"must be at least 0 and smaller than size")
	ps.add(f.Delay < 0, "delay", "must not be negative")
	checkDirection(&ps, f.Direction)
	return ps
}

func checkLimitData(f *Fault) []Problem {
	var ps problems
	ps.add(f.Bytes <= 0, "bytes", "is required and must be positive, e.g. 1MB")
	checkDirection(&ps, f.Direction)
	return ps
}

// maxLossRate keeps the loss model's consecutive losses (and so its
// doubling RTO) finite in practice.
const maxLossRate = 0.5

func checkLoss(f *Fault) []Problem {
	var ps problems
	switch {
	case f.Rate.IsZero():
		ps.add(true, "rate", "is required: the share of packets lost, e.g. 5%")
	case f.Rate.PerSecond != 0:
		ps.add(true, "rate", "loss takes a share such as 5%, not a byte rate ("+f.Rate.String()+")")
	case f.Rate.Share > maxLossRate:
		ps.add(true, "rate", "must be at most 50%: beyond that TCP connections hardly move at all; use timeout for a black hole")
	}
	ps.add(f.RTO < 0, "rto", "must not be negative")
	ps.add(f.RTO > 0 && f.RTO < time.Millisecond, "rto", "must be at least 1ms")
	switch f.Mode {
	case "", Model:
	case Kernel:
		ps.add(f.RTO != 0, "rto", "is the model's retransmission timeout; with mode: kernel the kernel's own TCP times retransmissions")
		ps.add(f.Direction != "" && f.Direction != Both, "direction", "mode: kernel drops packets both ways; remove direction")
	default:
		ps.add(true, "mode", "must be model (held chunks, works anywhere) or kernel (real packet drops; Linux, root, nftables)")
	}
	checkDirection(&ps, f.Direction)
	return ps
}

func checkConnLimit(f *Fault) []Problem {
	var ps problems
	ps.add(f.Max <= 0, "max", "is required and must be at least 1")
	switch f.OnExcess {
	case "", Refuse, Queue:
	default:
		ps.add(true, "onExcess", "must be refuse (reset at once) or queue (wait until a connection closes)")
	}
	return ps
}

func checkConnectDelay(f *Fault) []Problem {
	var ps problems
	ps.add(f.Delay <= 0, "delay", "is required and must be positive (e.g. 1s)")
	ps.add(f.Jitter < 0 || f.Jitter > f.Delay, "jitter", "must be between 0 and delay")
	return ps
}

func checkPoolExhaustion(f *Fault) []Problem {
	var ps problems
	ps.add(f.LeaveFree < 0, "leaveFree", "must not be negative")
	ps.add(f.Reserved != nil && *f.Reserved < 0, "reserved", "must not be negative (0 takes the reserved slots too)")
	return ps
}
