package report

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/chaosload/chaosload/runner"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test ./report -update rewrites it; review the diff)\n--- got ---\n%s", path, got)
	}
}

func render(t *testing.T, fn func(io.Writer, *runner.Outcome) error, o *runner.Outcome) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := fn(&b, o); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

var fixtures = []struct {
	name string
	make func() *runner.Outcome
}{
	{"passed", passedOutcome},              // every expectation held
	{"failed", failedOutcome},              // 5xx, no recovery, lost writes, regressed vs baseline
	{"episodes", episodesOutcome},          // two episodes, the first a cascade that sheds too much
	{"errored", erroredOutcome},            // preflight failed: nothing measured
	{"inconclusive", inconclusiveOutcome},  // the generator's lateness decides a latency check
	{"late-episodes", lateEpisodesOutcome}, // it decides episode 1's fault check and episode 2's recovery
	{"replicas", replicasOutcome},          // one replica of three fails: selection, share per phase, rotation
}

func TestGoldenText(t *testing.T) {
	for _, fx := range fixtures {
		t.Run(fx.name, func(t *testing.T) {
			golden(t, fx.name+".txt", render(t, Text, fx.make()))
		})
	}
}

func TestGoldenMarkdown(t *testing.T) {
	for _, fx := range fixtures {
		t.Run(fx.name, func(t *testing.T) {
			golden(t, fx.name+".md", render(t, Markdown, fx.make()))
		})
	}
}

func TestGoldenJUnit(t *testing.T) {
	var b bytes.Buffer
	if err := JUnit(&b, passedOutcome(), failedOutcome(), episodesOutcome(), erroredOutcome(), inconclusiveOutcome(), lateEpisodesOutcome()); err != nil {
		t.Fatal(err)
	}
	golden(t, "all.junit.xml", b.Bytes())
}
