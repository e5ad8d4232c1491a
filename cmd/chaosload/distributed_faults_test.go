package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chaosload/chaosload/runner"
)

// casualtyExperiment offers 100 POSTs/s for 8 s (0.5 s of warm-up) to a
// service that answers each 150 ms after it came, and resets the api
// proxy's connections 2 s in: the ~15 requests then in flight are cut (a
// POST already sent is not retried on a new connection, as a GET is).
// Filed by their intended start they would be 10% of the baseline's 150
// operations and fail its `errors: rate < 5%`.
const casualtyExperiment = `version: 1
name: casualties
seed: 3
targets:
  api: {upstream: "%s", protocol: http}
scenarios:
  users:
    executor: constant-arrival-rate
    rate: 100
    duration: 8s
    preAllocatedVUs: 40
    maxVUs: 400
    steps:
      - name: get
        http: {method: POST, url: "http://${targets.api}/", json: {n: 1}}
warmup: 500ms
thresholds:
  errors: ["rate < 5%%"]
recovery: {within: 3s, hold: 1s, window: 1s}
faults:
  - {name: cut, target: api, kind: reset, startTime: 2s}
`

// casualtyDue is the reset's startTime, in seconds.
const casualtyDue = 2.0

// TestDistributedCasualtiesUnderTheFault: the requests the reset cut in
// flight are filed under the fault by two workers as by one process: both
// runs pass (exit 0), no error is in an interval before the fault, and the
// casualties (more than none) are in the intervals from its start on.
// Before the workers heard the fault's edges, they filed the casualties by
// their intended start, in the baseline, and the distributed run failed
// it (exit 1) where one process passed.
func TestDistributedCasualtiesUnderTheFault(t *testing.T) {
	yaml := fmt.Sprintf(casualtyExperiment, slowService(t))
	file := filepath.Join(t.TempDir(), "casualties.yaml")
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	single := runExperiment(t, nil, file)
	single.expect(t, exitOK, runner.Passed)
	one := casualtiesUnderTheFault(t, "one process", single.out)

	d := startDistributedFile(t, 2, yaml)
	d.worker(t, 0)
	d.worker(t, 1)
	dist := d.end(t)
	dist.expect(t, exitOK, runner.Passed)
	two := casualtiesUnderTheFault(t, "2 workers", dist.out)
	t.Logf("errors from the fault's start on: %d (one process), %d (2 workers); none before", one, two)
}

// slowService answers every request 150 ms after it came (sooner when the
// client is gone); it returns its address.
func slowService(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		timer := time.NewTimer(150 * time.Millisecond)
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// casualtiesUnderTheFault fails unless o's errors are all in intervals
// from the reset's start on, and some are; it returns how many.
func casualtiesUnderTheFault(t *testing.T, who string, o *runner.Outcome) int64 {
	t.Helper()
	var n int64
	for _, iv := range o.Intervals {
		if iv.Errors > 0 && iv.TS < casualtyDue {
			t.Fatalf("%s: %d errors %v in the interval at %.2fs, before the fault (%.1fs)", who, iv.Errors, iv.ByClass, iv.TS, casualtyDue)
		}
		n += iv.Errors
	}
	if n == 0 {
		t.Fatalf("%s: no request was cut by the reset", who)
	}
	return n
}
