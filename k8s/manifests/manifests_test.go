package manifests

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/chaosload/chaosload/cluster"
)

// The exit codes the workers' podFailurePolicy fails an index on, rather
// than retrying it: chaosload's 2 (refused: another experiment, or a retry
// registering after the start) and 5 (the coordinator lost after the
// start).
const (
	exitInvalid    = 2
	exitIncomplete = 5
)

// readFile reads a file of the repository.
func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// render renders spec's manifests.
func render(t *testing.T, spec cluster.K8sSpec) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := cluster.RenderK8s(&buf, spec); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestRenderDecodesStrictly: the manifests of the demo experiment (targets
// and a stack) for 1 and 3 workers, with the defaults and with a name,
// namespace, image, port and arguments of their own, decode strictly into
// the Kubernetes API's types and say what the run needs.
func TestRenderDecodesStrictly(t *testing.T) {
	t.Parallel()
	demo := readFile(t, "../../experiments/db-exhaustion.yaml")
	tests := []struct {
		what string
		spec cluster.K8sSpec
	}{
		{"1 worker, the defaults", cluster.K8sSpec{Workers: 1, Experiment: demo}},
		{"3 workers, a name, namespace, image, port and arguments of their own", cluster.K8sSpec{Workers: 3, Experiment: demo,
			Name: "shop-chaos", Namespace: "load", Image: "chaosload-demo:v1", Port: 7171,
			Args: []string{"--quick", "--set=stack.mode=naive"}}},
	}
	for _, tc := range tests {
		t.Run(tc.what, func(t *testing.T) {
			t.Parallel()
			checkManifests(t, render(t, tc.spec), tc.spec)
		})
	}
}

// TestDeployedManifests: deploy/k8s/chaosload.yaml, as committed (cmd's
// TestK8sRender checks it is the render of deploy/k8s/experiment.yaml for
// 3 workers), decodes strictly and says what the run needs.
func TestDeployedManifests(t *testing.T) {
	t.Parallel()
	spec := cluster.K8sSpec{Workers: 3, Experiment: readFile(t, "../../deploy/k8s/experiment.yaml")}
	checkManifests(t, readFile(t, "../../deploy/k8s/chaosload.yaml"), spec)
}

// TestStrictDecodingRefuses: the decoding is strict, as the API server's
// strict field validation: a manifest with an unknown field, a field
// written in another case, or a field given twice does not decode.
func TestStrictDecodingRefuses(t *testing.T) {
	t.Parallel()
	rendered := string(render(t, cluster.K8sSpec{Workers: 3, Experiment: readFile(t, "../../experiments/db-exhaustion.yaml")}))
	tests := []struct {
		what     string
		old, new string
		want     string // in the error
	}{
		{"an unknown field", "  completionMode: Indexed", "  completionsMode: Indexed\n  completionMode: Indexed", `unknown field "spec.completionsMode"`},
		{"a field in another case", "  parallelism: 3\n", "  Parallelism: 3\n", `unknown field "spec.Parallelism"`},
		{"a field given twice", "  parallelism: 3\n", "  parallelism: 3\n  parallelism: 3\n", `"parallelism" already set`},
	}
	for _, tc := range tests {
		if !strings.Contains(rendered, tc.old) {
			t.Fatalf("%s: the render has no %q to change", tc.what, tc.old)
		}
		_, err := decodeStrict([]byte(strings.Replace(rendered, tc.old, tc.new, 1)))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one saying %s", tc.what, err, tc.want)
		}
	}
}

// checkManifests decodes data strictly and checks it against what spec
// asked for: the ConfigMap holds the file byte for byte, the Service
// routes to the coordinator, the coordinator and the workers run as
// checkCoordinator and checkWorkers say.
func checkManifests(t *testing.T, data []byte, spec cluster.K8sSpec) {
	t.Helper()
	objs, err := decodeStrict(data)
	if err != nil {
		t.Fatal(err)
	}
	want := spec.WithDefaults()
	var kinds []string
	for _, o := range objs {
		kinds = append(kinds, o.Kind+" "+o.Value.GetName())
		if o.Value.GetNamespace() != want.Namespace {
			t.Errorf("%s %s: namespace %q, want %q", o.Kind, o.Value.GetName(), o.Value.GetNamespace(), want.Namespace)
		}
	}
	n := want.Name
	wantKinds := []string{"v1/ConfigMap " + n + "-experiment", "v1/Service " + n + "-coordinator",
		"batch/v1/Job " + n + "-coordinator", "batch/v1/Job " + n + "-workers"}
	if !slices.Equal(kinds, wantKinds) {
		t.Fatalf("objects %q, want %q", kinds, wantKinds)
	}
	cm := objs[0].Value.(*corev1.ConfigMap)
	if len(cm.Data) != 1 || cm.Data["experiment.yaml"] != string(spec.Experiment) {
		t.Errorf("the ConfigMap does not hold the experiment file byte for byte: keys %d", len(cm.Data))
	}
	coord, workers := objs[2].Value.(*batchv1.Job), objs[3].Value.(*batchv1.Job)
	checkService(t, objs[1].Value.(*corev1.Service), coord, want.Port)
	checkCoordinator(t, coord, want)
	checkWorkers(t, workers, want)
}

// checkService: the Service selects the coordinator's pod (and only its
// labels) and routes the coordinator's port to it.
func checkService(t *testing.T, svc *corev1.Service, coord *batchv1.Job, port int) {
	t.Helper()
	labels := coord.Spec.Template.Labels
	for k, v := range svc.Spec.Selector {
		if labels[k] != v {
			t.Errorf("service selector %s=%s does not match the coordinator's pod labels %v", k, v, labels)
		}
	}
	if len(svc.Spec.Selector) == 0 || len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Port != int32(port) ||
		svc.Spec.Ports[0].TargetPort.IntValue() != port {
		t.Errorf("service: selector %v, ports %+v; want port and target port %d", svc.Spec.Selector, svc.Spec.Ports, port)
	}
}

// checkCoordinator: a Job never retried, whose one container runs the
// file with --workers, listens on its pod's IP (POD_IP from the downward
// API), advertises its proxies there, and reads the token from the
// Secret.
func checkCoordinator(t *testing.T, job *batchv1.Job, spec cluster.K8sSpec) {
	t.Helper()
	if job.Spec.BackoffLimit == nil || *job.Spec.BackoffLimit != 0 {
		t.Errorf("coordinator: backoffLimit %v, want 0 (a run is judged once)", deref(job.Spec.BackoffLimit))
	}
	c := onlyContainer(t, job, "coordinator", spec)
	want := append([]string{"run", "/experiment/experiment.yaml", fmt.Sprintf("--workers=%d", spec.Workers),
		fmt.Sprintf("--listen=$(POD_IP):%d", spec.Port), "--advertise=$(POD_IP)", "--quiet"}, spec.Args...)
	if !slices.Equal(c.Args, want) {
		t.Errorf("coordinator: args %q, want %q", c.Args, want)
	}
	if ip := envVar(c, "POD_IP"); ip == nil || ip.Value != "" || ip.ValueFrom == nil || ip.ValueFrom.FieldRef == nil ||
		ip.ValueFrom.FieldRef.FieldPath != "status.podIP" {
		t.Errorf("coordinator: env POD_IP %+v, want it from fieldRef status.podIP", ip)
	}
	if len(c.Ports) != 1 || c.Ports[0].ContainerPort != int32(spec.Port) {
		t.Errorf("coordinator: container ports %+v, want %d", c.Ports, spec.Port)
	}
}

// checkWorkers: an Indexed Job of N completions all in parallel, each
// index retried up to RetriesPerIndex times, but failed at once on exit
// codes 2 and 5 of its worker container; each worker dials the Service.
func checkWorkers(t *testing.T, job *batchv1.Job, spec cluster.K8sSpec) {
	t.Helper()
	s := job.Spec
	n := int32(spec.Workers)
	if s.CompletionMode == nil || *s.CompletionMode != batchv1.IndexedCompletion || s.Completions == nil || *s.Completions != n ||
		s.Parallelism == nil || *s.Parallelism != n || s.BackoffLimitPerIndex == nil || *s.BackoffLimitPerIndex != int32(spec.RetriesPerIndex) {
		t.Errorf("workers: completionMode %v, completions %v, parallelism %v, backoffLimitPerIndex %v; want Indexed, %d, %d, %d",
			deref(s.CompletionMode), deref(s.Completions), deref(s.Parallelism), deref(s.BackoffLimitPerIndex), n, n, spec.RetriesPerIndex)
	}
	if p := s.PodFailurePolicy; p == nil || len(p.Rules) != 1 || !failsIndexOn(p.Rules[0], "worker", exitInvalid, exitIncomplete) {
		t.Errorf("workers: podFailurePolicy %+v, want one rule: FailIndex on exit codes 2 and 5 of container worker", s.PodFailurePolicy)
	}
	c := onlyContainer(t, job, "worker", spec)
	want := append([]string{"worker", "/experiment/experiment.yaml",
		fmt.Sprintf("--coordinator=http://%s-coordinator:%d", spec.Name, spec.Port)}, spec.Args...)
	if !slices.Equal(c.Args, want) {
		t.Errorf("workers: args %q, want %q", c.Args, want)
	}
}
