package demo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/chaosload/chaosload/supervise"
	"github.com/rs/zerolog"
)

// ServiceProcessConfig configures StartServiceProcess. Service.Postgres and
// Service.Redis are required; the zero value of every other field is its
// documented default.
type ServiceProcessConfig struct {
	// Service is the service's configuration, passed to the child as
	// flags. Its Logger logs the child's start and stop here; the child's
	// own log (at Logger's level, at least info) goes to its log file.
	Service ServiceConfig
	// TempDir is where the directory holding the log file is made.
	// Default os.TempDir().
	TempDir string
	// StartTimeout bounds the start, until the service accepts
	// connections. Default 30 s.
	StartTimeout time.Duration
	// Restart is the restart policy of the service's supervisor. Default
	// supervise.Never. A restarted service listens on the same address.
	Restart supervise.Policy
}

// ServiceProcess is the demo service running as a child process: the
// current executable re-executed as `demo service FLAGS` (see
// RunServiceIfChild), in its own process group, killed if chaosload dies.
// Its CPU, memory and file descriptors are its own, not the load
// generator's.
type ServiceProcess struct {
	sup    *supervise.Supervisor
	addr   string
	mode   Mode
	dir    string
	logger zerolog.Logger
	mu     sync.Mutex // guards addr

	closeOnce sync.Once
	closeErr  error
}

// announced matches the line ServeMain prints once it listens.
var announced = regexp.MustCompile(`listening on http://(\S+) `)

// StartServiceProcess starts the demo service as a child process and
// returns once it accepts connections. ctx bounds the start only; Close
// stops it. The executable must call RunServiceIfChild first thing in main
// (or TestMain): chaosload's does.
func StartServiceProcess(ctx context.Context, cfg ServiceProcessConfig) (*ServiceProcess, error) {
	if os.Getenv(serviceChildEnv) == "1" {
		return nil, errors.New("start demo service: this process is itself a demo service child that did not serve: " +
			"its main (or TestMain) must call demo.RunServiceIfChild first")
	}
	svc, err := cfg.Service.withDefaults()
	if err != nil {
		return nil, err
	}
	if cfg.StartTimeout == 0 {
		cfg.StartTimeout = 30 * time.Second
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("start demo service: find the executable to run it: %w", err)
	}
	dir, err := supervise.MkdirTemp(cfg.TempDir, "chaosload-service-")
	if err != nil {
		return nil, fmt.Errorf("start demo service: make temporary directory: %w", err)
	}
	s := &ServiceProcess{mode: svc.Mode, dir: dir, logger: svc.Logger}
	ctx, cancel := context.WithTimeout(ctx, cfg.StartTimeout)
	defer cancel()
	if err := s.start(ctx, cfg, svc, exe); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("start demo service: %w", err)
	}
	s.logger.Info().Str("addr", s.addr).Int("pid", s.PID()).Str("mode", string(s.mode)).
		Str("restart", string(cfg.Restart)).Str("log", s.LogPath()).Msg("demo service started")
	return s, nil
}

// start starts the supervised service: on svc.Listen when it names a
// port, else on a free port (onFreePort), the same port for every restart.
func (s *ServiceProcess) start(ctx context.Context, cfg ServiceProcessConfig, svc ServiceConfig, exe string) error {
	if svc.Listen != "" && svc.Listen != "127.0.0.1:0" {
		return s.supervise(ctx, cfg, svc, exe)
	}
	return onFreePort("demo service", s.logger, func(port int) error {
		svc.Listen = fmt.Sprintf("127.0.0.1:%d", port)
		err := s.supervise(ctx, cfg, svc, exe)
		if err != nil && strings.Contains(err.Error(), "address already in use") {
			return fmt.Errorf("%w: %w", errPortTaken, err)
		}
		return err
	})
}

// supervise starts the service listening on svc.Listen under a supervisor.
func (s *ServiceProcess) supervise(ctx context.Context, cfg ServiceProcessConfig, svc ServiceConfig, exe string) error {
	var err error
	s.sup, err = supervise.Supervise(ctx, supervise.Spec{
		Command: supervise.Command{
			Name: "demo service", Path: exe,
			Args: append([]string{"demo", "service"}, serviceArgs(svc)...),
			Env:  append(os.Environ(), serviceChildEnv+"=1"),
			Log:  filepath.Join(s.dir, "service.log"),
			// its own shutdown gives requests ShutdownTimeout, then cancels them
			StopGrace: svc.ShutdownTimeout + 5*time.Second,
		},
		Restart:      cfg.Restart,
		Ready:        s.ready,
		ReadyTimeout: cfg.StartTimeout,
		OnEvent:      s.event,
	})
	return err
}

// ready reads the address the child announces, then checks that it
// accepts connections. (Not /healthz: that waits on the dependencies, and
// the runner's proxies in front of them start forwarding only later.)
func (s *ServiceProcess) ready(ctx context.Context, p *supervise.Process) error {
	m, err := p.WaitLog(ctx, announced)
	if err != nil {
		return err
	}
	s.setAddr(m[1])
	return p.WaitReady(ctx, supervise.TCP(m[1]))
}

// event logs the supervisor's events.
func (s *ServiceProcess) event(e supervise.Event) {
	s.logger.Info().Str("event", e.Kind).Int("pid", e.PID).AnErr("exit", e.Err).Msg("demo service")
}

func (s *ServiceProcess) setAddr(a string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addr = a
}

// Addr is the service's HTTP address (host:port).
func (s *ServiceProcess) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Mode is the service's mode.
func (s *ServiceProcess) Mode() Mode { return s.mode }

// PID is the service's process id (the current one, after a restart).
func (s *ServiceProcess) PID() int { return s.sup.PID() }

// Supervisor is the supervisor running the service: its restarts, and
// the process running now.
func (s *ServiceProcess) Supervisor() *supervise.Supervisor { return s.sup }

// LogPath is the service's log file (removed by Close).
func (s *ServiceProcess) LogPath() string { return s.sup.Process().LogPath() }

// Done is closed when the service has exited for good: after Close, or
// when it exited and its restart policy did not start it again.
func (s *ServiceProcess) Done() <-chan struct{} { return s.sup.Done() }

// Close stops the service (SIGTERM: it finishes in-flight requests for its
// ShutdownTimeout; SIGKILL to its process group 5 s after that), waits for
// it and removes its log. It reports a service that had already failed,
// with the end of its log. It is idempotent.
func (s *ServiceProcess) Close() error {
	s.closeOnce.Do(func() {
		var errs []error
		select {
		case <-s.sup.Done():
			if p := s.sup.Process(); p.ExitErr() != nil {
				errs = append(errs, fmt.Errorf("demo service (pid %d) had exited (%v): %s", p.PID(), p.ExitErr(), p.Tail()))
			}
		default:
		}
		s.closeErr = errors.Join(append(errs, s.stop())...)
		s.logger.Debug().Int("pid", s.PID()).Msg("demo service stopped")
	})
	return s.closeErr
}

// stop stops the process and removes its directory.
func (s *ServiceProcess) stop() error {
	err := s.sup.Stop()
	if rerr := os.RemoveAll(s.dir); rerr != nil {
		err = errors.Join(err, fmt.Errorf("demo service: remove %s: %w", s.dir, rerr))
	}
	return err
}
