package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chaosload/chaosload/cluster"
	"github.com/chaosload/chaosload/load"
	"github.com/chaosload/chaosload/metrics"
	"github.com/chaosload/chaosload/runner"
)

// writeFrames writes the frames of worker w holding n results of 5 ms,
// one in ten an HTTP 5xx, into dir, twice (a file merged twice counts once).
func writeFrames(t *testing.T, dir string, w, n int) []string {
	t.Helper()
	box := cluster.NewOutbox(w, 1, metrics.Config{})
	for i := range n {
		res := &load.Result{Scenario: "users", Step: "get", Protocol: load.HTTP, Intended: time.Duration(i) * 10 * time.Millisecond}
		res.Dispatched, res.Start, res.End = res.Intended, res.Intended, res.Intended+5*time.Millisecond
		if i%10 == 0 {
			res.Class = load.ClassHTTP5xx
		}
		box.Record(res)
	}
	frames, err := box.Cut()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, copyName := range []string{"a", "b"} {
		name := filepath.Join(dir, "worker-"+string(rune('0'+w))+copyName+".jsonl")
		f, err := os.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := cluster.WriteFrames(f, frames); err != nil {
			t.Fatal(err)
		}
		f.Close()
		names = append(names, name)
	}
	return names
}

// TestMergeFrameFiles: two workers' frame files (each file given twice)
// merge into their 300 operations, 30 errors, and the experiment's
// thresholds are judged on them: errors rate < 5% fails (10%), exit 1.
func TestMergeFrameFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	files := append(writeFrames(t, dir, 0, 100), writeFrames(t, dir, 1, 200)...)
	exp := filepath.Join(dir, "exp.yaml")
	yaml := "version: 1\nname: merged\nscenarios:\n  users:\n    executor: constant-arrival-rate\n    rate: 100\n    duration: 2s\n" +
		"    preAllocatedVUs: 5\n    steps:\n      - name: get\n        http: {url: \"http://127.0.0.1:9/\"}\nwarmup: 0s\nthresholds:\n  errors: [\"rate < 5%\"]\n"
	if err := os.WriteFile(exp, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "merged.json")
	code, stdout, stderr := invoke(t, context.Background(), append([]string{"merge", "--experiment", exp, "--json", out}, files...)...)
	if code != exitFailed {
		t.Fatalf("exit %d, want 1 (errors rate 10%%): %s%s", code, stdout, stderr)
	}
	var res runner.MergeResult
	data, err := os.ReadFile(out)
	if err != nil || json.Unmarshal(data, &res) != nil {
		t.Fatalf("read %s: %v", out, err)
	}
	if res.Ops != 300 || res.Errors != 30 || len(res.Workers) != 2 || !strings.Contains(stdout, "errors rate < 5%") {
		t.Fatalf("merged %d ops, %d errors, %d workers; want 300, 30, 2\n%s", res.Ops, res.Errors, len(res.Workers), stdout)
	}
}
