package demo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/chaosload/chaosload/balancer"
	"github.com/chaosload/chaosload/supervise"
	"github.com/rs/zerolog"
)

// ErrHAProxyNotInstalled is returned (wrapped) by StartHAProxy when haproxy
// cannot be found.
var ErrHAProxyNotInstalled = errors.New("haproxy not found on PATH or at /usr/sbin/haproxy: " +
	"install it (Debian/Ubuntu: apt-get install -y haproxy, or make deps) or set HAProxyConfig.Bin")

// HAProxy is a running haproxy load balancer in front of the demo
// service's replicas: an HTTP frontend on a loopback port, round robin over
// the backends, health checks as configured. Its stats socket gives each
// server's counters (Stats), its log the servers' state changes, read as
// they come.
type HAProxy struct {
	addr      string
	dir       string
	statsSock string
	backends  []string
	proc      *supervise.Process
	log       *haproxyLog
	logger    zerolog.Logger

	closeOnce sync.Once
	closeErr  error
}

// StartHAProxy writes haproxy's configuration into a new temporary
// directory, starts haproxy in the foreground on a free loopback port and
// returns once its stats socket answers and its frontend accepts
// connections. ctx bounds the start only; Close stops it.
func StartHAProxy(ctx context.Context, cfg HAProxyConfig) (*HAProxy, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("start haproxy: %w", err)
	}
	bin, err := findHAProxy(cfg.Bin)
	if err != nil {
		return nil, fmt.Errorf("start haproxy: %w", err)
	}
	dir, err := supervise.MkdirTemp(cfg.TempDir, "chaosload-haproxy-")
	if err != nil {
		return nil, fmt.Errorf("start haproxy: make temporary directory: %w", err)
	}
	h := &HAProxy{dir: dir, statsSock: filepath.Join(dir, "stats.sock"), backends: cfg.Backends, logger: cfg.Logger}
	if h.log, err = listenHAProxyLog(filepath.Join(dir, "log.sock")); err != nil {
		return nil, errors.Join(fmt.Errorf("start haproxy: %w", err), h.Close())
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.StartTimeout)
	defer cancel()
	if err := onFreePort("haproxy", h.logger, func(port int) error { return h.start(ctx, cfg, bin, port) }); err != nil {
		return nil, errors.Join(fmt.Errorf("start haproxy: %w", err), h.Close())
	}
	h.logger.Info().Str("addr", h.addr).Int("pid", h.PID()).Str("check", cfg.Check).
		Strs("backends", cfg.Backends).Msg("haproxy started")
	return h, nil
}

// findHAProxy returns bin, else haproxy on PATH, else /usr/sbin/haproxy
// (not on a user's PATH on Debian).
func findHAProxy(bin string) (string, error) {
	if bin != "" {
		return bin, nil
	}
	if p, err := exec.LookPath("haproxy"); err == nil {
		return p, nil
	}
	if _, err := os.Stat("/usr/sbin/haproxy"); err == nil {
		return "/usr/sbin/haproxy", nil
	}
	return "", ErrHAProxyNotInstalled
}

// start starts haproxy on port and waits until it is ready; errPortTaken
// when it could not bind the port.
func (h *HAProxy) start(ctx context.Context, cfg HAProxyConfig, bin string, port int) error {
	h.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	conf := filepath.Join(h.dir, "haproxy.cfg")
	if err := os.WriteFile(conf, []byte(cfg.render(port, h.statsSock, h.log.path)), 0o600); err != nil {
		return fmt.Errorf("write configuration: %w", err)
	}
	var err error
	h.proc, err = supervise.Start(supervise.Command{
		Name: "haproxy", Path: bin, Dir: h.dir, Log: filepath.Join(h.dir, "haproxy.log"),
		Args:      []string{"-db", "-f", conf},
		StopGrace: 5 * time.Second, StopSignal: syscall.SIGTERM,
	})
	if err != nil {
		return err
	}
	err = h.proc.WaitReady(ctx, func(ctx context.Context) error {
		if _, err := h.query(ctx, "show info"); err != nil {
			return err
		}
		return supervise.TCP(h.addr)(ctx)
	})
	if errors.Is(err, supervise.ErrExited) && strings.Contains(h.proc.Tail(), "cannot bind socket") {
		return errPortTaken
	}
	return err
}

// Addr is the frontend's host:port.
func (h *HAProxy) Addr() string { return h.addr }

// PID is haproxy's process id.
func (h *HAProxy) PID() int { return h.proc.PID() }

// Backends are the servers' addresses, r0 first.
func (h *HAProxy) Backends() []string { return h.backends }

// Events returns the servers' state changes logged so far.
func (h *HAProxy) Events() []balancer.Event { return h.log.events() }

// Done is closed when haproxy has exited.
func (h *HAProxy) Done() <-chan struct{} { return h.proc.Done() }

// Close stops haproxy (SIGTERM, SIGKILL to its group 5 s later), waits for
// it, stops reading its log and removes its directory. It is idempotent.
func (h *HAProxy) Close() error {
	h.closeOnce.Do(func() {
		var errs []error
		if h.proc != nil {
			errs = append(errs, h.proc.Stop())
		}
		if h.log != nil {
			errs = append(errs, h.log.close())
		}
		if err := os.RemoveAll(h.dir); err != nil {
			errs = append(errs, fmt.Errorf("haproxy: remove %s: %w", h.dir, err))
		}
		h.closeErr = errors.Join(errs...)
		h.logger.Debug().Str("addr", h.addr).Msg("haproxy stopped")
	})
	return h.closeErr
}
