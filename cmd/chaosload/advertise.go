package main

import (
	"fmt"
	"net"

	"github.com/chaosload/chaosload/config"
)

// checkAdvertise checks run's --advertise HOST against the other flags: it
// is where a distributed run's proxies listen for its workers, so it needs
// --workers, an IP the workers can dial, and the workers' token when it is
// not loopback.
func checkAdvertise(host string, workers int, token string) error {
	if host == "" {
		return nil
	}
	if workers <= 0 {
		return fmt.Errorf("--advertise %s needs --workers N: it is where a distributed run's fault proxies listen for the workers", host)
	}
	ip := net.ParseIP(host)
	switch {
	case ip == nil:
		return fmt.Errorf("--advertise %q: want this machine's IP address that the workers reach (on Kubernetes the pod's IP, status.podIP)", host)
	case ip.IsUnspecified():
		return fmt.Errorf("--advertise %s: want the IP address the workers dial, not the unspecified address", host)
	case !ip.IsLoopback() && token == "":
		return fmt.Errorf("--advertise %s is reachable beyond this machine: give the workers' token with --token or CHAOSLOAD_TOKEN", host)
	}
	return nil
}

// checkAdvertised checks that exp's proxies can be put on host (run
// --advertise): that the workers could reach what they need there.
func checkAdvertised(exp *config.Experiment, host string) error {
	if host == "" {
		return nil
	}
	if err := exp.CheckAdvertised(); err != nil {
		return fmt.Errorf("--advertise %s: %s cannot run with its proxies there:\n%w", host, exp.File, err)
	}
	return nil
}
