package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/retry"
)

// agent stands in for a kubelet on one Node: it registers the Node,
// heartbeats its Ready condition, and runs each pod bound to it as a local
// process (podspec_test.go turns the container into a command), reporting
// the pod's phase and its container's exit code. A deleted pod's process
// is stopped by its PID.
type agent struct {
	node   string
	client kubernetes.Interface
	images map[string]string // image → the local binary standing in for it
	root   string            // each pod runs in root/POD-NAME, its output there
	crash  func(*corev1.Pod) bool
	since  metav1.Time

	wg   sync.WaitGroup
	mu   sync.Mutex
	pods map[types.UID]*process // nil while starting
}

// startAgent registers node and runs its agent until the test ends, then
// stops every process it started. crash says which pods to SIGKILL right
// after their start.
func startAgent(tb testing.TB, client kubernetes.Interface, node, root string, images map[string]string, crash func(*corev1.Pod) bool) {
	tb.Helper()
	a := &agent{node: node, client: client, images: images, root: root, crash: crash,
		since: metav1.Now(), pods: map[types.UID]*process{}}
	ctx, cancel := context.WithCancel(context.Background())
	_, err := client.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: node,
		Labels: map[string]string{corev1.LabelHostname: node, corev1.LabelOSStable: "linux"}}}, metav1.CreateOptions{})
	if err == nil {
		err = a.heartbeat(ctx)
	}
	if err != nil {
		cancel()
		tb.Fatalf("register node %s: %v", node, err)
	}
	a.wg.Go(func() { a.beat(ctx) })
	a.wg.Go(func() { a.watch(ctx) })
	tb.Cleanup(func() {
		cancel() // every pod's goroutine stops its process
		a.wg.Wait()
	})
}

// beat heartbeats the Node every 5 s (the node lifecycle controller marks
// a Node whose heartbeat stops NotReady).
func (a *agent) beat(ctx context.Context) {
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			_ = a.heartbeat(ctx) // the next beat tries again
		}
	}
}

// heartbeat writes the Node's status: Ready, its capacity, its address.
func (a *agent) heartbeat(ctx context.Context) error {
	capacity := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"),
		corev1.ResourceMemory: resource.MustParse("8Gi"), corev1.ResourcePods: resource.MustParse("110")}
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		n, err := a.client.CoreV1().Nodes().Get(ctx, a.node, metav1.GetOptions{})
		if err != nil {
			return err
		}
		n.Status.Capacity, n.Status.Allocatable = capacity, capacity
		n.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "127.0.0.1"}}
		n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue,
			Reason: "AgentReady", LastHeartbeatTime: metav1.Now(), LastTransitionTime: a.since}}
		_, err = a.client.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{})
		return err
	})
}

// watch follows the pods bound to the Node until ctx ends.
func (a *agent) watch(ctx context.Context) {
	f := informers.NewSharedInformerFactoryWithOptions(a.client, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.FieldSelector = "spec.nodeName=" + a.node
	}))
	on := func(obj any) {
		if pod, ok := obj.(*corev1.Pod); ok {
			a.sync(ctx, pod)
		}
	}
	_, _ = f.Core().V1().Pods().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: on, UpdateFunc: func(_, obj any) { on(obj) },
		DeleteFunc: func(obj any) {
			if pod, ok := obj.(*corev1.Pod); ok {
				a.stopPod(pod.UID)
			}
		}})
	f.Start(ctx.Done())
	<-ctx.Done()
	f.Shutdown()
}

// sync starts a new pod, and stops a deleted one's process before
// removing the pod for good (as a kubelet does).
func (a *agent) sync(ctx context.Context, pod *corev1.Pod) {
	a.mu.Lock()
	_, known := a.pods[pod.UID]
	if !known && pod.DeletionTimestamp == nil && pod.Status.Phase == corev1.PodPending {
		a.pods[pod.UID] = nil
		a.wg.Go(func() { a.run(ctx, pod) })
	}
	a.mu.Unlock()
	if pod.DeletionTimestamp != nil {
		a.wg.Go(func() {
			a.stopPod(pod.UID)
			zero := int64(0)
			_ = a.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero,
				Preconditions: &metav1.Preconditions{UID: &pod.UID}})
		})
	}
}

// run runs pod's first container to its end and reports it.
func (a *agent) run(ctx context.Context, pod *corev1.Pod) {
	dir := filepath.Join(a.root, pod.Name)
	err := os.MkdirAll(dir, 0o700)
	var c command
	if err == nil {
		c, err = a.command(ctx, pod, dir)
	}
	var p *process
	if err == nil {
		p, err = startProcess(dir, "container", c.env, append([]string{c.path}, c.args...)...)
	}
	if err != nil {
		_ = os.WriteFile(filepath.Join(dir, "container.err"), []byte(err.Error()), 0o600)
		a.report(ctx, pod, corev1.PodFailed, corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
			ExitCode: 128, Reason: "StartError", Message: err.Error(), FinishedAt: metav1.Now()}})
		return
	}
	started := metav1.Now()
	a.mu.Lock()
	a.pods[pod.UID] = p
	a.mu.Unlock()
	if a.crash(pod) {
		_ = p.cmd.Process.Kill() // before it could have done anything
	}
	a.report(ctx, pod, corev1.PodRunning, corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: started}})
	select {
	case <-p.done:
	case <-ctx.Done(): // the test ends
		p.stop()
		return
	}
	code := p.exitCode()
	phase, reason := corev1.PodSucceeded, "Completed"
	if code != 0 {
		phase, reason = corev1.PodFailed, "Error"
	}
	a.report(ctx, pod, phase, corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
		ExitCode: code, Reason: reason, StartedAt: started, FinishedAt: metav1.Now()}})
}

// stopPod stops a pod's process, if it runs here.
func (a *agent) stopPod(uid types.UID) {
	a.mu.Lock()
	p := a.pods[uid]
	a.mu.Unlock()
	if p != nil {
		p.stop()
	}
}

// report writes the pod's phase and its container's state.
func (a *agent) report(ctx context.Context, pod *corev1.Pod, phase corev1.PodPhase, state corev1.ContainerState) {
	c := pod.Spec.Containers[0]
	pods := a.client.CoreV1().Pods(pod.Namespace)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur, err := pods.Get(ctx, pod.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		now, running := metav1.Now(), state.Running != nil
		s := &cur.Status
		s.Phase, s.HostIP, s.PodIP = phase, "127.0.0.1", "127.0.0.1"
		s.HostIPs, s.PodIPs = []corev1.HostIP{{IP: "127.0.0.1"}}, []corev1.PodIP{{IP: "127.0.0.1"}}
		if s.StartTime == nil {
			s.StartTime = &now
		}
		s.ContainerStatuses = []corev1.ContainerStatus{{Name: c.Name, Image: c.Image, ImageID: c.Image,
			ContainerID: fmt.Sprintf("agent://%s/%s", a.node, pod.UID), State: state, Ready: running, Started: &running}}
		_, err = pods.UpdateStatus(ctx, cur, metav1.UpdateOptions{})
		return err
	})
	if err != nil && !apierrors.IsNotFound(err) && ctx.Err() == nil {
		_ = os.WriteFile(filepath.Join(a.root, pod.Name, "agent.err"), []byte(fmt.Sprintf("report %s: %v\n", phase, err)), 0o600)
	}
}
