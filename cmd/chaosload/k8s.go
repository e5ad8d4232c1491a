package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/chaosload/chaosload/cluster"
)

// defaultImage is the image render names unless told: the Dockerfile's
// default target, a static binary alone.
const defaultImage = "chaosload:latest"

// k8sCommand is `chaosload k8s render FILE --workers N`.
func (a *app) k8sCommand() *cobra.Command {
	k8s := &cobra.Command{Use: "k8s", Short: "Kubernetes manifests of a distributed run"}
	var sets []string
	render := &cobra.Command{
		Use:   "render FILE --workers N [--image IMG] [--port P] [--name NAME] [--namespace NS]",
		Short: "Print the manifests of a distributed run of FILE: ConfigMap, coordinator Job and Service, worker Indexed Job",
		Long: `render prints, for kubectl apply -f -, the experiment as a ConfigMap, the
coordinator (chaosload run --workers N) as a Job behind a Service, and the
workers (chaosload worker) as an Indexed Job: completionMode Indexed, one
completion per worker, backoffLimitPerIndex (a worker that dies before the
start is retried) and a podFailurePolicy that fails an index on exit code 5
(lost after the start) or 2 (refused) rather than retrying it.

The coordinator runs the file's stack and its fault proxies in its own pod.
It learns the pod's IP from the downward API (env POD_IP) and listens there
(--listen=$(POD_IP):PORT, behind the Service) and puts the proxies there
(--advertise=$(POD_IP)), so the workers' steps reach ${targets.NAME}. A
target with a listen: of its own, or a step naming ${stack.NAME} (the
stack's services listen on the coordinator pod's loopback), is refused: go
through a target. A file with a stack needs an image that holds its
servers: the Dockerfile's demo target has PostgreSQL, Redis and haproxy
(docker build --target demo -t chaosload-demo .; --image chaosload-demo);
the default target is a static binary alone, for files without a stack.

--set and --quick are passed to the coordinator and every worker alike. The
pods read the coordinator's token from the Secret NAME-token (key token).`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, files []string) error {
			return a.renderK8s(files[0], sets)
		},
	}
	f := render.Flags()
	f.Int("workers", 0, "how many workers offer the load")
	f.String("image", defaultImage, "the chaosload image (the repository's Dockerfile builds it; a file with a stack needs its demo target)")
	f.Int("port", 7070, "the coordinator's port, on its pod's IP and on the Service")
	f.String("name", "chaosload", "prefix of every object's name")
	f.String("namespace", "", "namespace of every object (default: kubectl's)")
	f.StringArrayVar(&sets, "set", nil, "override a field, for the coordinator and every worker; repeatable")
	f.Bool("quick", false, "shorten the timeline (as run --quick), for the coordinator and every worker")
	k8s.AddCommand(render)
	return k8s
}

// renderK8s checks the file and prints its manifests.
func (a *app) renderK8s(file string, sets []string) error {
	exp, err := a.load(file, sets)
	if err != nil {
		return usageError{err}
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return usageError{err}
	}
	if err := exp.CheckAdvertised(); err != nil {
		return usageError{fmt.Errorf("%s cannot run on Kubernetes, where the workers are in other pods:\n%w", file, err)}
	}
	if exp.Stack != nil && a.v.GetString("image") == defaultImage {
		fmt.Fprintf(a.stderr, "chaosload k8s render: %s has a stack, which runs in the coordinator's pod: "+
			"the image %s must hold its servers (the Dockerfile's demo target: docker build --target demo)\n", file, defaultImage)
	}
	var extra []string
	for _, s := range sets {
		extra = append(extra, "--set="+s)
	}
	if a.v.GetBool("quick") {
		extra = append(extra, "--quick")
	}
	err = cluster.RenderK8s(a.stdout, cluster.K8sSpec{Name: a.v.GetString("name"), Namespace: a.v.GetString("namespace"),
		Image: a.v.GetString("image"), Workers: a.v.GetInt("workers"), Port: a.v.GetInt("port"), Experiment: data, Args: extra})
	if err != nil {
		return usageError{err}
	}
	return nil
}
