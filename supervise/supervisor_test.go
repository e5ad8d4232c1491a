package supervise

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// helperSpec is a Spec running this test binary as helper mode.
func helperSpec(tb testing.TB, mode string, policy Policy, events chan<- Event) Spec {
	tb.Helper()
	exe, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	return Spec{
		Command: Command{Name: mode + " helper", Path: exe, Log: filepath.Join(tb.TempDir(), mode+".log"),
			Env: append(os.Environ(), helperEnv+"="+mode), StopGrace: time.Second},
		Restart: policy,
		Backoff: Backoff{Initial: 10 * time.Millisecond},
		OnEvent: func(e Event) { events <- e },
	}
}

// nextEvent waits for the next event of kind; the deadline only catches a hang.
func nextEvent(tb testing.TB, events <-chan Event, kind string) Event {
	tb.Helper()
	timeout := time.After(hang)
	for {
		select {
		case e := <-events:
			if e.Kind == kind {
				return e
			}
		case <-timeout:
			tb.Fatalf("no %q event", kind)
		}
	}
}

// TestSupervisorRestartsAKilledProcess: on-failure brings a SIGKILLed
// server back as a new process, ready again (its announcement read from
// where the new process's output begins in the shared log), and records
// the exit, the new PID and when it was ready.
func TestSupervisorRestartsAKilledProcess(t *testing.T) {
	t.Parallel()
	events := make(chan Event, 16)
	spec := helperSpec(t, "serve", OnFailure, events)
	announce := regexp.MustCompile(`serving on (\S+)`)
	spec.Ready = func(ctx context.Context, p *Process) error {
		m, err := p.WaitLog(ctx, announce)
		if err != nil {
			return err
		}
		return p.WaitReady(ctx, HTTP("http://"+m[1]+"/ok"))
	}
	s, err := Supervise(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	first := s.PID()
	nextEvent(t, events, "ready")
	if err := s.Process().Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if e := nextEvent(t, events, "exited"); e.PID != first {
		t.Fatalf("exited event for pid %d, want %d", e.PID, first)
	}
	ready := nextEvent(t, events, "ready")
	if ready.PID == first || ready.PID != s.PID() {
		t.Fatalf("ready again as pid %d (current %d), want a new process, not %d", ready.PID, s.PID(), first)
	}
	waitGone(t, first)
	rs := s.Restarts()
	if len(rs) != 1 {
		t.Fatalf("restarts = %+v, want one", rs)
	}
	r := rs[0]
	if sig, ok := Signaled(r.ExitErr); !ok || sig != syscall.SIGKILL || r.OldPID != first || r.NewPID != ready.PID ||
		r.StartedAt.Before(r.ExitedAt) || r.ReadyAt.Before(r.StartedAt) {
		t.Fatalf("restart record %+v, want pid %d killed by SIGKILL, then %d started and ready", r, first, ready.PID)
	}
	t.Logf("pid %d killed, pid %d ready %v after the exit", first, r.NewPID, r.ReadyAt.Sub(r.ExitedAt))
	if err := s.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	<-s.Done()
	waitGone(t, ready.PID)
}

// TestSupervisorPolicies: what each policy does after a clean exit and
// after a kill.
func TestSupervisorPolicies(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		mode    string
		policy  Policy
		kill    bool
		restart bool
	}{
		{"brief", Never, false, false},     // exit 0: never restarts
		{"serve", Never, true, false},      // killed: never restarts either
		{"brief", OnFailure, false, false}, // exit 0 is no failure
		{"fail", OnFailure, false, true},   // exit 3 is
		{"brief", Always, false, true},     // always restarts even exit 0
	} {
		t.Run(c.mode+"-"+string(c.policy), func(t *testing.T) {
			t.Parallel()
			events := make(chan Event, 64)
			s, err := Supervise(context.Background(), helperSpec(t, c.mode, c.policy, events))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Stop() })
			first := s.PID()
			if c.kill {
				_ = s.Process().Signal(syscall.SIGKILL)
			}
			nextEvent(t, events, "exited")
			if !c.restart {
				nextEvent(t, events, "gave-up")
				<-s.Done()
				if rs := s.Restarts(); len(rs) != 1 || rs[0].NewPID != 0 {
					t.Fatalf("restarts %+v, want one exit and no new process", rs)
				}
				return
			}
			if e := nextEvent(t, events, "restarted"); e.OldPID != first || e.PID == first {
				t.Fatalf("restarted event %+v, want a new process after %d", e, first)
			}
		})
	}
}

// TestKillLeftovers: a child left in the group of a process that was
// killed is killed with it.
func TestKillLeftovers(t *testing.T) {
	t.Parallel()
	p := startHelper(t, "forker", Command{})
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	m, err := p.WaitLog(ctx, regexp.MustCompile(`child (\d+)`))
	if err != nil {
		t.Fatal(err)
	}
	child, _ := strconv.Atoi(m[1])
	t.Cleanup(func() { _ = syscall.Kill(child, syscall.SIGKILL) })
	if err := p.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.Done()
	if gone(child) {
		t.Fatalf("child %d died with its parent; the test proves nothing", child)
	}
	if err := p.KillLeftovers(); err != nil {
		t.Fatal(err)
	}
	waitGone(t, child)
	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Errorf("Signal after exit: %v, want nil", err)
	}
}

// TestShell: a command written as one string runs through /bin/sh, and
// `exec` makes the last program the process itself.
func TestShell(t *testing.T) {
	t.Parallel()
	path, args := Shell(`echo "one two"; exec sleep 300`)
	p, err := Start(Command{Name: "shell", Path: path, Args: args, Log: filepath.Join(t.TempDir(), "sh.log"), StopGrace: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Stop() })
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	if _, err := p.WaitLog(ctx, regexp.MustCompile(`^one two\n`)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(hang)
	for {
		comm, _ := os.ReadFile("/proc/" + strconv.Itoa(p.PID()) + "/comm")
		if string(comm) == "sleep\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pid %d is %q, want sleep", p.PID(), comm)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
