package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
)

// jobPods are the Job's pods, oldest first.
func (cl *cluster) jobPods(t *testing.T, job string) []corev1.Pod {
	list, err := cl.client.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: jobLabel + "=" + job})
	if err != nil {
		t.Fatalf("list the pods of Job %s: %v", job, err)
	}
	pods := list.Items
	slices.SortFunc(pods, func(a, b corev1.Pod) int { return a.CreationTimestamp.Compare(b.CreationTimestamp.Time) })
	return pods
}

// delete removes a run's objects and its Secret, and waits until its pods
// are gone (the agents stop a deleted pod's process first).
func (cl *cluster) delete(t *testing.T, name string, objs []*unstructured.Unstructured) {
	ctx := context.Background()
	err := errors.Join(cl.creator.deleteAll(ctx, ns, objs),
		cl.client.CoreV1().Secrets(ns).Delete(ctx, name+"-token", metav1.DeleteOptions{}))
	if err != nil {
		t.Errorf("teardown: %v", err)
	}
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		list, err := cl.client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=" + name})
		return err == nil && len(list.Items) == 0, nil
	})
	if err != nil {
		t.Errorf("teardown: the pods of %s are still there: %v", name, err)
	}
}

// exitCode is the pod's container's exit code, -1 while it has none.
func exitCode(p corev1.Pod) int32 {
	if cs := p.Status.ContainerStatuses; len(cs) == 1 && cs[0].State.Terminated != nil {
		return cs[0].State.Terminated.ExitCode
	}
	return -1
}

// describe is one line per pod: name, node, phase, exit code.
func describe(pods []corev1.Pod) string {
	var s []string
	for _, p := range pods {
		s = append(s, fmt.Sprintf("%s on %s %s exit %d", p.Name, p.Spec.NodeName, p.Status.Phase, exitCode(p)))
	}
	return fmt.Sprintf("%d pods [%s]", len(pods), strings.Join(s, "; "))
}

// podLogs is every pod's output tail, for a failure message.
func podLogs(root string) string {
	files, _ := filepath.Glob(filepath.Join(root, "*", "*.*"))
	var b strings.Builder
	for _, f := range files {
		if info, err := os.Stat(f); err == nil && info.Mode().IsRegular() {
			fmt.Fprintf(&b, "--- %s:\n%s\n", strings.TrimPrefix(f, root+"/"), tail(f))
		}
	}
	return b.String()
}
