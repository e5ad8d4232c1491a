package manifests

import (
	"slices"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/chaosload/chaosload/cluster"
)

// onlyContainer checks what the coordinator's and the workers' pods share
// and returns their one container, named name: restartPolicy Never (a
// Job's pod is replaced, never restarted in place, so the podFailurePolicy
// sees its exit code), the image, the experiment mounted at /experiment
// from the ConfigMap, and the token from the Secret NAME-token.
func onlyContainer(t *testing.T, job *batchv1.Job, name string, spec cluster.K8sSpec) corev1.Container {
	t.Helper()
	pod := job.Spec.Template.Spec
	if pod.RestartPolicy != corev1.RestartPolicyNever || len(pod.Containers) != 1 {
		t.Fatalf("%s: restartPolicy %q, %d containers; want Never and 1", job.Name, pod.RestartPolicy, len(pod.Containers))
	}
	c := pod.Containers[0]
	if c.Name != name || c.Image != spec.Image {
		t.Errorf("%s: container %q of image %q, want %q of %q", job.Name, c.Name, c.Image, name, spec.Image)
	}
	if len(pod.Volumes) != 1 || pod.Volumes[0].ConfigMap == nil || pod.Volumes[0].ConfigMap.Name != spec.Name+"-experiment" ||
		len(c.VolumeMounts) != 1 || c.VolumeMounts[0].Name != pod.Volumes[0].Name || c.VolumeMounts[0].MountPath != "/experiment" {
		t.Errorf("%s: volumes %+v, mounts %+v; want the ConfigMap %s-experiment at /experiment", job.Name, pod.Volumes, c.VolumeMounts, spec.Name)
	}
	tok := envVar(c, "CHAOSLOAD_TOKEN")
	if tok == nil || tok.ValueFrom == nil || tok.ValueFrom.SecretKeyRef == nil ||
		tok.ValueFrom.SecretKeyRef.Name != spec.Name+"-token" || tok.ValueFrom.SecretKeyRef.Key != "token" {
		t.Errorf("%s: env CHAOSLOAD_TOKEN %+v, want it from secretKeyRef %s-token, key token", job.Name, tok, spec.Name)
	}
	return c
}

// envVar is the container's variable name, nil when it has none.
func envVar(c corev1.Container, name string) *corev1.EnvVar {
	for i := range c.Env {
		if c.Env[i].Name == name {
			return &c.Env[i]
		}
	}
	return nil
}

// failsIndexOn reports whether rule fails the index when the container
// exits with one of codes (and only those).
func failsIndexOn(rule batchv1.PodFailurePolicyRule, container string, codes ...int32) bool {
	on := rule.OnExitCodes
	return rule.Action == batchv1.PodFailurePolicyActionFailIndex && len(rule.OnPodConditions) == 0 && on != nil &&
		on.ContainerName != nil && *on.ContainerName == container && on.Operator == batchv1.PodFailurePolicyOnExitCodesOpIn &&
		slices.Equal(on.Values, codes)
}

// deref is *p, or the zero value when p is nil (for messages).
func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
