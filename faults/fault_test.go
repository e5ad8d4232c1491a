package faults

import (
	"strings"
	"testing"
	"time"
)

func pct(v float64) *Percent { p := Percent(v); return &p }

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		f     Fault
		field string // "" = valid
		msg   string
	}{
		// a plain latency fault is valid
		{"latency ok", Fault{Name: "a", Target: "pg", Kind: Latency, Latency: 10 * time.Millisecond}, "", ""},
		// latency needs its amount
		{"latency missing", Fault{Name: "a", Target: "pg", Kind: Latency}, "latency", "is required"},
		// jitter larger than latency would make negative delays
		{"jitter too big", Fault{Name: "a", Target: "pg", Kind: Latency, Latency: time.Millisecond, Jitter: time.Second}, "jitter", "between 0 and latency"},
		// direction is a closed set
		{"bad direction", Fault{Name: "a", Target: "pg", Kind: Latency, Latency: time.Millisecond, Direction: "sideways"}, "direction", "upstream, downstream or both"},
		// a parameter of another kind is named as such
		{"foreign param", Fault{Name: "a", Target: "pg", Kind: Reset, Latency: time.Second}, "latency", `not a parameter of kind "reset"`},
		// unknown kinds list the valid ones
		{"unknown kind", Fault{Name: "a", Target: "pg", Kind: "meteor"}, "kind", "valid kinds: latency, bandwidth"},
		// toxicity is a share
		{"toxicity", Fault{Name: "a", Target: "pg", Kind: Down, Toxicity: pct(1.5)}, "toxicity", "between 0% and 100%"},
		// leaveFree cannot be negative
		{"leaveFree", Fault{Name: "a", Target: "pg", Kind: PoolExhaustion, LeaveFree: -1}, "leaveFree", "negative"},
		// name and target are required
		{"no name", Fault{Target: "pg", Kind: Down}, "name", "required"},
		// a kill of a stack process is valid, its signal by name
		{"kill ok", Fault{Name: "a", Target: "app", Kind: Kill, Signal: "SIGTERM"}, "", ""},
		// kill is one-shot
		{"kill duration", Fault{Name: "a", Target: "app", Kind: Kill, Duration: time.Second}, "duration", "one-shot"},
		// an unknown signal lists the known ones
		{"kill signal", Fault{Name: "a", PID: 1, Kind: Kill, Signal: "SIGFOO"}, "signal", "SIGKILL (default)"},
		// a process fault needs one of target, pid and process
		{"pause nothing", Fault{Name: "a", Kind: Pause}, "target", "pid: N or process: NAME"},
		// ...and only one
		{"pause two", Fault{Name: "a", Kind: Pause, PID: 1, Process: "x"}, "target", "one of target, pid and process"},
		// toxicity is about connections
		{"pause toxicity", Fault{Name: "a", Kind: Pause, PID: 1, Toxicity: pct(0.5)}, "toxicity", "acts on processes"},
		// cpu-limit takes a share of a core, at least the kernel's smallest quota
		{"cpu-limit small", Fault{Name: "a", Target: "pg", Kind: CPULimit, CPUs: 0.0005}, "cpus", "at least 0.001"},
		{"cpu-limit ok", Fault{Name: "a", Target: "pg", Kind: CPULimit, CPUs: 0.2}, "", ""},
		// memory-limit needs bytes
		{"memory-limit", Fault{Name: "a", Target: "pg", Kind: MemoryLimit}, "bytes", "at least 1MB"},
		// io-limit needs a path and a rate, a byte rate
		{"io-limit path", Fault{Name: "a", Target: "pg", Kind: IOLimit, ReadRate: Rate{PerSecond: 1e6}}, "path", "is required"},
		{"io-limit share", Fault{Name: "a", Target: "pg", Kind: IOLimit, Path: "/x", ReadRate: Rate{Share: 0.5}}, "readRate", "byte rate"},
		// hogs act on the machine: no target
		{"cpu-hog target", Fault{Name: "a", Target: "pg", Kind: CPUHog, Cores: 1}, "target", "whole machine"},
		{"cpu-hog ok", Fault{Name: "a", Kind: CPUHog, Cores: 1}, "", ""},
		{"memory-hog", Fault{Name: "a", Kind: MemoryHog}, "bytes", "at least 1MB"},
		// disk-fill needs a path and how much
		{"disk-fill how much", Fault{Name: "a", Kind: DiskFill, Path: "/data"}, "fill", "give fill"},
		{"disk-fill share", Fault{Name: "a", Kind: DiskFill, Path: "/data", Fill: pct(1.5)}, "fill", "at most 100%"},
		{"disk-fill ok", Fault{Name: "a", Kind: DiskFill, Path: "/data", Fill: pct(0.9), Bytes: 1 << 30}, "", ""},
		// a parameter of a host kind is not one of a proxy kind
		{"pid on latency", Fault{Name: "a", Target: "pg", Kind: Latency, Latency: time.Second, PID: 3}, "pid", `not a parameter of kind "latency"`},
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

func TestEnd(t *testing.T) {
	t.Parallel()
	tests := []struct {
		f       Fault
		end     time.Duration
		bounded bool
	}{
		// a held fault ends at start + duration
		{Fault{Kind: Latency, StartTime: time.Second, Duration: 2 * time.Second}, 3 * time.Second, true},
		// a reset without duration is one-shot: it ends where it starts
		{Fault{Kind: Reset, StartTime: time.Second}, time.Second, true},
		// any other fault without duration lasts until the end of the run
		{Fault{Kind: Down, StartTime: time.Second}, 0, false},
		// a kill is one-shot
		{Fault{Kind: Kill, StartTime: time.Second}, time.Second, true},
	}
	for _, tc := range tests {
		end, ok := tc.f.End()
		if end != tc.end || ok != tc.bounded {
			t.Errorf("%+v: End() = %v, %v; want %v, %v", tc.f, end, ok, tc.end, tc.bounded)
		}
	}
}

func TestParsePercent(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]float64{"5%": 0.05, "0.25": 0.25, " 100 % ": 1, "1": 1} {
		got, err := ParsePercent(in)
		if err != nil || got != want {
			t.Errorf("ParsePercent(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParsePercent("lots"); err == nil {
		t.Error("ParsePercent(lots): want an error")
	}
}
