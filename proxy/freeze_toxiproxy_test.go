//go:build manual

// The Toxiproxy freeze demonstration is a manual tool, not a test of
// chaosload: it leaves Toxiproxy's goroutines deadlocked for good. Run it
// with: CHAOSLOAD_TOXIPROXY_FREEZE=1 go test -tags manual -run TestToxiproxyFreezes -v ./proxy/

package proxy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/rs/zerolog"
)

// toxiproxyTarget is Toxiproxy's own Proxy, embedded.
type toxiproxyTarget struct{ p *toxiproxy.Proxy }

func (x *toxiproxyTarget) addr() string { return x.p.Listen }
func (x *toxiproxyTarget) apply() error {
	body, _ := json.Marshal(map[string]any{"name": "freeze-latency", "type": "latency", "stream": "downstream",
		"toxicity": 1.0, "attributes": map[string]int64{"latency": 20, "jitter": 5}})
	_, err := x.p.Toxics.AddToxicJson(bytes.NewReader(body))
	return err
}
func (x *toxiproxyTarget) revert() error {
	return x.p.Toxics.RemoveToxic(context.Background(), "freeze-latency")
}
func (x *toxiproxyTarget) bytesDown() uint64 { return 0 }
func (x *toxiproxyTarget) delayed() int64    { return -1 }

// countsBytesAtClose marks a target whose byte counts move only when a
// connection closes (waitBackPressured waits a fixed time for it instead).
func (x *toxiproxyTarget) countsBytesAtClose() {}

// TestToxiproxyFreezes runs the freeze scenario against Toxiproxy v2.12.0's
// own Proxy to show that the test above is one Toxiproxy's design fails. It
// leaves Toxiproxy's goroutines deadlocked for good, so it runs only when
// CHAOSLOAD_TOXIPROXY_FREEZE=1 (which also turns off the leak check).
func TestToxiproxyFreezes(t *testing.T) {
	if os.Getenv("CHAOSLOAD_TOXIPROXY_FREEZE") == "" {
		t.Skip("set CHAOSLOAD_TOXIPROXY_FREEZE=1 to demonstrate Toxiproxy's #558 deadlock")
	}
	up := serveTCP(t, floodOrEcho)
	srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop())
	tp := toxiproxy.NewProxy(srv, "freeze", "127.0.0.1:0", up.Addr())
	if err := tp.Start(); err != nil {
		t.Fatal(err)
	}
	r := freezeScenario(t, &toxiproxyTarget{p: tp}, false, time.Second) // it never returns: a second shows it
	t.Logf("Toxiproxy: apply %v, revert %v (-1: still blocked after 1 s), round trips during %d/5 after %d/5, new connection works: %v",
		r.apply, r.revert, r.during, r.after, r.fresh)
	if r.ok() {
		t.Fatalf("Toxiproxy did not freeze this time: %+v", r)
	}
}
