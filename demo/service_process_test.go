package demo

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chaosload/chaosload/supervise"
	"github.com/rs/zerolog"
)

// TestServiceProcess: the service runs as a child process (this test
// binary re-executed), answers on the address it announced, carries the
// flags it was given, and Close stops it and removes its log. Its
// dependencies need not be up: it connects on demand.
func TestServiceProcess(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	svc, err := StartServiceProcess(ctx, ServiceProcessConfig{Service: ServiceConfig{
		Mode: ModeNaive, Postgres: "127.0.0.1:1", Redis: "127.0.0.1:1", AckBeforeCommit: true, Logger: testLogger(t),
	}})
	if err != nil {
		t.Fatalf("StartServiceProcess: %v", err)
	}
	t.Cleanup(func() { _ = svc.Close() })
	pid := svc.PID()
	if pid == os.Getpid() || parentOf(t, pid) != os.Getpid() {
		t.Fatalf("service pid %d: want a child of this process (%d)", pid, os.Getpid())
	}
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")[1:]
	for _, want := range []string{"demo service", "--mode naive", "--ack-before-commit=true"} {
		if !strings.Contains(strings.Join(args, " "), want) {
			t.Errorf("service command line %q lacks %q", args, want)
		}
	}
	c := newClient(t, svc.Addr(), 10*time.Second)
	if h := decode[health](t, c.get("/healthz")); h.Mode != ModeNaive || h.Status != "degraded" {
		t.Errorf("healthz of a service without dependencies: %+v", h)
	}
	log := svc.LogPath()
	if err := svc.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := svc.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	processGone(t, pid)
	if _, err := os.Stat(log); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("log %s still there after Close", log)
	}
}

// TestServiceProcessStartFails: a service that cannot start (its address
// is taken) is an error naming the process and showing its log's end.
func TestServiceProcessStartFails(t *testing.T) {
	t.Parallel()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	_, err = StartServiceProcess(context.Background(), ServiceProcessConfig{Service: ServiceConfig{
		Postgres: "127.0.0.1:1", Redis: "127.0.0.1:1", Listen: taken.Addr().String(),
	}})
	if !errors.Is(err, supervise.ErrExited) {
		t.Fatalf("StartServiceProcess on a taken address: %v, want exited", err)
	}
	for _, want := range []string{"start demo service", "demo service (pid ", "address already in use"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}

// TestServiceProcessRefusesInChild: a process that is itself a service
// child (its main lacks RunServiceIfChild) does not start another, which
// would run its tests again.
func TestServiceProcessRefusesInChild(t *testing.T) {
	t.Setenv(serviceChildEnv, "1")
	_, err := StartServiceProcess(context.Background(), ServiceProcessConfig{Service: ServiceConfig{
		Postgres: "127.0.0.1:1", Redis: "127.0.0.1:1",
	}})
	if err == nil || !strings.Contains(err.Error(), "RunServiceIfChild") {
		t.Fatalf("StartServiceProcess in a child: %v, want an error naming RunServiceIfChild", err)
	}
}

// TestServiceArgs: the flags the parent writes give the child the same
// configuration.
func TestServiceArgs(t *testing.T) {
	t.Parallel()
	for _, cfg := range []ServiceConfig{
		{Mode: ModeGraceful, Postgres: "127.0.0.1:5432", Redis: "127.0.0.1:6379"}, // only what is required
		{Mode: ModeNaive, Postgres: "[::1]:5432", Redis: "127.0.0.1:6379", Listen: "127.0.0.1:8080", // every knob
			PoolSize: 3, CacheTTL: time.Second, StaleTTL: time.Minute, ShutdownTimeout: 200 * time.Millisecond,
			AckBeforeCommit: true, LoseEvery: 4},
	} {
		got, err := parseServiceArgs(serviceArgs(cfg), io.Discard)
		if err != nil {
			t.Fatalf("parse %q: %v", serviceArgs(cfg), err)
		}
		got.Logger = cfg.Logger
		if !reflect.DeepEqual(got, cfg) {
			t.Errorf("round trip of %+v gave %+v", cfg, got)
		}
	}
	// the child logs at the parent's level, at least info
	for level, want := range map[zerolog.Level]string{zerolog.DebugLevel: "debug", zerolog.WarnLevel: "info", zerolog.Disabled: "info"} {
		args := serviceArgs(ServiceConfig{Logger: zerolog.New(io.Discard).Level(level)})
		if last := args[len(args)-1]; last != "--log-level="+want {
			t.Errorf("parent at %v: child gets %s, want %s", level, last, want)
		}
	}
	if _, err := parseServiceArgs([]string{"--mode", "naive", "extra"}, io.Discard); err == nil {
		t.Error("a stray argument was accepted")
	}
}

// parentOf is the parent PID of pid, from /proc.
func parentOf(tb testing.TB, pid int) int {
	tb.Helper()
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		tb.Fatal(err)
	}
	s := string(stat)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:]) // state, ppid, ...
	ppid, _ := strconv.Atoi(f[1])
	return ppid
}
