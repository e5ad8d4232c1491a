package cluster

import (
	_ "embed"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"text/template"
)

// K8sSpec is what RenderK8s needs. Zero values are the defaults.
type K8sSpec struct {
	// Name prefixes every object (default "chaosload"): NAME-experiment
	// (ConfigMap), NAME-coordinator (Job and Service), NAME-workers
	// (Indexed Job).
	Name string
	// Namespace of every object; empty leaves it to kubectl's context.
	Namespace string
	// Image is the chaosload image (default "chaosload:latest"; the
	// repository's Dockerfile builds it). A file with a stack needs the
	// stack's servers in it too (the Dockerfile's demo target).
	Image string
	// Workers is how many workers offer the load (required, ≥ 1).
	Workers int
	// Experiment is the experiment file's content, mounted in every pod
	// at /experiment/experiment.yaml.
	Experiment []byte
	// Args are extra arguments of both `run` and `worker` (--set, --quick):
	// the coordinator and the workers must agree on them.
	Args []string
	// Port is the coordinator's port (default 7070): it listens on its
	// pod's IP and port (the downward API's status.podIP), and the
	// Service routes there.
	Port int
	// RetriesPerIndex bounds the retries of one worker index
	// (backoffLimitPerIndex, default 2): a worker that dies before the start
	// is retried; one that exits 5 (lost the coordinator after the start)
	// or 2 (refused: a retry registering after the start) fails its index
	// at once.
	RetriesPerIndex int
}

// WithDefaults is spec with the default of every field left zero: what
// RenderK8s renders.
func (spec K8sSpec) WithDefaults() K8sSpec {
	if spec.Name == "" {
		spec.Name = "chaosload"
	}
	if spec.Image == "" {
		spec.Image = "chaosload:latest"
	}
	if spec.Port == 0 {
		spec.Port = 7070
	}
	if spec.RetriesPerIndex == 0 {
		spec.RetriesPerIndex = 2
	}
	return spec
}

//go:embed k8s.yaml.tmpl
var k8sTemplate string

var k8sTmpl = template.Must(template.New("k8s").Funcs(template.FuncMap{
	"indent": func(n int, s string) string {
		pad := strings.Repeat(" ", n)
		return pad + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+pad)
	},
	"quote": func(s string) string { return fmt.Sprintf("%q", s) },
}).Parse(k8sTemplate))

// dnsName is what Kubernetes accepts as an object's name.
var dnsName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// RenderK8s writes the manifests of a distributed run on Kubernetes: the
// experiment in a ConfigMap, the coordinator as a Job with a Service in
// front of it, and the workers as an Indexed Job (completionMode Indexed,
// one completion per worker, all in parallel, backoffLimitPerIndex and a
// podFailurePolicy that fails an index on exit codes 2 and 5 instead of
// retrying it). Each worker's index comes from JOB_COMPLETION_INDEX. The
// coordinator learns its pod's IP from the downward API (env POD_IP) and
// listens there (--listen) and puts its fault proxies there (--advertise),
// so the workers reach both.
func RenderK8s(w io.Writer, spec K8sSpec) error {
	spec = spec.WithDefaults()
	var errs []error
	if spec.Workers < 1 {
		errs = append(errs, fmt.Errorf("workers %d: want at least 1", spec.Workers))
	}
	if !dnsName.MatchString(spec.Name) || len(spec.Name) > 40 {
		errs = append(errs, fmt.Errorf("name %q: want lower-case letters, digits and dashes, at most 40", spec.Name))
	}
	if spec.Port < 1 || spec.Port > 65535 {
		errs = append(errs, fmt.Errorf("port %d: want 1 to 65535", spec.Port))
	}
	if len(spec.Experiment) == 0 {
		errs = append(errs, errors.New("the experiment is empty"))
	}
	if len(errs) > 0 {
		return fmt.Errorf("k8s render: %w", errors.Join(errs...))
	}
	return k8sTmpl.Execute(w, struct {
		K8sSpec
		File string
	}{spec, string(spec.Experiment)})
}
