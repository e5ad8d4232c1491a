package load

import (
	"testing"
	"time"
)

func TestConstantPacer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		p    ConstantPacer
		want []time.Duration // every arrival, in order
	}{
		// whole rate: exact integer spacing
		{"10 per second", ConstantPacer{10, time.Second, 500 * time.Millisecond},
			[]time.Duration{0, 100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond, 400 * time.Millisecond}},
		// a period that does not divide: floor of i·unit/rate, no drift
		{"3 per second", ConstantPacer{3, time.Second, time.Second},
			[]time.Duration{0, 333333333, 666666666}},
		// fractional rate goes through float64
		{"1.5 per second", ConstantPacer{1.5, time.Second, 2 * time.Second},
			[]time.Duration{0, 666666666, 1333333333}},
		// a timeUnit other than 1s
		{"6 per minute", ConstantPacer{6, time.Minute, 30 * time.Second},
			[]time.Duration{0, 10 * time.Second, 20 * time.Second}},
		// the end is exclusive: an arrival at exactly Duration is not made
		{"end exclusive", ConstantPacer{2, time.Second, time.Second},
			[]time.Duration{0, 500 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got []time.Duration
			for i := int64(0); ; i++ {
				at, ok := tt.p.Arrival(i)
				if !ok {
					break
				}
				got = append(got, at)
			}
			if !equal(got, tt.want) {
				t.Fatalf("arrivals %v, want %v", got, tt.want)
			}
		})
	}
}

// TestConstantPacerNoDrift checks a far arrival against exact arithmetic:
// computing from i, not from the previous arrival, keeps it exact.
func TestConstantPacerNoDrift(t *testing.T) {
	t.Parallel()
	p := ConstantPacer{Rate: 7, TimeUnit: time.Second, Duration: 1 << 62}
	const i = 7 * 3600 * 24 * 365 // a year of arrivals at 7/s
	at, _ := p.Arrival(i)
	if want := 365 * 24 * time.Hour; at != want {
		t.Fatalf("arrival %d at %v, want %v", i, at, want)
	}
}

func equal[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func BenchmarkConstantPacer(b *testing.B) {
	b.ReportAllocs()
	p := ConstantPacer{Rate: 5000, TimeUnit: time.Second, Duration: time.Hour}
	for i := range b.N {
		p.Arrival(int64(i))
	}
}
