package layering

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// module is the import path prefix of chaosload's packages.
const module = "github.com/chaosload/chaosload/"

// allowed is the dependency direction of docs/architecture.md as a table:
// for every package of the module, the module packages its non-test files
// may import. Leaves first; a package appears after everything it may
// import. A package missing from the table fails the test, so a new package
// gets its place here and in docs/architecture.md.
var allowed = map[string][]string{
	// bytesize reads and writes sizes in bytes (64KB, 1MiB): one parser
	// and one format for faults, load and config, none of which may import
	// another's; a leaf.
	"bytesize": nil,
	// supervise starts, watches and stops local processes: a leaf.
	"supervise": nil,
	// monitor samples processes' CPU, memory, fds and threads: a leaf.
	"monitor": nil,
	// balancer holds a load balancer's view of its servers (counters,
	// state changes): the demo stack fills it, the runner records it; a leaf.
	"balancer": nil,
	// load holds executors, pacing and steps behind the Driver interface;
	// never a protocol driver (load/*) or a client library.
	"load": {"bytesize"},
	// host carries out process and host faults (signals, cgroups, hogs,
	// disk fill, the undo guard); its guard and hogs are processes.
	"host": {"supervise"},
	// faults owns fault specs, their validation, actions and the timeline;
	// it knows nothing of load, metrics, the proxy or reports (the proxy
	// reaches it through the faults.Injector interface it implements).
	"faults": {"bytesize", "host"},
	// config is the experiment schema: it composes the spec types of
	// faults and load; it opens no socket and starts no goroutine.
	"config": {"balancer", "bytesize", "faults", "load"},
	// metrics is the recorder of load.Result values: no goroutines.
	"metrics": {"load"},
	// One driver per protocol, the single importer of its client library;
	// the drivers never import each other.
	"load/httpload":  {"load"},
	"load/wsload":    {"load"},
	"load/pgload":    {"load"},
	"load/redisload": {"load"},
	// proxy is the fault proxy runtime; it implements faults.Injector and
	// must not import load, runner or anything that judges.
	"proxy": {"faults"},
	// slo judges: thresholds, phases, windows, recovery, abort; no I/O.
	"slo": {"config", "load", "metrics"},
	// cluster: a distributed run's frames, collector, coordinator and worker
	// protocol over the recorder.
	"cluster": {"load", "metrics"},
	// runner runs one experiment end to end and returns an Outcome; it
	// renders nothing (no report) and never imports the demo stack.
	"runner": {"config", "faults", "host", "load", "load/httpload", "load/pgload", "load/redisload", "load/wsload",
		"metrics", "monitor", "proxy", "slo", "supervise", "balancer", "cluster"},
	// readiness judges a suite's Outcomes against criteria; it renders
	// nothing and runs nothing.
	"readiness": {"runner"},
	// report renders an Outcome and a readiness Assessment; it runs
	// nothing (no proxy, driver, process or host package).
	"report": {"config", "faults", "load", "metrics", "readiness", "runner", "slo"},
	// gameday is the long-running mode on top of runner; it does not
	// render through report (its session page is its own) nor start the
	// demo stack itself.
	"gameday": {"config", "faults", "host", "load", "metrics", "monitor", "proxy", "runner", "slo", "supervise"},
	// demo is the system under test, not the tool: it may use the process
	// packages only, and nothing of the tool imports it but cmd, bench and
	// tests.
	"demo": {"balancer", "host", "supervise"},
	// cmd/chaosload is the thin shell: flags, settings, signals, exit codes.
	"cmd/chaosload": {"cluster", "config", "demo", "faults", "gameday", "host", "load", "readiness", "report", "runner", "supervise"},
	// The benchmark programs drive the proxy against the demo's servers.
	"bench/proxyclients": {"demo", "faults", "proxy"},
	"bench/httpserver":   nil,
	// This package and the docs checks hold tests only.
	"internal/layering": nil,
	"internal/doccheck": nil,
	// headless runs Chromium for tests (report's, cmd's); stdlib only.
	"internal/headless": nil,
}

// testAllowed lists what a package's tests may import beyond what the
// package itself may: the demo stack's throwaway servers and the real
// proxy, which prove faults and drivers against real servers. Every other
// test import follows allowed.
var testAllowed = map[string][]string{
	// A fault is proven through the real proxy against the demo's
	// PostgreSQL and Redis.
	"faults": {"demo", "proxy"},
	// The demo's tests put the proxy between the service and its databases.
	"demo": {"faults", "proxy"},
	// The proxy's tests check that an experiment file (config) and the
	// proxy's API refuse and accept the same fault specs.
	"proxy": {"config"},
	// The drivers are tested against the demo's throwaway servers.
	"load/pgload":    {"demo"},
	"load/redisload": {"demo"},
	// The WebSocket driver's capacity test records into a metrics.Recorder.
	"load/wsload": {"metrics"},
	// The runner's tests run experiments on the demo stack.
	"runner": {"demo"},
	// The game-day session report is checked against report's rendering.
	"gameday": {"report", "internal/headless"},
	// The fault reference is checked against the kinds faults accepts and
	// its examples parsed as config parses a file.
	"internal/doccheck": {"config", "faults"},
	// Reports are read in headless Chromium.
	"report":        {"internal/headless"},
	"cmd/chaosload": {"internal/headless", "metrics"}, // merge's test writes a worker's frames
	// N workers = one process: the merged and the one-process recorders
	// are judged by the same thresholds.
	"cluster": {"config", "slo"},
}

// homes lists the heavy dependencies and the only packages that may import
// them (a heavy dependency has one home).
var homes = map[string][]string{
	"github.com/Shopify/toxiproxy/":       {"proxy", "bench/proxyclients"},
	"github.com/cilium/ebpf":              {"proxy"},
	"github.com/jackc/pgx/":               {"load/pgload", "faults", "proxy", "demo"}, // proxy: pgproto3 only
	"github.com/redis/go-redis/":          {"load/redisload", "demo"},
	"github.com/alicebob/miniredis/":      {"demo"},
	"github.com/gorilla/websocket":        {"load/wsload", "demo", "gameday"},
	"github.com/spf13/":                   {"cmd/chaosload"},
	"github.com/HdrHistogram/":            {"metrics", "slo"},
	"github.com/shirou/gopsutil/":         {"monitor"},
	"github.com/prometheus/client_golang": {"gameday"},
}

// pkg is what go list says of one package.
type pkg struct {
	ImportPath   string
	Error        *struct{ Err string }
	Imports      []string
	TestImports  []string
	XTestImports []string
}

// TestImportDirection fails on every import, in code or in tests, that the
// tables above do not allow, on a package the table does not know and on a
// table entry for a package that no longer exists.
func TestImportDirection(t *testing.T) {
	t.Parallel()
	pkgs := list(t)
	seen := map[string]bool{}
	for _, p := range pkgs {
		name := strings.TrimPrefix(p.ImportPath, module)
		seen[name] = true
		may, ok := allowed[name]
		if !ok {
			t.Errorf("package %s is not in the layering table: add it to allowed in internal/layering/layering_test.go "+
				"and to docs/architecture.md", name)
			continue
		}
		for _, imp := range own(p.Imports) {
			if !slices.Contains(may, imp) {
				t.Errorf("%s imports %s, against the dependency direction: %s may import only %s (docs/architecture.md)",
					name, imp, name, orNone(may))
			}
		}
		mayTest := append(slices.Clone(may), testAllowed[name]...)
		for _, imp := range own(append(slices.Clone(p.TestImports), p.XTestImports...)) {
			if imp != name && !slices.Contains(mayTest, imp) {
				t.Errorf("the tests of %s import %s, against the dependency direction: they may import only %s",
					name, imp, orNone(mayTest))
			}
		}
	}
	for name := range allowed {
		if !seen[name] {
			t.Errorf("the layering table lists %s, which is not a package of the module: remove it", name)
		}
	}
}

// TestHeavyDependencyHomes fails when a heavy dependency is imported
// outside its home packages.
func TestHeavyDependencyHomes(t *testing.T) {
	t.Parallel()
	for _, p := range list(t) {
		name := strings.TrimPrefix(p.ImportPath, module)
		for _, imp := range p.Imports {
			for prefix, home := range homes {
				if strings.HasPrefix(imp, prefix) && !slices.Contains(home, name) {
					t.Errorf("%s imports %s, whose home is %s", name, imp, strings.Join(home, ", "))
				}
			}
		}
	}
}

// TestArchitectureNamesEveryPackage: docs/architecture.md, which a reader
// opens to learn the layering, names every package of the table.
func TestArchitectureNamesEveryPackage(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../../docs/architecture.md")
	if err != nil {
		t.Fatal(err)
	}
	for name := range allowed {
		if !strings.Contains(string(doc), "`"+name+"`") {
			t.Errorf("docs/architecture.md does not name package `%s`: give it its place in the graph and the table", name)
		}
	}
}

// TestTableIsADirection: the allowed edges form no cycle, so the table
// states a direction (the compiler only refuses cycles that exist).
func TestTableIsADirection(t *testing.T) {
	t.Parallel()
	state := map[string]int{} // 0 unvisited, 1 on the path, 2 done
	var visit func(name string, path []string)
	visit = func(name string, path []string) {
		switch state[name] {
		case 1:
			t.Fatalf("the layering table has a cycle: %s", strings.Join(append(path, name), " → "))
		case 2:
			return
		}
		state[name] = 1
		for _, next := range allowed[name] {
			visit(next, append(path, name))
		}
		state[name] = 2
	}
	names := make([]string, 0, len(allowed))
	for name := range allowed {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		visit(name, nil)
	}
}

// list runs go list over the module and returns its packages.
func list(t *testing.T) []pkg {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH: it is needed to read the import graph")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // only catches a hang
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool, "list", "-e", "-json", "./...")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		if p.Error != nil { // an import cycle, say: the edges are still listed and judged
			t.Errorf("go list: %s: %s", p.ImportPath, p.Error.Err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < len(allowed)/2 {
		t.Fatalf("go list found %d packages in %s; is the test running inside the module?", len(pkgs), cmd.Dir)
	}
	return pkgs
}

// own returns the module's packages among imports, without the prefix,
// each once, sorted.
func own(imports []string) []string {
	var out []string
	for _, imp := range imports {
		if name, ok := strings.CutPrefix(imp, module); ok && !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "none of the module's packages"
	}
	return strings.Join(list, ", ")
}
