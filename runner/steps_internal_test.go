package runner

import (
	"testing"

	"github.com/chaosload/chaosload/load"
)

func TestBatch(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		step load.Step
		want int
	}{
		{load.Step{HTTP: &load.HTTPRequest{}}, 1},                                                        // one request
		{load.Step{Redis: &load.RedisCall{Command: []any{"GET", "k"}}}, 1},                               // one command
		{load.Step{Redis: &load.RedisCall{Command: []any{"LPUSH", "q", "x"}, Repeat: 1000}}, 1000},       // a command queued 1,000 times
		{load.Step{Redis: &load.RedisCall{Pipeline: [][]any{{"GET", "a"}, {"GET", "b"}}, Repeat: 3}}, 6}, // a pipeline of two, three times
	} {
		if got := batch(tc.step); got != tc.want {
			t.Errorf("batch(%+v) = %d, want %d", tc.step.Redis, got, tc.want)
		}
	}
}
