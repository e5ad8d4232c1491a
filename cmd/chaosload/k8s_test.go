package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// k8sObject is what the test reads of a rendered manifest (plain YAML
// decoding: the k8s.io/api types would bring a heavy dependency into the
// main module for one test).
type k8sObject struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Data map[string]string `yaml:"data"`
	Spec struct {
		CompletionMode       string `yaml:"completionMode"`
		Completions          int    `yaml:"completions"`
		Parallelism          int    `yaml:"parallelism"`
		BackoffLimit         *int   `yaml:"backoffLimit"`
		BackoffLimitPerIndex *int   `yaml:"backoffLimitPerIndex"`
		PodFailurePolicy     struct {
			Rules []struct {
				Action      string `yaml:"action"`
				OnExitCodes struct {
					ContainerName string `yaml:"containerName"`
					Operator      string `yaml:"operator"`
					Values        []int  `yaml:"values"`
				} `yaml:"onExitCodes"`
			} `yaml:"rules"`
		} `yaml:"podFailurePolicy"`
		Ports []struct {
			Port int `yaml:"port"`
		} `yaml:"ports"`
		Template struct {
			Spec struct {
				RestartPolicy string `yaml:"restartPolicy"`
				Containers    []struct {
					Name string   `yaml:"name"`
					Args []string `yaml:"args"`
				} `yaml:"containers"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

// TestK8sRender: the rendered manifests are the committed
// deploy/k8s/chaosload.yaml; they decode as a ConfigMap holding the file, a
// Service and a coordinator Job that never retries, and an Indexed Job of 3
// workers whose index fails, never retries, on exit codes 2 and 5.
func TestK8sRender(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := invoke(t, context.Background(), "k8s", "render", "../../deploy/k8s/experiment.yaml", "--workers", "3")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	committed, err := os.ReadFile("../../deploy/k8s/chaosload.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if stdout != string(committed) {
		t.Errorf("deploy/k8s/chaosload.yaml differs from the render: run chaosload k8s render deploy/k8s/experiment.yaml --workers 3 > deploy/k8s/chaosload.yaml")
	}
	objs := decodeAll(t, stdout)
	var kinds []string
	for _, o := range objs {
		kinds = append(kinds, o.Kind+"/"+o.Metadata.Name)
	}
	want := []string{"ConfigMap/chaosload-experiment", "Service/chaosload-coordinator", "Job/chaosload-coordinator", "Job/chaosload-workers"}
	if !slices.Equal(kinds, want) {
		t.Fatalf("objects %v, want %v", kinds, want)
	}
	file, _ := os.ReadFile("../../deploy/k8s/experiment.yaml")
	if objs[0].Data["experiment.yaml"] != string(file) {
		t.Errorf("the ConfigMap does not hold the experiment file as it is")
	}
	coord, workers := objs[2].Spec, objs[3].Spec
	if *coord.BackoffLimit != 0 || !slices.Contains(coord.Template.Spec.Containers[0].Args, "--workers=3") {
		t.Errorf("coordinator: backoffLimit %d, args %v", *coord.BackoffLimit, coord.Template.Spec.Containers[0].Args)
	}
	rule := workers.PodFailurePolicy.Rules[0]
	if workers.CompletionMode != "Indexed" || workers.Completions != 3 || workers.Parallelism != 3 || *workers.BackoffLimitPerIndex != 2 ||
		rule.Action != "FailIndex" || rule.OnExitCodes.Operator != "In" || !slices.Equal(rule.OnExitCodes.Values, []int{exitInvalid, exitIncomplete}) ||
		rule.OnExitCodes.ContainerName != "worker" || workers.Template.Spec.RestartPolicy != "Never" {
		t.Errorf("workers: %+v", workers)
	}
}

// TestK8sRenderRefusesProxies: a file with targets (fault proxies on the
// coordinator pod's loopback) cannot run across pods: refused, exit 2.
func TestK8sRenderRefusesProxies(t *testing.T) {
	t.Parallel()
	code, _, stderr := invoke(t, context.Background(), "k8s", "render", "../../experiments/db-exhaustion.yaml", "--workers", "3")
	if code != exitInvalid || !strings.Contains(stderr, "cannot have targets or a stack") {
		t.Fatalf("exit %d, want 2 naming the targets: %s", code, stderr)
	}
}

// decodeAll decodes every YAML document of s.
func decodeAll(t *testing.T, s string) []k8sObject {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader([]byte(s)))
	var out []k8sObject
	for {
		var o k8sObject
		err := dec.Decode(&o)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("document %d: %v", len(out)+1, err)
		}
		out = append(out, o)
	}
}
