package supervise

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// Policy says when a Supervisor starts its process again after it exited.
type Policy string

// The restart policies (the names systemd and Docker use).
const (
	// Never leaves an exited process exited.
	Never Policy = "never"
	// OnFailure restarts a process that exited with a non-zero status or
	// was killed by a signal.
	OnFailure Policy = "on-failure"
	// Always restarts a process however it exited.
	Always Policy = "always"
)

// ParsePolicy parses "never", "on-failure" or "always"; "" is Never.
func ParsePolicy(s string) (Policy, error) {
	switch Policy(s) {
	case "", Never:
		return Never, nil
	case OnFailure, Always:
		return Policy(s), nil
	}
	return "", fmt.Errorf("restart policy %q: want never, on-failure or always", s)
}

// Backoff spaces restarts: the first waits Initial, each next one twice the
// one before, up to Max; a process that ran for Reset before it exited
// starts the sequence over. Zero fields are the defaults.
type Backoff struct {
	Initial time.Duration // default 100 ms
	Max     time.Duration // default 10 s
	Reset   time.Duration // default 10 s
}

func (b Backoff) withDefaults() Backoff {
	if b.Initial <= 0 {
		b.Initial = 100 * time.Millisecond
	}
	if b.Max <= 0 {
		b.Max = 10 * time.Second
	}
	if b.Reset <= 0 {
		b.Reset = 10 * time.Second
	}
	return b
}

// Spec is what a Supervisor runs. Command is required; the zero value of
// every other field is its documented default.
type Spec struct {
	Command Command
	// Restart is the restart policy. Default Never.
	Restart Policy
	Backoff Backoff
	// Ready says when a (re)started process is ready to serve; nil: at
	// once. ReadyTimeout bounds it (default 30 s); a restarted process not
	// ready in time is stopped and counts as exited.
	Ready        func(ctx context.Context, p *Process) error
	ReadyTimeout time.Duration
	// OnEvent, when set, is told of every exit, restart and readiness, from
	// the Supervisor's goroutine. It must not block.
	OnEvent func(Event)
}

// Event is one thing that happened to a supervised process.
type Event struct {
	At time.Time
	// Kind is "exited", "restarted" (a new process started: PID is the new
	// one, OldPID the one before), "ready", or "gave-up" (the policy starts
	// no new process; Err says why when a start failed).
	Kind   string
	PID    int
	OldPID int
	// Err is how the process ended ("exited"), or why a start failed.
	Err error
}

// Restart is one exit of a supervised process and what followed it.
type Restart struct {
	OldPID   int
	ExitedAt time.Time
	ExitErr  error
	// NewPID and StartedAt are zero when no process was started again;
	// ReadyAt zero when the new one did not become ready.
	NewPID    int
	StartedAt time.Time
	ReadyAt   time.Time
}

// Supervisor keeps one process running under a restart policy: one
// goroutine, owned by the Supervisor, waits for each process, kills its
// group's leftovers when it exits, and starts the next after the backoff.
// Every process shares the Command's log file (appended to after the
// first start).
type Supervisor struct {
	spec Spec

	mu       sync.Mutex
	cur      *Process
	restarts []Restart

	// life ends at Stop; readiness waits and backoffs select on it.
	life     context.Context
	endLife  context.CancelFunc
	done     chan struct{}
	stopOnce sync.Once
	stopErr  error
}

// Supervise starts the process and waits until it is ready (Spec.Ready,
// bounded by ctx and ReadyTimeout), then supervises it until Stop. A first
// start that fails or is not ready in time is an error, and nothing keeps
// running.
func Supervise(ctx context.Context, spec Spec) (*Supervisor, error) {
	spec.Backoff = spec.Backoff.withDefaults()
	if spec.ReadyTimeout <= 0 {
		spec.ReadyTimeout = 30 * time.Second
	}
	if spec.Restart == "" {
		spec.Restart = Never
	}
	p, err := Start(spec.Command)
	if err != nil {
		return nil, err
	}
	if err := spec.ready(ctx, p); err != nil {
		return nil, errors.Join(err, p.Stop())
	}
	s := &Supervisor{spec: spec, cur: p, done: make(chan struct{})}
	s.life, s.endLife = context.WithCancel(context.Background())
	s.spec.Command.AppendLog = true
	s.event(Event{Kind: "ready", PID: p.PID()})
	go s.loop()
	return s, nil
}

func (sp Spec) ready(ctx context.Context, p *Process) error {
	if sp.Ready == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, sp.ReadyTimeout)
	defer cancel()
	return sp.Ready(ctx, p)
}

// Process is the process running now (the last one started, once the
// Supervisor has given up or stopped).
func (s *Supervisor) Process() *Process {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur
}

// PID is Process().PID().
func (s *Supervisor) PID() int { return s.Process().PID() }

// Restarts lists every exit so far and the restart that followed it.
func (s *Supervisor) Restarts() []Restart {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Restart(nil), s.restarts...)
}

// Done is closed once the Supervisor starts no more processes: after Stop,
// or when its process exited and the policy does not restart it.
func (s *Supervisor) Done() <-chan struct{} { return s.done }

// Stop ends supervision and stops the running process (Process.Stop). It
// is idempotent and returns the process's Stop result.
func (s *Supervisor) Stop() error {
	s.stopOnce.Do(func() {
		s.endLife()
		<-s.done
		s.stopErr = s.Process().Stop()
	})
	return s.stopErr
}

func (s *Supervisor) event(e Event) {
	if s.spec.OnEvent != nil {
		e.At = time.Now()
		s.spec.OnEvent(e)
	}
}

// loop waits for each process and restarts it as the policy says.
func (s *Supervisor) loop() {
	defer close(s.done)
	delay := s.spec.Backoff.Initial
	for {
		p := s.Process()
		started := time.Now()
		select {
		case <-s.life.Done():
			return
		case <-p.Done():
		}
		exitErr := p.ExitErr()
		_ = p.KillLeftovers()
		s.addRestart(Restart{OldPID: p.PID(), ExitedAt: time.Now(), ExitErr: exitErr})
		s.event(Event{Kind: "exited", PID: p.PID(), Err: exitErr})
		if !s.restartable(exitErr) {
			s.event(Event{Kind: "gave-up", PID: p.PID()})
			return
		}
		if time.Since(started) >= s.spec.Backoff.Reset {
			delay = s.spec.Backoff.Initial
		}
		if !s.sleep(delay) {
			return
		}
		delay = min(2*delay, s.spec.Backoff.Max)
		if err := s.restart(p.PID()); err != nil {
			s.event(Event{Kind: "gave-up", PID: p.PID(), Err: err})
			return
		}
	}
}

// restartable applies the policy to how the process ended.
func (s *Supervisor) restartable(exitErr error) bool {
	switch s.spec.Restart {
	case Always:
		return true
	case OnFailure:
		return exitErr != nil
	}
	return false
}

// sleep waits d; false when Stop was called meanwhile.
func (s *Supervisor) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-s.life.Done():
		return false
	case <-t.C:
		return true
	}
}

// restart starts the next process and waits for it to be ready, or for
// Stop. A process not ready in time stays current: the loop sees it exit
// (it is stopped here) and the policy decides again.
func (s *Supervisor) restart(oldPID int) error {
	p, err := Start(s.spec.Command)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.cur = p
	r := &s.restarts[len(s.restarts)-1]
	r.NewPID, r.StartedAt = p.PID(), time.Now()
	s.mu.Unlock()
	s.event(Event{Kind: "restarted", PID: p.PID(), OldPID: oldPID})
	if err := s.spec.ready(s.life, p); err != nil {
		if s.life.Err() == nil {
			_ = p.Stop() // not ready in time, or exited: the loop sees it gone
		}
		return nil
	}
	s.mu.Lock()
	s.restarts[len(s.restarts)-1].ReadyAt = time.Now()
	s.mu.Unlock()
	s.event(Event{Kind: "ready", PID: p.PID()})
	return nil
}

func (s *Supervisor) addRestart(r Restart) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.restarts = append(s.restarts, r)
}

// Signaled reports whether err (an ExitErr) says the process was killed by
// a signal, and which.
func Signaled(err error) (syscall.Signal, bool) {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return 0, false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() {
		return 0, false
	}
	return ws.Signal(), true
}
