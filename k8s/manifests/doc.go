// Package manifests checks the Kubernetes manifests of a distributed run
// (chaosload k8s render, deploy/k8s) against the Kubernetes API's own
// types: every object is decoded strictly (an unknown or duplicate field
// is an error, as the API server's strict field validation has it) into
// the k8s.io/api type of its kind, and what matters to the run is checked
// on the typed values. It is a module of its own, so the k8s.io modules
// stay out of chaosload's go.mod; it holds tests only.
package manifests
