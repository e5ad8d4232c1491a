package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/chaosload/chaosload/readiness"
	"github.com/chaosload/chaosload/runner"
)

// suiteOutcomes is a suite as the bundled experiments make it: a load run,
// a fault run with two episodes and a stress run.
func suiteOutcomes() []*runner.Outcome {
	load, faults, stress := passedOutcome(), episodesOutcome(), stressOutcome()
	load.Tags, faults.Tags, stress.Tags = []string{"load"}, []string{"faults", "recovery"}, []string{"stress"}
	load.Experiment, load.Episodes = "load-100-users", nil
	stress.Experiment = "stress-breaking-point"
	// a trend fitted over 15 s is shown as not judged
	stress.Resources.PrivateSlope, stress.Resources.TrendFromS, stress.Resources.TrendToS = f64(1.1e6), 5, 20
	return []*runner.Outcome{load, faults, stress}
}

// failedSuite is a load run that failed, judged against a user's criteria.
func failedSuite(t testing.TB) *readiness.Assessment {
	c, err := readiness.Parse("team.yaml", []byte(`version: 1
name: team plan
criteria:
  - {id: p95, text: p95 under 50 ms, tag: load, metric: p95_ms, expect: "< 50ms"}
  - {id: consistency, text: nothing lost, metric: consistency, expect: "== 100%"}
  - {id: big, text: big transfers, tag: bulk, metric: transfer_bytes, expect: "> 100MB", advisory: true}
`))
	if err != nil {
		t.Fatal(err)
	}
	o := failedOutcome()
	o.Tags = []string{"load"}
	return readiness.Assess(c, []*runner.Outcome{o})
}

var readinessFixtures = []struct {
	name string
	make func(t testing.TB) *readiness.Assessment
}{
	// the default criteria over a load, a fault and a stress run, made
	// with --quick
	{"readiness-suite", func(testing.TB) *readiness.Assessment {
		a := readiness.Assess(readiness.Default(), suiteOutcomes())
		a.Notes = []string{"--quick: every duration × 0.1"}
		return a
	}},
	// a user's criteria over a failed run: not ready, naming the criterion
	{"readiness-failed", failedSuite},
}

func TestGoldenReadiness(t *testing.T) {
	for _, fx := range readinessFixtures {
		t.Run(fx.name, func(t *testing.T) {
			a := fx.make(t)
			var md, html bytes.Buffer
			if err := ReadinessMarkdown(&md, a); err != nil {
				t.Fatal(err)
			}
			if err := ReadinessHTML(&html, a); err != nil {
				t.Fatal(err)
			}
			golden(t, fx.name+".md", md.Bytes())
			golden(t, fx.name+".html", html.Bytes())
		})
	}
}

func TestReadinessNotReadyNamesTheCriterion(t *testing.T) {
	a := failedSuite(t)
	var md bytes.Buffer
	if err := ReadinessMarkdown(&md, a); err != nil {
		t.Fatal(err)
	}
	head := strings.SplitN(md.String(), "\n## ", 2)[0]
	for _, want := range []string{"# ❌ Readiness: NOT READY", "- consistency (nothing lost): 99.9% is not == 100% in db-exhaustion, 5397 of 5400 acknowledged order writes found (3 lost, 0 unverified)"} {
		if !strings.Contains(head, want) {
			t.Errorf("the verdict section lacks %q:\n%s", want, head)
		}
	}
}

func TestReadinessHTMLSelfContained(t *testing.T) {
	var b bytes.Buffer
	if err := ReadinessHTML(&b, readiness.Assess(readiness.Default(), suiteOutcomes())); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"<script", "http://", "https://", "<link", "@import", "url("} {
		if strings.Contains(b.String(), bad) {
			t.Errorf("the page contains %q: it must load nothing", bad)
		}
	}
}

// TestStressPlanLadder: a ladder of levels is shown as listed.
func TestStressPlanLadder(t *testing.T) {
	s := &runner.StressResult{Unit: "vus", From: 10, To: 500, Planned: []float64{10, 25, 50, 100, 200, 500}, EveryS: 20, SettleS: 5}
	if got, want := stressPlan(s), "VUs 10, 25, 50, 100, 200, 500, 20.0s each (first 5.00s not judged)"; got != want {
		t.Fatalf("plan %q, want %q", got, want)
	}
}
