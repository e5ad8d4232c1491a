package runner_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chaosload/chaosload/runner"
)

// effectExperiment loads target api; targets idle and unused have an
// upstream but no traffic. Each gets a latency fault at the same time; the
// one on unused does not expect an effect.
const effectExperiment = `
version: 1
name: fault-effect
targets:
  api:    {upstream: "${UP}", protocol: http}
  idle:   {upstream: "${UP}", protocol: http}
  unused: {upstream: "${UP}", protocol: http}
scenarios:
  users:
    executor: constant-arrival-rate
    rate: 20
    duration: 8s
    preAllocatedVUs: 10
    maxVUs: 50
    steps:
      - name: get
        http: {url: "http://${targets.api}/"}
warmup: 1s
thresholds:
  errors: ["rate < 1%"]
faults:
  - {name: api-slow, target: api, kind: latency, latency: 20ms, startTime: 2s, duration: 2s, expectEffect: true}
  - {name: idle-slow, target: idle, kind: latency, latency: 20ms, startTime: 2s, duration: 2s, expectEffect: true}
  - {name: unused-slow, target: unused, kind: latency, latency: 20ms, startTime: 2s, duration: 2s}
recovery: {within: 2s, hold: 1s, window: 1s}
`

// TestRunFaultWithoutEffect: a fault on a target nobody uses changed no
// traffic: a warning names it and says why; with expectEffect its check,
// named after the fault, fails the run, without it there is no check. The
// fault on the loaded target counts the chunks it delayed and its check
// passes. (Not parallel: the other runs of the package judge latency.)
func TestRunFaultWithoutEffect(t *testing.T) {
	out, err := runner.Run(context.Background(), experiment(t, okServer(t), effectExperiment), runner.Options{})
	if err != nil {
		t.Fatal(err)
	}
	api := out.Faults[0]
	if api.Effect == nil || !api.Effect.Changed || api.Effect.ChunksDelayed == 0 || api.Effect.ConnsSelected == 0 {
		t.Errorf("effect of the fault on the loaded target: %+v", api.Effect)
	}
	for _, f := range out.Faults[1:] {
		if f.Effect == nil || f.Effect.Changed || f.Effect.ConnsSelected != 0 {
			t.Errorf("effect of %s on a target nobody uses: %+v", f.Name, f.Effect)
		}
	}
	var warned []string
	for _, w := range out.Warnings {
		if strings.Contains(w, "changed no traffic") {
			warned = append(warned, w)
		}
	}
	if len(warned) != 2 || !strings.Contains(warned[0], `fault "idle-slow"`) || !strings.Contains(warned[1], `fault "unused-slow"`) ||
		!strings.Contains(warned[0], "no connection went through target idle while it was in effect") {
		t.Errorf("warnings %q: want one naming each fault without effect, and why", out.Warnings)
	}
	checks := map[string]bool{}
	for _, c := range out.Checks {
		if strings.HasSuffix(c.Name, ": expectEffect") {
			checks[c.Name] = c.Passed
			if c.Phase != "fault" || c.Episode != 1 {
				t.Errorf("check %s in phase %s of episode %d, want the fault phase of episode 1", c.Name, c.Phase, c.Episode)
			}
		}
	}
	want := map[string]bool{"api-slow: expectEffect": true, "idle-slow: expectEffect": false}
	if out.Verdict != runner.Failed || len(checks) != len(want) || checks["api-slow: expectEffect"] != true ||
		checks["idle-slow: expectEffect"] != false {
		t.Fatalf("verdict %s, expectEffect checks %v; want failed, %v (checks %+v)", out.Verdict, checks, want, out.Checks)
	}
}
