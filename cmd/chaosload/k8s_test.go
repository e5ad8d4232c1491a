package main

import (
	"context"
	"os"
	"strings"
	"testing"
)

// The manifests themselves are decoded strictly into the Kubernetes API's
// types, and what they hold is checked, by the nested module k8s/manifests
// (its own go.mod keeps k8s.io out of this one); these tests check the
// command: its flags, its refusals, and that deploy/k8s is its render.

// TestK8sRender: the committed deploy/k8s/chaosload.yaml is the render of
// deploy/k8s/experiment.yaml for 3 workers.
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
}

// TestK8sRenderStack: a file with targets and a stack (the demo's
// db-exhaustion) renders; the coordinator listens on its pod's IP at
// --port and advertises its proxies there, and stderr says which image a
// stack needs.
func TestK8sRenderStack(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := invoke(t, context.Background(), "k8s", "render", "../../experiments/db-exhaustion.yaml", "--workers", "3", "--port", "7171")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"- --listen=$(POD_IP):7171", "- --advertise=$(POD_IP)", "fieldPath: status.podIP", "--coordinator=http://chaosload-coordinator:7171"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the render lacks %q", want)
		}
	}
	if !strings.Contains(stderr, "has a stack") || !strings.Contains(stderr, "docker build --target demo") {
		t.Errorf("stderr does not name the image a stack needs: %q", stderr)
	}
}

// TestK8sRenderRefusesUnreachable: a target with a listen address of its
// own (loopback) or a step naming ${stack.NAME} cannot be reached from the
// workers' pods: refused, exit 2, naming it.
func TestK8sRenderRefusesUnreachable(t *testing.T) {
	t.Parallel()
	f := writeExperiments(t, map[string]string{"listened": listenedExperiment, "stack-step": stackStepExperiment})
	for name, want := range map[string]string{
		"listened":   "targets.api.listen: target api listens on 127.0.0.1:0",
		"stack-step": "${stack.api} is an address on the coordinator's loopback",
	} {
		code, _, stderr := invoke(t, context.Background(), "k8s", "render", f[name], "--workers", "3")
		if code != exitInvalid || !strings.Contains(stderr, want) {
			t.Errorf("%s: exit %d, stderr %q; want exit 2 saying %q", name, code, stderr, want)
		}
	}
}
