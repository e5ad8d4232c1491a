package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/kubernetes/pkg/fieldpath"
	"k8s.io/kubernetes/third_party/forked/golang/expansion"
)

// command is what a pod's first container runs here, as a local process.
type command struct {
	path string
	args []string
	env  []string
}

// command resolves pod's first container as a kubelet would, for a
// process in dir: the image is a local binary; env values, Secret keys
// and downward-API fields make the environment; $(VAR) in args expands
// from it; configMap volumes are written under dir and their mount paths
// in args point there. The pods share the host's network: the test stands
// in for cluster DNS and kube-proxy, and a Service's name in args
// (http://NAME:PORT) becomes 127.0.0.1, where the pod behind it listens
// on the Service's targetPort (the render makes both ports one).
func (a *agent) command(ctx context.Context, pod *corev1.Pod, dir string) (command, error) {
	c := pod.Spec.Containers[0]
	bin, ok := a.images[c.Image]
	if !ok || len(c.Command) > 0 {
		return command{}, fmt.Errorf("container %s: image %q with command %q: no local binary stands in for it", c.Name, c.Image, c.Command)
	}
	vars, env, err := a.env(ctx, pod, c.Env)
	if err != nil {
		return command{}, fmt.Errorf("container %s: %w", c.Name, err)
	}
	rewrite, err := a.rewrites(ctx, pod, c, dir)
	if err != nil {
		return command{}, fmt.Errorf("container %s: %w", c.Name, err)
	}
	cmd := command{path: bin, env: append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}, env...)}
	for _, arg := range c.Args {
		cmd.args = append(cmd.args, rewrite.Replace(expansion.Expand(arg, expansion.MappingFuncFor(vars))))
	}
	return cmd, nil
}

// env resolves the container's environment, in order (a value may refer to
// an earlier variable as $(NAME)).
func (a *agent) env(ctx context.Context, pod *corev1.Pod, vars []corev1.EnvVar) (map[string]string, []string, error) {
	m := map[string]string{}
	var list []string
	for _, v := range vars {
		val := expansion.Expand(v.Value, expansion.MappingFuncFor(m))
		var err error
		switch from := v.ValueFrom; {
		case from == nil:
		case from.SecretKeyRef != nil:
			val, err = a.secretKey(ctx, pod.Namespace, from.SecretKeyRef)
		case from.FieldRef != nil:
			val, err = fieldValue(pod, from.FieldRef.FieldPath)
		default:
			err = fmt.Errorf("env %s: only secretKeyRef and fieldRef are supported here", v.Name)
		}
		if err != nil {
			return nil, nil, err
		}
		m[v.Name] = val
		list = append(list, v.Name+"="+val)
	}
	return m, list, nil
}

// secretKey is one key of a Secret.
func (a *agent) secretKey(ctx context.Context, ns string, ref *corev1.SecretKeySelector) (string, error) {
	s, err := a.client.CoreV1().Secrets(ns).Get(ctx, ref.Name, metav1.GetOptions{})
	if err != nil {
		return "", fmt.Errorf("secret %s: %w", ref.Name, err)
	}
	v, ok := s.Data[ref.Key]
	if !ok {
		return "", fmt.Errorf("secret %s has no key %q", ref.Name, ref.Key)
	}
	return string(v), nil
}

// fieldValue is a downward-API field. JOB_COMPLETION_INDEX is one: the Job
// controller sets it from the annotation batch.kubernetes.io/job-completion-index.
func fieldValue(pod *corev1.Pod, path string) (string, error) {
	switch path {
	case "status.podIP", "status.podIPs", "status.hostIP", "status.hostIPs":
		return "127.0.0.1", nil // the host's network, on loopback
	}
	return fieldpath.ExtractFieldPathAsString(pod, path)
}

// rewrites writes the container's configMap volumes under dir and returns
// what its args need rewritten: each such mount path to its directory,
// each Service's name in a URL to 127.0.0.1.
func (a *agent) rewrites(ctx context.Context, pod *corev1.Pod, c corev1.Container, dir string) (*strings.Replacer, error) {
	var pairs []string
	for _, m := range c.VolumeMounts {
		for _, v := range pod.Spec.Volumes {
			if v.Name != m.Name || v.ConfigMap == nil {
				continue
			}
			cm, err := a.client.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, v.ConfigMap.Name, metav1.GetOptions{})
			if err != nil {
				return nil, fmt.Errorf("volume %s: %w", v.Name, err)
			}
			vdir := filepath.Join(dir, "volumes", v.Name)
			if err := os.MkdirAll(vdir, 0o700); err != nil {
				return nil, err
			}
			for k, data := range cm.Data {
				if err := os.WriteFile(filepath.Join(vdir, k), []byte(data), 0o600); err != nil {
					return nil, err
				}
			}
			pairs = append(pairs, strings.TrimSuffix(m.MountPath, "/")+"/", vdir+"/")
		}
	}
	svcs, err := a.client.CoreV1().Services(pod.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("services: %w", err)
	}
	for _, s := range svcs.Items {
		pairs = append(pairs, "://"+s.Name+":", "://127.0.0.1:")
	}
	return strings.NewReplacer(pairs...), nil
}
