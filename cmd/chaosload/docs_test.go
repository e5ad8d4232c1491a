package main

import (
	"context"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/chaosload/chaosload/readiness"
	"go.yaml.in/yaml/v3"
)

// TestCIDocsExitCodes keeps docs/ci.md's table of exit codes equal to the
// one in exitcode.go.
func TestCIDocsExitCodes(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../docs/ci.md")
	if err != nil {
		t.Fatal(err)
	}
	var documented []int
	for _, m := range regexp.MustCompile(`(?m)^\| (\d+) \|`).FindAllStringSubmatch(string(data), -1) {
		n, _ := strconv.Atoi(m[1])
		documented = append(documented, n)
	}
	want := []int{exitOK, exitFailed, exitInvalid, exitAborted, exitInfra, exitIncomplete, exitInterrupted}
	if !slices.Equal(documented, want) {
		t.Fatalf("docs/ci.md documents exit codes %v, exitcode.go has %v", documented, want)
	}
}

// TestCIExample: the example workflow is valid YAML, runs the service beside
// PostgreSQL and Redis service containers, runs chaosload with --junit and
// keeps the JUnit and HTML reports as artifacts; its experiment validates.
func TestCIExample(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../docs/ci/github-actions.yml")
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		Jobs map[string]struct {
			Services map[string]struct {
				Image string `yaml:"image"`
			} `yaml:"services"`
			Steps []struct {
				Uses string            `yaml:"uses"`
				Run  string            `yaml:"run"`
				With map[string]string `yaml:"with"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(data, &wf); err != nil {
		t.Fatalf("github-actions.yml: %v", err)
	}
	job, ok := wf.Jobs["chaos"]
	if !ok || !strings.HasPrefix(job.Services["postgres"].Image, "postgres:") || !strings.HasPrefix(job.Services["redis"].Image, "redis:") {
		t.Fatalf("no job with PostgreSQL and Redis service containers: %+v", wf.Jobs)
	}
	var runs, uploads bool
	for _, s := range job.Steps {
		if strings.Contains(s.Run, "chaosload run docs/ci/experiment.yaml") && strings.Contains(s.Run, "--junit") {
			runs = true
		}
		if strings.HasPrefix(s.Uses, "actions/upload-artifact") &&
			strings.Contains(s.With["path"], "junit.xml") && strings.Contains(s.With["path"], "report.html") {
			uploads = true
		}
	}
	if !runs || !uploads {
		t.Fatalf("the workflow runs chaosload with --junit: %v; uploads JUnit and HTML: %v", runs, uploads)
	}
	code, stdout, stderr := invoke(t, context.Background(), "validate", "../../docs/ci/experiment.yaml")
	if code != exitOK {
		t.Fatalf("docs/ci/experiment.yaml: exit %d\n%s%s", code, stdout, stderr)
	}
}

// TestReadmeDocumentsReadiness: every metric a criterion can name and every
// recommendation rule has its row in the README.
func TestReadmeDocumentsReadiness(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	for _, m := range readiness.MetricNames() {
		if !strings.Contains(readme, "`"+m+"`") {
			t.Errorf("README does not document the metric %s", m)
		}
	}
	for _, r := range readiness.Rules() {
		if !strings.Contains(readme, "| `"+r.Name+"` | "+r.Kind+" |") {
			t.Errorf("README does not document the rule %s", r.Name)
		}
	}
}
