package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// invoke runs the program in-process and returns its exit code and output.
func invoke(t testing.TB, ctx context.Context, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(ctx, args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestValidateBundledExperiments(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("../../experiments/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no bundled experiments found: %v", err)
	}
	code, stdout, stderr := invoke(t, context.Background(), append([]string{"validate"}, files...)...)
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	for _, f := range files {
		if !strings.Contains(stdout, f+": ok") {
			t.Errorf("%s not reported ok:\n%s", f, stdout)
		}
	}
}

// TestValidateExplainsEpisodes: validate lists the fault episodes a run is
// judged in and says why faults were merged into one.
func TestValidateExplainsEpisodes(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "episodes.yaml")
	src := `version: 1
name: episodes
targets:
  api: {upstream: "127.0.0.1:1", protocol: http}
scenarios:
  s:
    executor: constant-arrival-rate
    rate: 10
    duration: 180s
    preAllocatedVUs: 1
    steps:
      - http: {url: "http://${targets.api}/"}
thresholds:
  errors: ["rate < 1%"]
faults:
  - {name: slow, target: api, kind: latency, latency: 100ms, startTime: 20s, duration: 20s}
  - {name: down, target: api, kind: down, startTime: 52s, duration: 5s}
  - {name: later, target: api, kind: down, startTime: 120s, duration: 5s, recovery: {within: 40s}}
recovery: {within: 30s, hold: 10s, window: 5s}
`
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := invoke(t, context.Background(), "validate", file)
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	want := file + `: ok
  episode 1: slow, down (20.0s–57.0s), recovery within 30.0s (hold 10.0s, window 5.0s)
    faults "slow" and "down" form one episode: "down" starts 12s after "slow" ends, closer than the recovery observation within+hold+window = 45s (30s + 10s + 5s), so the service has no time to show it recovered in between
  episode 2: later (120.0s–125.0s), recovery within 40.0s (hold 10.0s, window 5.0s)
`
	if stdout != want {
		t.Errorf("stdout\n%s\nwant\n%s", stdout, want)
	}
}

func TestValidateReportsEveryProblemWithPosition(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "broken.yaml")
	broken := `version: 1
name: broken
targets:
  api: {upstream: "127.0.0.1:1", protocl: http}
scenarios:
  s:
    executor: constant-arrival-rate
    rate: 10
    duration: ten seconds
    preAllocatedVUs: 1
    steps:
      - http: {url: "http://${targets.apii}/"}
thresholds:
  latency: ["p(95) < 100xs"]
`
	if err := os.WriteFile(file, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := invoke(t, context.Background(), "validate", file)
	if code != exitInvalid {
		t.Fatalf("exit %d, want %d\n%s", code, exitInvalid, stderr)
	}
	for _, want := range []string{
		file + `:4:34: targets.api: unknown key "protocl" (did you mean "protocol"?)`,
		file + ":9:15: scenarios.s.duration:",
		file + `:12:29: scenarios.s.steps.0.http.url: unknown target "apii"`,
		file + `:14:25: thresholds.latency.0:`,
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "goroutine ") || strings.Contains(stderr, "panic") {
		t.Fatalf("stack trace in the output:\n%s", stderr)
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"run"}, "requires at least 1 arg"},                         // no file
		{[]string{"run", "--frobnicate", "x.yaml"}, "unknown flag"},          // bad flag
		{[]string{"launch"}, "unknown command"},                              // bad command
		{[]string{"--log-level", "loud", "version"}, "--log-level \"loud\""}, // bad setting
		{[]string{"run", "missing-file.yaml"}, "missing-file.yaml"},          // unreadable file
	}
	for _, tc := range tests {
		code, _, stderr := invoke(t, context.Background(), tc.args...)
		if code != exitInvalid || !strings.Contains(stderr, tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 mentioning %q", tc.args, code, stderr, tc.want)
		}
	}
}

func TestSettingsPrecedence(t *testing.T) {
	// flag > environment > settings file > default, for one setting.
	dir := t.TempDir()
	settings := filepath.Join(dir, "settings.yaml")
	if err := os.WriteFile(settings, []byte("log-level: chatty\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := invoke(t, context.Background(), "--settings", settings, "version")
	if code != exitInvalid || !strings.Contains(stderr, `"chatty"`) {
		t.Fatalf("settings file not read: exit %d %s", code, stderr)
	}
	t.Setenv("CHAOSLOAD_LOG_LEVEL", "noisy")
	code, _, stderr = invoke(t, context.Background(), "--settings", settings, "version")
	if code != exitInvalid || !strings.Contains(stderr, `"noisy"`) {
		t.Fatalf("environment does not beat the settings file: exit %d %s", code, stderr)
	}
	code, _, stderr = invoke(t, context.Background(), "--settings", settings, "--log-level", "warn", "version")
	if code != exitOK {
		t.Fatalf("flag does not beat the environment: exit %d %s", code, stderr)
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	code, stdout, _ := invoke(t, context.Background(), "version")
	if code != exitOK || !regexp.MustCompile(`^chaosload \S+ \(commit \S+, go1\.\d+`).MatchString(stdout) {
		t.Fatalf("exit %d: %q", code, stdout)
	}
}
