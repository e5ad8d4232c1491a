package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// binaries are the programs the test runs, from make e2e-k8s.
type binaries struct {
	etcd, kube, chaosload string // etcd's path, the kube-* directory, bin/chaosload
}

// binariesFromEnv reads ETCD, KUBE_BIN and CHAOSLOAD_BIN.
func binariesFromEnv(tb testing.TB) binaries {
	tb.Helper()
	b := binaries{etcd: os.Getenv("ETCD"), kube: os.Getenv("KUBE_BIN"), chaosload: os.Getenv("CHAOSLOAD_BIN")}
	for _, p := range []string{b.etcd, b.chaosload, filepath.Join(b.kube, "kube-apiserver"),
		filepath.Join(b.kube, "kube-controller-manager"), filepath.Join(b.kube, "kube-scheduler")} {
		if _, err := os.Stat(p); err != nil {
			tb.Fatalf("run this test through make e2e-k8s: it builds the control plane and sets ETCD, KUBE_BIN and CHAOSLOAD_BIN (%v)", err)
		}
	}
	return b
}

// controlPlane is etcd, kube-apiserver, kube-controller-manager and
// kube-scheduler, all on loopback, each stopped by its PID when the test
// ends.
type controlPlane struct {
	config *rest.Config
	client kubernetes.Interface
	procs  []*process
}

// startControlPlane starts the control plane and returns once the API
// server is ready.
func startControlPlane(tb testing.TB, bins binaries) *controlPlane {
	tb.Helper()
	dir := tb.TempDir()
	certs := newPKI(tb, dir)
	cp := &controlPlane{}
	etcdURL, peer := fmt.Sprintf("http://127.0.0.1:%d", freePort(tb)), fmt.Sprintf("http://127.0.0.1:%d", freePort(tb))
	cp.procs = append(cp.procs, mustStart(tb, dir, "etcd", bins.etcd, "--name=e2e", "--data-dir="+filepath.Join(dir, "etcd-data"),
		"--listen-client-urls="+etcdURL, "--advertise-client-urls="+etcdURL,
		"--listen-peer-urls="+peer, "--initial-advertise-peer-urls="+peer, "--initial-cluster=e2e="+peer))
	port := freePort(tb)
	cp.procs = append(cp.procs, mustStart(tb, dir, "kube-apiserver", filepath.Join(bins.kube, "kube-apiserver"),
		"--etcd-servers="+etcdURL, "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", fmt.Sprintf("--secure-port=%d", port),
		"--cert-dir="+dir, "--tls-cert-file="+certs.Serving, "--tls-private-key-file="+certs.ServingKey, "--client-ca-file="+certs.CA,
		"--authorization-mode=RBAC", "--service-cluster-ip-range=10.0.0.0/24", "--endpoint-reconciler-type=none",
		"--service-account-issuer=https://kubernetes.default.svc", "--service-account-key-file="+certs.SAPub,
		"--service-account-signing-key-file="+certs.SAKey))
	kubeconfig := certs.kubeconfig(tb, fmt.Sprintf("https://127.0.0.1:%d", port))
	var err error
	if cp.config, err = clientcmd.BuildConfigFromFlags("", kubeconfig); err == nil {
		cp.config.QPS, cp.config.Burst = 100, 200 // the agents share the client
		cp.client, err = kubernetes.NewForConfig(cp.config)
	}
	if err != nil {
		tb.Fatalf("a client of the API server: %v", err)
	}
	cp.waitReady(tb)
	cp.procs = append(cp.procs,
		mustStart(tb, dir, "kube-controller-manager", filepath.Join(bins.kube, "kube-controller-manager"),
			"--kubeconfig="+kubeconfig, "--leader-elect=false", "--secure-port=0",
			"--service-account-private-key-file="+certs.SAKey, "--root-ca-file="+certs.CA),
		mustStart(tb, dir, "kube-scheduler", filepath.Join(bins.kube, "kube-scheduler"),
			"--kubeconfig="+kubeconfig, "--leader-elect=false", "--secure-port=0"))
	return cp
}

// waitReady waits for the API server's /readyz, failing at once should a
// process of the control plane exit.
func (cp *controlPlane) waitReady(tb testing.TB) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		_, err := cp.client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err == nil {
			return
		}
		if p := cp.exited(); p != nil {
			tb.Fatalf("%s exited before the API server was ready\n%s", p.name, p.logs())
		}
		select {
		case <-ctx.Done():
			tb.Fatalf("the API server was not ready within 5 minutes: %v\n%s", err, cp.logs())
		case <-tick.C:
		}
	}
}

// exited is the first process of the control plane that has exited, or nil.
func (cp *controlPlane) exited() *process {
	for _, p := range cp.procs {
		select {
		case <-p.done:
			return p
		default:
		}
	}
	return nil
}

// logs is every process's output tail.
func (cp *controlPlane) logs() string {
	var s string
	for _, p := range cp.procs {
		s += p.logs() + "\n"
	}
	return s
}
