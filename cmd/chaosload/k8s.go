package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/chaosload/chaosload/cluster"
)

// k8sCommand is `chaosload k8s render FILE --workers N`.
func (a *app) k8sCommand() *cobra.Command {
	k8s := &cobra.Command{Use: "k8s", Short: "Kubernetes manifests of a distributed run"}
	var sets []string
	render := &cobra.Command{
		Use:   "render FILE --workers N [--image IMG] [--name NAME] [--namespace NS]",
		Short: "Print the manifests of a distributed run of FILE: ConfigMap, coordinator Job and Service, worker Indexed Job",
		Long: `render prints, for kubectl apply -f -, the experiment as a ConfigMap, the
coordinator (chaosload run --workers N) as a Job behind a Service, and the
workers (chaosload worker) as an Indexed Job: completionMode Indexed, one
completion per worker, backoffLimitPerIndex (a worker that dies before the
start is retried) and a podFailurePolicy that fails an index on exit code 5
(lost after the start) or 2 (refused) rather than retrying it. The fault
proxies listen on loopback only, which other pods cannot reach, so the file
may have no targets or stack: its steps name the service's own address (a
load and its thresholds, judged once on the merged results). --set and
--quick are passed to the coordinator and every worker alike. The pods read
the coordinator's token from the Secret NAME-token (key token).`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, files []string) error {
			return a.renderK8s(files[0], sets)
		},
	}
	f := render.Flags()
	f.Int("workers", 0, "how many workers offer the load")
	f.String("image", "chaosload:latest", "the chaosload image (the repository's Dockerfile builds it)")
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
	if len(exp.Targets) > 0 || exp.Stack != nil {
		return usageError{fmt.Errorf("%s: a run on Kubernetes cannot have targets or a stack yet: the fault proxies listen on the coordinator pod's loopback, which the workers' pods cannot reach; name the service's own address in the steps", file)}
	}
	var extra []string
	for _, s := range sets {
		extra = append(extra, "--set="+s)
	}
	if a.v.GetBool("quick") {
		extra = append(extra, "--quick")
	}
	err = cluster.RenderK8s(a.stdout, cluster.K8sSpec{Name: a.v.GetString("name"), Namespace: a.v.GetString("namespace"),
		Image: a.v.GetString("image"), Workers: a.v.GetInt("workers"), Experiment: data, Args: extra})
	if err != nil {
		return usageError{err}
	}
	return nil
}
