package gameday

import (
	"testing"
	"time"

	"github.com/chaosload/chaosload/internal/headless"
)

const dashboardFile = `
version: 1
name: dashboard
targets:
  api: {upstream: "${UP}", protocol: http}
scenarios:
  users:
    executor: constant-arrival-rate
    rate: 40
    duration: 5m
    preAllocatedVUs: 20
    maxVUs: 60
    steps:
      - name: get
        http: {url: "http://${targets.api}/"}
thresholds:
  latency: ["p(95) < 500ms"]
recovery: {within: 20s, hold: 1s, window: 1s}
`

// TestDashboardInChromium opens the dashboard in headless Chromium while
// background load runs, applies a 1 s latency fault with the page's form,
// sees the latency chart at 1 s or more, reverts the fault with its button
// and sees the recovery time appear; the audit log names the dashboard.
//
// The steady state (p(95) < 500ms) and the fault (1 s) are far apart, so
// that a busy machine (Chromium runs beside the load) can neither pass for
// the fault nor keep the recovery from being seen: only a defect does.
func TestDashboardInChromium(t *testing.T) {
	headless.Chromium(t)
	s, srv := session(t, experiment(t, okServer(t), dashboardFile), Config{LoadDuration: 5 * time.Minute})
	if err := s.StartLoad("test", 1); err != nil {
		t.Fatal(err)
	}
	b := openBrowser(t, srv.URL+"/")
	b.waitJS(t, "the live feed", `document.getElementById("status").textContent === "live" && document.getElementById("f-target").options.length > 0`, 60*time.Second)
	b.waitJS(t, "load on the chart", `+document.getElementById("chart-api-ops").dataset.last > 10`, 20*time.Second)
	var before float64
	b.eval(t, `+document.getElementById("chart-api-latency").dataset.last`, &before)

	b.eval(t, `(() => {
		const set = (id, v) => { document.getElementById(id).value = v; };
		set("f-name", "slow"); set("f-target", "api"); set("f-kind", "latency"); set("f-latency", "1s");
		document.getElementById("f-apply").click();
		return true; })()`, nil)
	b.waitJS(t, "the latency chart at the fault's 1 s", `+document.getElementById("chart-api-latency").dataset.last >= 1000`, 30*time.Second)
	b.waitJS(t, "the fault listed", `!!document.querySelector('[data-revert="slow"]')`, 30*time.Second)

	b.eval(t, `document.querySelector('[data-revert="slow"]').click(), true`, nil)
	b.waitJS(t, "the recovery time", `/recovered in [0-9.]+s/.test(document.getElementById("recovery").textContent)`, 30*time.Second)
	var shown string
	b.eval(t, `document.getElementById("recovery").textContent`, &shown)
	t.Logf("dashboard: %s (p95 before the fault %.1fms)", shown, before)

	var who []string
	for _, e := range s.Audit() {
		if e.Fault == "slow" {
			who = append(who, e.Who+":"+e.Action)
		}
	}
	if len(who) != 2 || who[0] != "dashboard:apply-fault" || who[1] != "dashboard:revert-fault" {
		t.Fatalf("audit of the dashboard's fault: %v", who)
	}
}
