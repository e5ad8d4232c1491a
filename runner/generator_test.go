package runner_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/chaosload/chaosload/config"
	"github.com/chaosload/chaosload/load"
	"github.com/chaosload/chaosload/runner"
)

// A stalled generator, deterministically: under testing/synctest the clock
// is virtual, so the only lateness is the one injected (load.Config.Stall)
// and the target's time is exactly what the driver says.

// stalledExperiment is the file the stalled-generator tests run (here and
// in cmd/chaosload), each with its thresholds appended.
func stalledExperiment(t *testing.T, thresholds string) *config.Experiment {
	t.Helper()
	data, err := os.ReadFile("testdata/stalled-generator.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return experiment(t, "", string(data)+thresholds)
}

// fastTarget is a driver that answers in 1 ms, a 500 for every arrival
// fail says so.
func fastTarget(fail func(iteration int64) bool) load.Driver {
	return driverFunc(func(ctx context.Context, vu *load.VU, _ *load.Step, res *load.Result) {
		res.Start = vu.Clock.Now()
		time.Sleep(time.Millisecond)
		res.End = vu.Clock.Now()
		if fail != nil && fail(vu.Iteration) {
			res.Class, res.Status = load.ClassHTTP5xx, 500
		}
	})
}

type driverFunc func(ctx context.Context, vu *load.VU, step *load.Step, res *load.Result)

func (f driverFunc) Do(ctx context.Context, vu *load.VU, step *load.Step, res *load.Result) {
	f(ctx, vu, step, res)
}

// stall50 stalls the generator 50 ms before every 20th arrival: that one is
// 50 ms late, the four due meanwhile 40, 30, 20 and 10 ms; p95 of latency
// is 41 ms with the lateness and 1 ms without it.
func stall50(_ string, i int64) time.Duration {
	if i%20 == 0 {
		return 50 * time.Millisecond
	}
	return 0
}

// runStalled runs stalledExperiment with thresholds, the fast target and
// the stall, in virtual time.
func runStalled(t *testing.T, thresholds string, fail func(int64) bool) *runner.Outcome {
	t.Helper()
	var out *runner.Outcome
	synctest.Test(t, func(t *testing.T) {
		exp := stalledExperiment(t, "thresholds:\n"+thresholds)
		var err error
		out, err = runner.Run(context.Background(), exp, runner.Options{Load: func(c *load.Config) {
			c.Drivers = map[load.Protocol]load.Driver{load.HTTP: fastTarget(fail)}
			c.Stall = stall50
		}})
		if err != nil {
			t.Fatal(err)
		}
	})
	return out
}

// TestStallFlipsTightLatencyCheck: a 50 ms stall of the generator fails a
// 10 ms latency check as measured, which holds without the generator's own
// lateness: the check is inconclusive, named with the lateness that flipped
// it, and so is the run.
func TestStallFlipsTightLatencyCheck(t *testing.T) {
	out := runStalled(t, `  latency: ["p(95) < 10ms"]`, nil)
	if out.Verdict != runner.Inconclusive || out.Passed || len(out.Checks) != 1 {
		t.Fatalf("verdict %s, checks %+v; want inconclusive", out.Verdict, out.Checks)
	}
	c := out.Checks[0]
	if !c.Inconclusive || c.Passed || c.Observed != "p95 = 41ms" || c.WithoutLateness == nil ||
		!c.WithoutLateness.Passed || c.WithoutLateness.Observed != "p95 = 1ms" {
		t.Fatalf("check %+v (without lateness %+v), want inconclusive: p95 41ms with, 1ms without", c, c.WithoutLateness)
	}
	if l := c.WithoutLateness.LatenessMS; l == nil || *l < 40 || *l > 40.04 { // HDR: 3 significant digits
		t.Errorf("lateness %v, want 40ms", l)
	}
	want := "baseline latency: p(95) < 10ms fails with the generator's own lateness (p95 = 41ms) and holds without it (p95 = 1ms): its lateness added 40ms"
	if len(out.Inconclusive) != 1 || out.Inconclusive[0] != want {
		t.Fatalf("inconclusive %q\nwant %q", out.Inconclusive, want)
	}
	g := out.Generator
	if g == nil || g.LagMaxMS != 50 || g.LagP50MS != 0 || len(g.Offered) != 1 {
		t.Fatalf("generator %+v, want lag max 50ms, p50 0 and the baseline's offered load", g)
	}
	if o := g.Offered[0]; o.Phase != "baseline" || o.Short || o.Made != o.Intended || o.Intended != out.Phases[1].Ops {
		t.Errorf("offered %+v, want every arrival of the baseline (%+v) made", o, out.Phases[1])
	}
}

// TestStallCannotFlipLooseLatencyCheck: the same stall cannot flip a 100 ms
// check: it holds both ways and the run passes.
func TestStallCannotFlipLooseLatencyCheck(t *testing.T) {
	out := runStalled(t, `  latency: ["p(95) < 100ms"]`, nil)
	c := out.Checks[0]
	if out.Verdict != runner.Passed || len(out.Inconclusive) != 0 || !c.Passed || c.Inconclusive ||
		c.WithoutLateness == nil || !c.WithoutLateness.Passed {
		t.Fatalf("verdict %s, check %+v, inconclusive %q; want passed both ways", out.Verdict, c, out.Inconclusive)
	}
}

// TestStalledGenerator5xxFails: 500s fail the run whatever the generator
// did: the error check fails both ways, so the verdict is failed even
// though the generator's lateness decides the latency check beside it.
func TestStalledGenerator5xxFails(t *testing.T) {
	out := runStalled(t, "  latency: [\"p(95) < 10ms\"]\n  \"errors{class:http_5xx}\": [\"count == 0\"]",
		func(i int64) bool { return i%7 == 3 })
	if out.Verdict != runner.Failed || len(out.Checks) != 2 {
		t.Fatalf("verdict %s, checks %+v; want failed", out.Verdict, out.Checks)
	}
	latency, errs := out.Checks[0], out.Checks[1]
	if !latency.Inconclusive || !errs.Failed() || errs.WithoutLateness != nil || !strings.HasPrefix(errs.Observed, "count = ") {
		t.Fatalf("checks %+v / %+v: want latency inconclusive, 5xx failed and judged once", latency, errs)
	}
	if len(out.Inconclusive) != 1 {
		t.Errorf("inconclusive %q, want the latency check named", out.Inconclusive)
	}
}
