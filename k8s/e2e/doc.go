// Package e2e runs a distributed chaosload run on a real Kubernetes control
// plane on this machine: etcd, kube-apiserver, kube-controller-manager and
// kube-scheduler as local processes, the manifests of `chaosload k8s render`
// created through the API server with strict field validation, and the real
// scheduler and Job controller placing and retrying the pods.
//
// No kubelet and no container runtime: three node agents (test code)
// register Nodes and run each pod bound to them as a local process of the
// built chaosload binary, with the container's args and env resolved as the
// kubelet resolves them. The pods share the host's network, so a Service
// name in a pod's args stands for 127.0.0.1.
//
// It is its own module (k8s.io/kubernetes is heavy) and runs only through
// `make e2e-k8s`, which builds the control plane and passes the binaries'
// paths in the environment.
package e2e
