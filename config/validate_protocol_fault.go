package config

import (
	"github.com/chaosload/chaosload/faults"
)

// protocolFaultTarget checks that a protocol-aware fault (http-error,
// pg-error, redis-error and the delays) names a target of its protocol: the
// proxy parses that protocol only, and a tcp target is not parsed at all.
func (c *checker) protocolFaultTarget(f *faults.Fault, t *Target, path string) {
	want, ok := faults.ProtocolKinds[f.Kind]
	if !ok {
		return
	}
	if got := or(t.Protocol, DefaultProtocol); got != want {
		c.errorf(path+".target", "%s needs a target with protocol: %s (the proxy parses that protocol to pick requests); %q has protocol %s",
			f.Kind, want, t.Name, got)
	}
}
