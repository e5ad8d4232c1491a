package config

import (
	"fmt"
	"time"
)

// Monitor names the target processes whose resources a run samples: CPU
// (percent of one core), RSS, open file descriptors and threads, summed over
// every process named and their children (a PostgreSQL postmaster's
// backends). The figures feed target_cpu, target_rss, target_fds,
// target_threads and target_rss_slope.
type Monitor struct {
	// Stack monitors the demo stack's processes: the PostgreSQL postmaster
	// and its backends, redis-server (when it is a process), and the
	// chaosload process itself, where the demo service runs. Default true
	// when the experiment has a stack.
	Stack *bool `yaml:"stack"`
	// PIDs are processes by id.
	PIDs []int `yaml:"pids"`
	// Processes are processes by executable name (every process of that
	// name, e.g. postgres), looked up when the run starts.
	Processes []string `yaml:"processes"`
	// Every is the sampling period (default 1s).
	Every time.Duration `yaml:"every"`
	// Trend is how long the load must run after the warm-up for the
	// memory trend to be measured (the readiness report judges a trend
	// fitted over at least a minute; a shorter run's is not judged).
	// --quick keeps such a file's warm-up and at least warm-up + Trend +
	// one sampling period of each scenario's duration (Experiment.Quick).
	// 0: no such floor.
	Trend time.Duration `yaml:"trend"`
}

// TrendFloor is the shortest a scenario's duration becomes under --quick
// (when it was longer): the warm-up, monitor.trend and one sampling period,
// so that the samples after the warm-up span the trend; 0 without
// monitor.trend.
func (e *Experiment) TrendFloor() time.Duration {
	if e.Monitor == nil || e.Monitor.Trend <= 0 {
		return 0
	}
	return e.WarmupOrDefault() + e.Monitor.Trend + e.MonitorEvery()
}

// DefaultMonitorEvery is Monitor.Every's default.
const DefaultMonitorEvery = time.Second

// MonitorStack reports whether the run samples the stack's processes:
// the demo stack's and the file's services.
func (e *Experiment) MonitorStack() bool {
	if e.Stack == nil {
		return false
	}
	return e.Monitor == nil || e.Monitor.Stack == nil || *e.Monitor.Stack
}

// MonitorEvery returns the sampling period, with its default.
func (e *Experiment) MonitorEvery() time.Duration {
	if e.Monitor == nil || e.Monitor.Every <= 0 {
		return DefaultMonitorEvery
	}
	return e.Monitor.Every
}

// Monitored reports whether the run samples any process.
func (e *Experiment) Monitored() bool {
	return e.MonitorStack() || (e.Monitor != nil && (len(e.Monitor.PIDs) > 0 || len(e.Monitor.Processes) > 0))
}

func (c *checker) monitor() {
	m := c.e.Monitor
	if m == nil {
		return
	}
	if m.Stack != nil && *m.Stack && c.e.Stack == nil {
		c.errorf("monitor.stack", "needs the demo stack; add stack: {name: demo} or name pids or processes")
	}
	for i, pid := range m.PIDs {
		if pid <= 0 {
			c.errorf(fmt.Sprintf("monitor.pids.%d", i), "must be a positive process id")
		}
	}
	for i, name := range m.Processes {
		if name == "" {
			c.errorf(fmt.Sprintf("monitor.processes.%d", i), "must be a process name, e.g. postgres")
		}
	}
	if m.Every < 0 || (m.Every > 0 && m.Every < 100*time.Millisecond) {
		c.errorf("monitor.every", "must be at least 100ms (default 1s)")
	}
	c.trend(m.Trend)
	if !c.e.Monitored() {
		c.errorf("monitor", "names no process: set pids, processes, or stack: true with a demo stack")
	}
}

// trend checks monitor.trend. A run shorter than its warm-up plus the trend
// is valid (--set shortens a file for a smoke test): its memory trend is
// simply not judged.
func (c *checker) trend(d time.Duration) {
	if d < 0 {
		c.errorf("monitor.trend", "must be a positive duration, e.g. 60s (or absent)")
	}
}

// gaugeThresholds checks that resource thresholds have something to read.
func (c *checker) gaugeThresholds(section string, ts Thresholds) {
	for _, t := range ts {
		sampled := containsString(ResourceMetrics, t.Metric.Name) || containsString(ProbeMetrics, t.Metric.Name)
		if sampled && section == "abort" {
			c.errorAt(t.Pos, section+"."+t.Key, "%s is judged per phase, not watched during the run; move it to thresholds or degradation", t.Metric.Name)
			continue
		}
		if t.Metric.Kind == Gauge && !c.e.Monitored() {
			c.errorAt(t.Pos, section+"."+t.Key, "%s needs a monitored process: add monitor: {pids: [...]} or a demo stack", t.Metric.Name)
		}
	}
}
