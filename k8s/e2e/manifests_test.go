package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
)

// render runs `chaosload k8s render FILE ARGS…` for a coordinator on port
// and returns its objects.
func render(tb testing.TB, bin string, port int, file string, args ...string) []*unstructured.Unstructured {
	tb.Helper()
	cmd := exec.Command(bin, append([]string{"k8s", "render", file, "--port=" + strconv.Itoa(port)}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("chaosload k8s render %s: %v\n%s", file, err, stderr.String())
	}
	var objs []*unstructured.Unstructured
	dec := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(out), 4096)
	for {
		u := &unstructured.Unstructured{}
		err := dec.Decode(&u.Object)
		if errors.Is(err, io.EOF) {
			return objs
		}
		if err != nil {
			tb.Fatalf("decode the rendered manifests: %v\n%s", err, out)
		}
		if len(u.Object) > 0 {
			objs = append(objs, u)
		}
	}
}

// creator creates objects through the API server as kubectl does, with
// strict field validation: an unknown or duplicate field is refused, not
// dropped.
type creator struct {
	dyn    dynamic.Interface
	mapper *restmapper.DeferredDiscoveryRESTMapper
}

// newCreator is a creator for cp's API server.
func newCreator(tb testing.TB, cp *controlPlane) *creator {
	tb.Helper()
	dyn, err := dynamic.NewForConfig(cp.config)
	if err != nil {
		tb.Fatalf("a dynamic client: %v", err)
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cp.config)
	if err != nil {
		tb.Fatalf("a discovery client: %v", err)
	}
	return &creator{dyn: dyn, mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc))}
}

// create creates obj in ns; dryRun asks the server to validate it only.
func (c *creator) create(ctx context.Context, ns string, obj *unstructured.Unstructured, dryRun bool) error {
	gvk := obj.GroupVersionKind()
	m, err := c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return fmt.Errorf("%s %s: %w", gvk.Kind, obj.GetName(), err)
	}
	opts := metav1.CreateOptions{FieldValidation: metav1.FieldValidationStrict}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	if _, err := c.dyn.Resource(m.Resource).Namespace(ns).Create(ctx, obj, opts); err != nil {
		return fmt.Errorf("create %s %s: %w", gvk.Kind, obj.GetName(), err)
	}
	return nil
}

// deleteAll deletes objs from ns, the pods of a Job with it.
func (c *creator) deleteAll(ctx context.Context, ns string, objs []*unstructured.Unstructured) error {
	var errs []error
	background := metav1.DeletePropagationBackground
	for _, o := range objs {
		gvk := o.GroupVersionKind()
		m, err := c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err == nil {
			err = c.dyn.Resource(m.Resource).Namespace(ns).Delete(ctx, o.GetName(), metav1.DeleteOptions{PropagationPolicy: &background})
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("delete %s %s: %w", gvk.Kind, o.GetName(), err))
		}
	}
	return errors.Join(errs...)
}

// proveStrict shows that the API server refuses a rendered Job with one
// unknown field: the validation that accepts the manifests is strict.
func (c *creator) proveStrict(tb testing.TB, ns string, objs []*unstructured.Unstructured) {
	tb.Helper()
	for _, o := range objs {
		if o.GetKind() != "Job" {
			continue
		}
		bad := o.DeepCopy()
		if err := unstructured.SetNestedField(bad.Object, int64(3), "spec", "completionz"); err != nil {
			tb.Fatal(err)
		}
		err := c.create(context.Background(), ns, bad, true)
		if err == nil || !strings.Contains(err.Error(), `strict decoding error: unknown field "spec.completionz"`) {
			tb.Fatalf("a Job with an unknown field: want a strict decoding error, got %v", err)
		}
		return
	}
	tb.Fatal("the render has no Job")
}
