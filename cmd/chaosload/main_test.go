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
