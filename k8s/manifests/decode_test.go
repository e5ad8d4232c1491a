package manifests

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// object is one manifest, decoded into the k8s.io/api type of its kind.
type object struct {
	// Kind is the manifest's apiVersion/kind, e.g. "batch/v1/Job".
	Kind string
	// Value is a *corev1.ConfigMap, *corev1.Service or *batchv1.Job.
	Value metav1.Object
}

// newObject returns an empty value of the type of apiVersion/kind: the
// kinds render writes, nothing else.
func newObject(kind string) (metav1.Object, error) {
	switch kind {
	case "v1/ConfigMap":
		return &corev1.ConfigMap{}, nil
	case "v1/Service":
		return &corev1.Service{}, nil
	case "batch/v1/Job":
		return &batchv1.Job{}, nil
	}
	return nil, fmt.Errorf("%q is not a kind render writes", kind)
}

// decodeStrict splits a multi-document YAML stream and decodes every
// document strictly into the type of its kind, as the API server's strict
// field validation does: a duplicate key, an unknown field or a field
// whose case differs is an error.
func decodeStrict(data []byte) ([]object, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var out []object
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read document %d: %w", len(out)+1, err)
		}
		o, err := decodeDocument(doc)
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", len(out)+1, err)
		}
		out = append(out, o)
	}
}

// decodeDocument decodes one document strictly.
func decodeDocument(doc []byte) (object, error) {
	js, err := yaml.YAMLToJSONStrict(doc) // a duplicate key is an error here
	if err != nil {
		return object{}, fmt.Errorf("convert to JSON: %w", err)
	}
	var meta metav1.TypeMeta
	if err := kjson.UnmarshalCaseSensitivePreserveInts(js, &meta); err != nil {
		return object{}, fmt.Errorf("read apiVersion and kind: %w", err)
	}
	v, err := newObject(meta.APIVersion + "/" + meta.Kind)
	if err != nil {
		return object{}, err
	}
	strict, err := kjson.UnmarshalStrict(js, v, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
	if err != nil {
		return object{}, fmt.Errorf("decode %s: %w", meta.Kind, err)
	}
	if len(strict) > 0 {
		return object{}, fmt.Errorf("decode %s strictly: %w", meta.Kind, errors.Join(strict...))
	}
	return object{Kind: meta.APIVersion + "/" + meta.Kind, Value: v}, nil
}
