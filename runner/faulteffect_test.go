package runner_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chaosload/chaosload/runner"
)

// effectExperiment loads target api; target idle has an upstream but no
// traffic. Both get a latency fault at the same time; ${EXPECT} is the idle
// fault's expectEffect.
const effectExperiment = `
version: 1
name: fault-effect
targets:
  api:  {upstream: "${UP}", protocol: http}
  idle: {upstream: "${UP}", protocol: http}
scenarios:
  users:
    executor: constant-arrival-rate
    rate: 50
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
  - {name: idle-slow, target: idle, kind: latency, latency: 20ms, startTime: 2s, duration: 2s, expectEffect: ${EXPECT}}
recovery: {within: 2s, hold: 1s, window: 1s}
`

// TestRunFaultWithoutEffect: a fault on a target nobody uses changed no
// traffic: a warning names it, and with expectEffect its check fails the
// run; the fault on the loaded target counts the chunks it delayed and its
// expectEffect check passes.
func TestRunFaultWithoutEffect(t *testing.T) {
	t.Parallel()
	for _, expect := range []string{"false", "true"} {
		t.Run("expectEffect="+expect, func(t *testing.T) {
			t.Parallel()
			yaml := strings.ReplaceAll(effectExperiment, "${EXPECT}", expect)
			out, err := runner.Run(context.Background(), experiment(t, okServer(t), yaml), runner.Options{})
			if err != nil {
				t.Fatal(err)
			}
			api, idle := out.Faults[0], out.Faults[1]
			if api.Effect == nil || !api.Effect.Changed || api.Effect.ChunksDelayed == 0 || api.Effect.ConnsSelected == 0 {
				t.Errorf("effect of the fault on the loaded target: %+v", api.Effect)
			}
			if idle.Effect == nil || idle.Effect.Changed || idle.Effect.ConnsSelected != 0 {
				t.Errorf("effect of the fault on the idle target: %+v", idle.Effect)
			}
			var warned []string
			for _, w := range out.Warnings {
				if strings.Contains(w, "changed no traffic") {
					warned = append(warned, w)
				}
			}
			if len(warned) != 1 || !strings.Contains(warned[0], `"idle-slow"`) || !strings.Contains(warned[0], "no connection went through target idle") {
				t.Errorf("warnings %q: want one naming idle-slow and why", out.Warnings)
			}
			checks := map[string]bool{}
			for _, c := range out.Checks {
				if strings.HasSuffix(c.Name, ": expectEffect") {
					checks[c.Name] = c.Passed
				}
			}
			wantVerdict, wantChecks := runner.Passed, map[string]bool{"api-slow: expectEffect": true}
			if expect == "true" {
				wantVerdict, wantChecks["idle-slow: expectEffect"] = runner.Failed, false
			}
			if out.Verdict != wantVerdict || len(checks) != len(wantChecks) {
				t.Fatalf("verdict %s, expectEffect checks %v; want %s, %v (checks %+v)", out.Verdict, checks, wantVerdict, wantChecks, out.Checks)
			}
			for name, passed := range wantChecks {
				if p, ok := checks[name]; !ok || p != passed {
					t.Errorf("check %s: passed %v, present %v; want passed %v", name, p, ok, passed)
				}
			}
		})
	}
}
