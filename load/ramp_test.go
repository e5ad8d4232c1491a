package load

import (
	"testing"
	"time"
)

func TestRampPlan(t *testing.T) {
	t.Parallel()
	s := time.Second
	tests := []struct {
		name   string
		start  int
		stages []Stage
		want   []vuChange
	}{
		// up by one VU per second: the last change falls on the stage's end
		{"ramp up", 0, []Stage{{4 * s, 4}, {s, 4}},
			[]vuChange{{s, 1}, {2 * s, 2}, {3 * s, 3}, {4 * s, 4}}},
		// down: the count follows the line rounded toward the stage's start
		{"ramp down", 4, []Stage{{2 * s, 0}, {s, 0}},
			[]vuChange{{500 * time.Millisecond, 3}, {s, 2}, {1500 * time.Millisecond, 1}, {2 * s, 0}}},
		// a flat stage changes nothing
		{"hold", 3, []Stage{{10 * s, 3}}, nil},
		// zero duration jumps at the stage's start
		{"jump", 1, []Stage{{s, 1}, {0, 5}, {s, 5}}, []vuChange{{s, 5}}},
		// a non-dividing ramp rounds each instant up, never early
		{"uneven", 0, []Stage{{s, 3}, {s, 3}},
			[]vuChange{{333333334, 1}, {666666667, 2}, {s, 3}}},
		// changes at the very end are left out: no iteration starts then
		{"ends on a ramp", 0, []Stage{{2 * s, 2}}, []vuChange{{s, 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := rampPlan(tt.start, tt.stages); !equal(got, tt.want) {
				t.Fatalf("plan %v, want %v", got, tt.want)
			}
		})
	}
}
