package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
)

const (
	ns         = "default"
	indexLabel = "batch.kubernetes.io/job-completion-index"
	jobLabel   = "batch.kubernetes.io/job-name"
)

// TestDistributedRunOnControlPlane: on a real control plane, the rendered
// manifests of a distributed run are created with strict validation; the
// scheduler places the coordinator and an Indexed Job of 3 workers on 3
// Nodes; the first pod of worker 1 is SIGKILLed right after its start
// (before it could register), the Job controller retries the index, and
// the run ends with one verdict, PASSED, every index completed once.
func TestDistributedRunOnControlPlane(t *testing.T) {
	began := time.Now()
	bins := binariesFromEnv(t)
	cp := startControlPlane(t, bins)
	t.Logf("control plane ready in %v", time.Since(began).Round(time.Millisecond))
	podDir := t.TempDir()
	crash := &crashPlan{crashed: map[string]bool{}}
	for i := range 3 {
		startAgent(t, cp.client, fmt.Sprintf("node-%d", i), podDir, map[string]string{"chaosload:e2e": bins.chaosload}, crash.match)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("pods' output:\n%s\ncontrol plane:\n%s", podLogs(podDir), cp.logs())
		}
	})
	waitSchedulable(t, cp, 3)
	t.Logf("3 nodes schedulable at %v", time.Since(began).Round(time.Millisecond))
	cl := &cluster{controlPlane: cp, creator: newCreator(t, cp), bins: bins, podDir: podDir}

	t.Run("plain-load", func(t *testing.T) {
		var served atomic.Int64
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { served.Add(1) }))
		t.Cleanup(srv.Close)
		file := filepath.Join(t.TempDir(), "load.yaml")
		if err := os.WriteFile(file, []byte(plainLoad), 0o600); err != nil {
			t.Fatal(err)
		}
		cl.run(t, "plain", file, "--set", "scenarios.users.steps.0.http.url="+srv.URL+"/")
		t.Logf("the test's server answered %d requests", served.Load())
	})
	t.Run("db-exhaustion", func(t *testing.T) {
		cl.run(t, "demo", "../../experiments/db-exhaustion.yaml", demoShortened...)
	})
}

// demoShortened shortens the demo experiment as cmd/chaosload's
// TestDBExhaustionGracefulPasses does: 25 s of load at 100 arrivals/s, the
// fault from 8 s to 13 s, against the graceful demo.
var demoShortened = []string{
	"--set", "stack.mode=graceful",
	"--set", "scenarios.shoppers.duration=25s",
	"--set", "recovery.within=10s",
	"--set", "recovery.hold=1s",
	"--set", "recovery.window=1s",
	"--set", "thresholds.latency=p(95) < 1s",
	"--set", "scenarios.shoppers.rate=100",
	"--set", "faults.pg-connections-exhausted.startTime=8s",
	"--set", "faults.pg-connections-exhausted.duration=5s",
	"--set", "faults.drop-app-connections.startTime=8s",
}

// plainLoad is a small load whose URL the test sets to its own server.
const plainLoad = `version: 1
name: k8s-e2e-plain
scenarios:
  users:
    executor: constant-arrival-rate
    rate: 60
    duration: 10s
    preAllocatedVUs: 30
    maxVUs: 300
    steps:
      - name: get
        http: {method: GET, url: "http://127.0.0.1:9/unset"}
thresholds:
  errors: ["rate < 1%"]
`

// cluster is the control plane with its 3 nodes.
type cluster struct {
	*controlPlane
	creator *creator
	bins    binaries
	podDir  string // each pod's directory, its output there
}

// run renders file for 3 workers under name, creates the objects, waits
// for both Jobs and checks the run's outcome.
func (cl *cluster) run(t *testing.T, name, file string, sets ...string) {
	began := time.Now()
	ctx := context.Background()
	objs := render(t, cl.bins.chaosload, freePort(t), file, append([]string{"--workers=3", "--image=chaosload:e2e", "--name=" + name}, sets...)...)
	cl.creator.proveStrict(t, ns, objs)
	token := make([]byte, 16)
	_, _ = rand.Read(token)
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name + "-token"}, Data: map[string][]byte{"token": []byte(hex.EncodeToString(token))}}
	if _, err := cl.client.CoreV1().Secrets(ns).Create(ctx, secret, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create the token's Secret: %v", err)
	}
	t.Cleanup(func() { cl.delete(t, name, objs) })
	for _, o := range objs {
		if err := cl.creator.create(ctx, ns, o, false); err != nil {
			t.Fatal(err)
		}
	}
	coord, workers := cl.waitJob(t, name+"-coordinator"), cl.waitJob(t, name+"-workers")
	t.Logf("%s: both Jobs finished %v after the render", name, time.Since(began).Round(time.Millisecond))
	cl.checkCoordinator(t, coord)
	cl.checkWorkers(t, workers)
}

// checkCoordinator: the coordinator's one pod exited 0 and printed one
// verdict, PASSED.
func (cl *cluster) checkCoordinator(t *testing.T, job *batchv1.Job) {
	pods := cl.jobPods(t, job.Name)
	if len(pods) != 1 || exitCode(pods[0]) != 0 {
		t.Fatalf("coordinator: want one pod that exited 0, got %s", describe(pods))
	}
	out := tail(filepath.Join(cl.podDir, pods[0].Name, "container.out"))
	if n := strings.Count(out, "Verdict:"); n != 1 || !strings.Contains(out, "Verdict: PASSED") {
		t.Fatalf("coordinator: want one verdict, PASSED; got %d verdicts:\n%s", n, out)
	}
	t.Logf("coordinator %s on %s, its output:\n%s", pods[0].Name, pods[0].Spec.NodeName, out)
}

// checkWorkers: every index completed, and index 1 ran twice: its first
// pod, crashed before the start, failed; the Job controller's retry
// succeeded.
func (cl *cluster) checkWorkers(t *testing.T, job *batchv1.Job) {
	s := job.Status
	t.Logf("workers Job: completedIndexes %q, succeeded %d, failed %d", s.CompletedIndexes, s.Succeeded, s.Failed)
	if s.CompletedIndexes != "0-2" || s.Succeeded != 3 || s.Failed != 1 {
		t.Fatalf("workers Job: want completedIndexes \"0-2\", succeeded 3, failed 1; got %q, %d, %d", s.CompletedIndexes, s.Succeeded, s.Failed)
	}
	var one []corev1.Pod
	for _, p := range cl.jobPods(t, job.Name) {
		if p.Annotations[indexLabel] == "1" {
			one = append(one, p)
		}
	}
	if len(one) != 2 || one[0].Status.Phase != corev1.PodFailed || exitCode(one[0]) != 137 ||
		one[1].Status.Phase != corev1.PodSucceeded || exitCode(one[1]) != 0 {
		t.Fatalf("worker 1: want a failed pod (exit 137) and a retry that succeeded, got %s", describe(one))
	}
	t.Logf("worker 1: %s, retried %v after its crash", describe(one),
		one[1].CreationTimestamp.Sub(one[0].Status.ContainerStatuses[0].State.Terminated.FinishedAt.Time).Round(time.Second))
}

// crashPlan SIGKILLs the first pod of worker 1 of every workers Job.
type crashPlan struct {
	mu      sync.Mutex
	crashed map[string]bool // job → its pod was crashed
}

// match says whether the agent is to SIGKILL pod right after its start.
func (c *crashPlan) match(pod *corev1.Pod) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	job := pod.Labels[jobLabel]
	if !strings.HasSuffix(job, "-workers") || pod.Annotations[indexLabel] != "1" || c.crashed[job] {
		return false
	}
	c.crashed[job] = true
	return true
}

// waitSchedulable waits until n Nodes are Ready without taints (the node
// lifecycle controller lifts the not-ready taint a new Node starts with)
// and the namespace has its default ServiceAccount, which pods need.
func waitSchedulable(t *testing.T, cp *controlPlane, n int) {
	err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, 5*time.Minute, true, func(ctx context.Context) (bool, error) {
		nodes, err := cp.client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err == nil {
			_, err = cp.client.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{})
		}
		if err != nil {
			return false, nil
		}
		ready := 0
		for _, node := range nodes.Items {
			if len(node.Spec.Taints) == 0 {
				ready++
			}
		}
		return ready == n, nil
	})
	if err != nil {
		t.Fatalf("%d Nodes schedulable: %v", n, err)
	}
}

// waitJob waits until the Job has finished (complete or failed) and returns it.
func (cl *cluster) waitJob(t *testing.T, name string) *batchv1.Job {
	var job *batchv1.Job
	err := wait.PollUntilContextTimeout(context.Background(), 500*time.Millisecond, 10*time.Minute, true, func(ctx context.Context) (bool, error) {
		j, err := cl.client.BatchV1().Jobs(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		job = j
		for _, c := range j.Status.Conditions {
			if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("Job %s did not finish: %v; status %+v", name, err, job)
	}
	return job
}
