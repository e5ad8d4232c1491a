package gameday

import (
	"net/http"

	"github.com/chaosload/chaosload/load"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// promMetrics is the session's Prometheus registry (private: nothing is
// registered globally). Proxy figures are read from the proxies at scrape
// time; the load's latencies are observed as results arrive (it is a
// load.Sink).
type promMetrics struct {
	reg      *prometheus.Registry
	latency  *prometheus.HistogramVec
	ops      *prometheus.CounterVec
	injected *prometheus.CounterVec
}

var (
	descActive   = prometheus.NewDesc("chaosload_proxy_active_connections", "Connections open through the proxy now.", []string{"target"}, nil)
	descAccepted = prometheus.NewDesc("chaosload_proxy_accepted_connections_total", "Connections the proxy accepted.", []string{"target"}, nil)
	descRefused  = prometheus.NewDesc("chaosload_proxy_refused_connections_total", "Connections turned away at accept by a fault.", []string{"target"}, nil)
	descReset    = prometheus.NewDesc("chaosload_proxy_reset_connections_total", "Active connections reset by a fault.", []string{"target"}, nil)
	descBytes    = prometheus.NewDesc("chaosload_proxy_bytes_total", "Bytes written through the proxy (upstream: client to server).", []string{"target", "direction"}, nil)
	descFaults   = prometheus.NewDesc("chaosload_faults_active", "Faults active on the target now (toxics, disabled, by hand, timeline).", []string{"target"}, nil)
)

func newPromMetrics(s *Session) *promMetrics {
	m := &promMetrics{
		reg: prometheus.NewRegistry(),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "chaosload_load_latency_seconds", Help: "Background load latency from each operation's intended start.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"target", "scenario", "step"}),
		ops: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chaosload_load_operations_total", Help: "Background load operations by error class (empty: success).",
		}, []string{"target", "class"}),
		injected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chaosload_faults_injected_total", Help: "Faults and toxics applied, by target and chaosload fault kind.",
		}, []string{"target", "kind"}),
	}
	m.reg.MustRegister(m.latency, m.ops, m.injected, proxyCollector{s})
	return m
}

// Record implements load.Sink.
func (m *promMetrics) Record(res *load.Result) {
	if res.Kind != load.KindOp {
		return
	}
	m.ops.WithLabelValues(res.Target, res.Class).Inc()
	if !res.Untimed && res.End > 0 {
		m.latency.WithLabelValues(res.Target, res.Scenario, res.Step).Observe((res.End - res.Intended).Seconds())
	}
}

func (m *promMetrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// proxyCollector reads every proxy's live stats at scrape time.
type proxyCollector struct{ s *Session }

func (c proxyCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descActive, descAccepted, descRefused, descReset, descBytes, descFaults} {
		ch <- d
	}
}

func (c proxyCollector) Collect(ch chan<- prometheus.Metric) {
	active := map[string]int{}
	for _, f := range c.s.ActiveFaults() {
		active[f.Target]++
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	for name, t := range c.s.targets {
		st := t.p.Stats()
		ch <- prometheus.MustNewConstMetric(descActive, prometheus.GaugeValue, float64(st.Active), name)
		ch <- prometheus.MustNewConstMetric(descAccepted, prometheus.CounterValue, float64(st.Accepted), name)
		ch <- prometheus.MustNewConstMetric(descRefused, prometheus.CounterValue, float64(st.Refused), name)
		ch <- prometheus.MustNewConstMetric(descReset, prometheus.CounterValue, float64(st.Reset), name)
		ch <- prometheus.MustNewConstMetric(descBytes, prometheus.CounterValue, float64(st.BytesUp), name, "upstream")
		ch <- prometheus.MustNewConstMetric(descBytes, prometheus.CounterValue, float64(st.BytesDown), name, "downstream")
		ch <- prometheus.MustNewConstMetric(descFaults, prometheus.GaugeValue, float64(active[name]), name)
	}
}
