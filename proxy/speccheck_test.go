package proxy_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/chaosload/chaosload/config"
	"github.com/chaosload/chaosload/faults"
	"github.com/chaosload/chaosload/proxy"
)

// agreementFile is an experiment valid but for its one fault, whose keys
// follow.
const agreementFile = `version: 1
name: agreement
targets:
  t: {upstream: "127.0.0.1:1", protocol: tcp}
  api: {upstream: "127.0.0.1:1", protocol: http}
  pg: {upstream: "127.0.0.1:1", protocol: postgres}
  cache: {upstream: "127.0.0.1:1", protocol: redis}
scenarios:
  s:
    executor: constant-arrival-rate
    rate: 10
    timeUnit: 1s
    duration: 60s
    preAllocatedVUs: 5
    steps:
      - http: {url: "http://${targets.api}/"}
thresholds:
  errors: ["rate < 1%"]
recovery: {within: 30s, hold: 5s, window: 5s}
faults:
  - name: f
    startTime: 10s
    duration: 5s
`

// TestFileAndProxyAgree shows that an experiment file (config.Parse, what
// chaosload validate runs) and a direct proxy call (Proxy.Inject) refuse and
// accept the same values: both apply faults.CheckSpec. The rows are the
// edge values on which the two used to disagree, each written as a file
// writes it and as the spec the file's entry turns into.
func TestFileAndProxyAgree(t *testing.T) {
	p := startProxy(t, proxy.Config{Name: "agree", Upstream: "127.0.0.1:1"})
	loss := func(rate float64) faults.LossSpec {
		return faults.LossSpec{Rate: rate, RTO: faults.DefaultRTO, Mode: faults.Model, Direction: faults.Both}
	}
	cases := []struct {
		name     string
		yaml     string
		spec     faults.Spec
		toxicity float64
		ok       bool
	}{
		// loss at the top of its range: 50% was the file's top, the proxy took up to 99.99%.
		{"loss 50%", "target: t\n    kind: loss\n    rate: 50%", loss(0.5), 1, true},
		{"loss 50.1%", "target: t\n    kind: loss\n    rate: 50.1%", loss(0.501), 1, false},
		{"loss 99%", "target: t\n    kind: loss\n    rate: 99%", loss(0.99), 1, false},
		// the model's RTO: at least 1ms in the file, any positive value in the proxy.
		{"loss rto 1ms", "target: t\n    kind: loss\n    rate: 5%\n    rto: 1ms",
			faults.LossSpec{Rate: 0.05, RTO: time.Millisecond, Mode: faults.Model, Direction: faults.Both}, 1, true},
		{"loss rto 500µs", "target: t\n    kind: loss\n    rate: 5%\n    rto: 500us",
			faults.LossSpec{Rate: 0.05, RTO: 500 * time.Microsecond, Mode: faults.Model, Direction: faults.Both}, 1, false},
		// kernel loss drops both ways: the file refused a direction, the proxy did not look.
		{"kernel loss upstream", "target: t\n    kind: loss\n    rate: 5%\n    mode: kernel\n    direction: upstream",
			faults.LossSpec{Rate: 0.05, RTO: faults.DefaultRTO, Mode: faults.Kernel, Direction: faults.Upstream}, 1, false},
		// latency 0: refused by the file, accepted by the proxy.
		{"latency 0", "target: t\n    kind: latency\n    latency: 0s", faults.LatencySpec{Direction: faults.Downstream}, 1, false},
		{"latency 1ns", "target: t\n    kind: latency\n    latency: 1ns", faults.LatencySpec{Latency: 1, Direction: faults.Downstream}, 1, true},
		// the longest wait: 1h in the file (config's span), unbounded in the proxy.
		{"latency 1h", "target: t\n    kind: latency\n    latency: 1h", faults.LatencySpec{Latency: time.Hour, Direction: faults.Downstream}, 1, true},
		{"latency 1h0m0.001s", "target: t\n    kind: latency\n    latency: 1h0m0.001s",
			faults.LatencySpec{Latency: time.Hour + time.Millisecond, Direction: faults.Downstream}, 1, false},
		// jitter up to the latency, in both.
		{"jitter = latency", "target: t\n    kind: latency\n    latency: 10ms\n    jitter: 10ms",
			faults.LatencySpec{Latency: 10 * time.Millisecond, Jitter: 10 * time.Millisecond, Direction: faults.Downstream}, 1, true},
		// slow-close and connect-delay of 0: refused by the file, accepted by the proxy.
		{"slow-close 0", "target: t\n    kind: slow-close\n    delay: 0s", faults.SlowCloseSpec{Direction: faults.Downstream}, 1, false},
		{"connect-delay 0", "target: t\n    kind: connect-delay\n    delay: 0s", faults.ConnectDelaySpec{}, 1, false},
		// a bandwidth beyond 1 TB/s: refused by the file only.
		{"bandwidth 1TB/s", "target: t\n    kind: bandwidth\n    rate: 1000000000000B/s",
			faults.BandwidthSpec{Rate: 1e12, Direction: faults.Downstream}, 1, true},
		{"bandwidth 2TB/s", "target: t\n    kind: bandwidth\n    rate: 2000000000000B/s",
			faults.BandwidthSpec{Rate: 2e12, Direction: faults.Downstream}, 1, false},
		// limit-data beyond 1 TiB: refused by the file only.
		{"limit-data 2TiB", "target: t\n    kind: limit-data\n    bytes: 2199023255552B",
			faults.LimitDataSpec{Bytes: 2 << 40, Direction: faults.Downstream}, 1, false},
		// conn-limit beyond a million: refused by the file only.
		{"conn-limit 1000001", "target: t\n    kind: conn-limit\n    max: 1000001",
			faults.ConnLimitSpec{Max: 1_000_001, OnExcess: faults.Refuse}, 1, false},
		// a timeout of 0 never closes: accepted by both.
		{"timeout 0", "target: t\n    kind: timeout\n    timeout: 0s", faults.TimeoutSpec{}, 1, true},
		// a SQLSTATE is five digits or capitals: the proxy took any five characters.
		{"pg-error 4000a", "target: pg\n    kind: pg-error\n    code: 4000a",
			faults.PGErrorSpec{Probability: 1, SQLState: "4000a", Message: "chaosload: injected error 4000a"}, 1, false},
		// a Redis error starts with its code: the proxy took any one line.
		{"redis-error without code", "target: cache\n    kind: redis-error\n    message: oops",
			faults.RedisErrorSpec{Probability: 1, Message: "oops"}, 1, false},
		// a path glob that does not compile: refused by the file only.
		{"http-error bad glob", "target: api\n    kind: http-error\n    match: {path: \"/a[\"}",
			faults.HTTPErrorSpec{Match: faults.Match{Path: "/a["}, Probability: 1, Status: 503}, 1, false},
		// an http delay of 0: refused by the file, accepted by the proxy.
		{"http-delay 0", "target: api\n    kind: http-delay\n    latency: 0s",
			faults.RequestDelaySpec{Protocol: "http", Probability: 1, Direction: faults.Upstream}, 1, false},
		// toxicity above 100%: refused by both.
		{"toxicity 101%", "target: t\n    kind: reset\n    toxicity: 101%", faults.ResetSpec{}, 1.01, false},
	}
	for _, tc := range cases {
		fileErr := parseFault(t, tc.yaml)
		undo, proxyErr := p.Inject(context.Background(), "f-"+tc.name, tc.spec, tc.toxicity)
		if proxyErr == nil {
			if err := undo(context.Background()); err != nil {
				t.Fatalf("%s: revert: %v", tc.name, err)
			}
		}
		if (fileErr == nil) != tc.ok || (proxyErr == nil) != tc.ok {
			t.Errorf("%s: file: %v; proxy: %v; want accepted: %v", tc.name, fileErr, proxyErr, tc.ok)
		}
	}
}

// parseFault parses agreementFile with the fault's keys, and fails the test
// when a problem lies outside the fault.
func parseFault(t *testing.T, keys string) error {
	t.Helper()
	_, err := config.Parse("agreement.yaml", []byte(agreementFile+"    "+keys+"\n"), config.Options{})
	var es config.Errors
	if errors.As(err, &es) {
		for _, e := range es {
			if !strings.Contains(e.Msg, "faults.0.") {
				t.Fatalf("a problem outside the fault: %v", e)
			}
		}
	}
	return err
}
