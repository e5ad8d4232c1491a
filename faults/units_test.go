package faults

import (
	"strings"
	"testing"
	"time"
)

func TestParseRate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want Rate
		err  string
	}{
		// a byte rate for bandwidth
		{"64KB/s", Rate{PerSecond: 64000}, ""},
		{"1MiB/s", Rate{PerSecond: 1 << 20}, ""},
		{"1.5KB/s", Rate{PerSecond: 1500}, ""},
		// a share for loss
		{"5%", Rate{Share: 0.05}, ""},
		// a bare number is ambiguous
		{"5", Rate{}, "has no unit"},
		// no rate of nothing
		{"0%", Rate{}, "above 0%"},
		{"0KB/s", Rate{}, "positive byte rate"},
		// a size is not a rate
		{"64KB", Rate{}, "has no unit"},
		{"fast/s", Rate{}, "positive byte rate"},
	}
	for _, tc := range tests {
		got, err := ParseRate(tc.in)
		switch {
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("ParseRate(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("ParseRate(%q): error %v, want one containing %q", tc.in, err, tc.err)
		}
	}
}

// TestValidateCatalogue checks each kind's parameters: one commented row per
// rule.
func TestValidateCatalogue(t *testing.T) {
	t.Parallel()
	base := func(k Kind) Fault { return Fault{Name: "f", Target: "t", Kind: k} }
	with := func(k Kind, set func(*Fault)) Fault { f := base(k); set(&f); return f }
	tests := []struct {
		name  string
		f     Fault
		field string // "" = valid
		msg   string
	}{
		// bandwidth takes a byte rate...
		{"bandwidth ok", with(Bandwidth, func(f *Fault) { f.Rate = Rate{PerSecond: 64000} }), "", ""},
		// ...is required...
		{"bandwidth no rate", base(Bandwidth), "rate", "is required"},
		// ...and is not a share
		{"bandwidth share", with(Bandwidth, func(f *Fault) { f.Rate = Rate{Share: 0.05} }), "rate", "not a share"},
		// loss takes a share, not a byte rate
		{"loss bytes", with(Loss, func(f *Fault) { f.Rate = Rate{PerSecond: 1} }), "rate", "not a byte rate"},
		// loss beyond 50% is refused
		{"loss 80%", with(Loss, func(f *Fault) { f.Rate = Rate{Share: 0.8} }), "rate", "at most 50%"},
		// loss modes are a closed set
		{"loss mode", with(Loss, func(f *Fault) { f.Rate = Rate{Share: 0.05}; f.Mode = "netem" }), "mode", "model"},
		// kernel loss has the kernel's RTO
		{"kernel rto", with(Loss, func(f *Fault) { f.Rate = Rate{Share: 0.05}; f.Mode = Kernel; f.RTO = time.Second }), "rto", "kernel's own"},
		// kernel loss drops both ways
		{"kernel dir", with(Loss, func(f *Fault) { f.Rate = Rate{Share: 0.05}; f.Mode = Kernel; f.Direction = Upstream }), "direction", "both ways"},
		// slicer needs a size bigger than its variation
		{"slicer variation", with(Slicer, func(f *Fault) { f.Size = 10; f.SizeVariation = 10 }), "sizeVariation", "smaller than size"},
		// limit-data needs bytes
		{"limit-data", base(LimitData), "bytes", "is required"},
		// conn-limit needs max and a known onExcess
		{"conn-limit max", base(ConnLimit), "max", "at least 1"},
		{"conn-limit excess", with(ConnLimit, func(f *Fault) { f.Max = 1; f.OnExcess = "drop" }), "onExcess", "refuse"},
		// connect-delay jitter stays within the delay
		{"connect-delay jitter", with(ConnectDelay, func(f *Fault) { f.Delay = time.Second; f.Jitter = 2 * time.Second }), "jitter", "between 0 and delay"},
		// slow-close needs its delay
		{"slow-close", base(SlowClose), "delay", "is required"},
		// timeout 0 is valid: a black hole that never closes
		{"timeout 0", base(Timeout), "", ""},
		// a parameter of another kind is named as such
		{"foreign", with(Timeout, func(f *Fault) { f.Bytes = 5 }), "bytes", `not a parameter of kind "timeout"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ps := tc.f.Validate()
			if tc.field == "" {
				if len(ps) != 0 {
					t.Fatalf("want valid, got %v", ps)
				}
				return
			}
			for _, p := range ps {
				if p.Field == tc.field && strings.Contains(p.Msg, tc.msg) {
					return
				}
			}
			t.Fatalf("want a problem on %q containing %q, got %v", tc.field, tc.msg, ps)
		})
	}
}

// TestSpecDefaults: the typed specs carry the documented defaults.
func TestSpecDefaults(t *testing.T) {
	t.Parallel()
	loss := Fault{Kind: Loss, Rate: Rate{Share: 0.05}}
	if got := loss.Spec().(LossSpec); got.RTO != DefaultRTO || got.Mode != Model || got.Direction != Both {
		t.Errorf("loss defaults: %+v", got)
	}
	bw := Fault{Kind: Bandwidth, Rate: Rate{PerSecond: 1000}}
	if got := bw.Spec().(BandwidthSpec); got.Direction != Downstream || got.Rate != 1000 {
		t.Errorf("bandwidth defaults: %+v", got)
	}
	cl := Fault{Kind: ConnLimit, Max: 5}
	if got := cl.Spec().(ConnLimitSpec); got.OnExcess != Refuse {
		t.Errorf("conn-limit defaults: %+v", got)
	}
	for _, k := range Kinds {
		if _, ok := specs[k]; !ok {
			t.Errorf("kind %q has no validation", k)
		}
	}
}
