//go:build tools

package e2e

// The control plane the test runs, built from the k8s.io/kubernetes module
// at the version go.mod pins (make e2e-k8s builds them once into a cache
// directory). The tools build tag keeps them out of the test binary.
import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
)
