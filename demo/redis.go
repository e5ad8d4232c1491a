package demo

import (
	"bufio"
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

	"github.com/alicebob/miniredis/v2"
	"github.com/chaosload/chaosload/supervise"
	"github.com/rs/zerolog"
)

// RedisConfig tunes StartRedis. The zero value is the documented default.
type RedisConfig struct {
	// MaxClients is redis-server's maxclients. Default 1000: room for load
	// users, yet quick to exhaust. The in-process fallback has no limit.
	MaxClients int
	// Bin is the redis-server binary. Default: redis-server on PATH, and the
	// in-process fallback when there is none.
	Bin string
	// InProcess forces the in-process fallback (miniredis) even when
	// redis-server is installed.
	InProcess bool
	// TempDir is where the server's temporary directory (working directory
	// and log) is made. Default os.TempDir().
	TempDir string
	// StartTimeout bounds the start. Default 10 s.
	StartTimeout time.Duration
	// Logger receives lifecycle events. The zero value logs nothing.
	Logger zerolog.Logger
}

// Redis is a running throwaway Redis server on a loopback port, without
// persistence: a redis-server child process, or, when redis-server is not
// installed, an in-process RESP server (miniredis).
type Redis struct {
	addr   string
	dir    string
	proc   *supervise.Process   // nil when in-process
	mini   *miniredis.Miniredis // nil when a child process
	logger zerolog.Logger

	closeOnce sync.Once
	closeErr  error
}

// StartRedis starts redis-server on a free loopback port (no persistence,
// not daemonized) and waits until it answers PING. ctx bounds the start
// only; Close stops the server.
func StartRedis(ctx context.Context, cfg RedisConfig) (*Redis, error) {
	if cfg.MaxClients == 0 {
		cfg.MaxClients = 1000
	}
	if cfg.StartTimeout == 0 {
		cfg.StartTimeout = 10 * time.Second
	}
	bin := cfg.Bin
	if bin == "" && !cfg.InProcess {
		bin, _ = exec.LookPath("redis-server")
		if bin == "" {
			cfg.Logger.Warn().Msg("redis-server not found on PATH: using the in-process fallback (miniredis); " +
				"install redis-server (apt-get install -y redis-server, or make deps) for a real server")
		}
	}
	if bin == "" || cfg.InProcess {
		return startMiniredis(cfg.Logger)
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.StartTimeout)
	defer cancel()
	dir, err := supervise.MkdirTemp(cfg.TempDir, "chaosload-redis-")
	if err != nil {
		return nil, fmt.Errorf("start redis: make temporary directory: %w", err)
	}
	r := &Redis{dir: dir, logger: cfg.Logger}
	begin := time.Now()
	if err := r.listen(ctx, bin, cfg.MaxClients); err != nil {
		return nil, errors.Join(fmt.Errorf("start redis: %w", err), r.Close())
	}
	r.logger.Info().Str("addr", r.addr).Int("pid", r.PID()).Int("maxclients", cfg.MaxClients).
		Dur("took", time.Since(begin)).Msg("redis started")
	return r, nil
}

func startMiniredis(logger zerolog.Logger) (*Redis, error) {
	m := miniredis.NewMiniRedis()
	if err := m.StartAddr("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("start in-process redis: %w", err)
	}
	logger.Info().Str("addr", m.Addr()).Msg("redis started in process (miniredis fallback)")
	return &Redis{addr: m.Addr(), mini: m, logger: logger}, nil
}

// listen starts the server on a free port (onFreePort).
func (r *Redis) listen(ctx context.Context, bin string, maxClients int) error {
	return onFreePort("redis", r.logger, func(port int) error {
		r.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		// SIGKILL: it holds nothing worth saving, and a SIGTERM costs a
		// 100 ms server tick.
		var err error
		r.proc, err = supervise.Start(supervise.Command{
			Name: "redis-server", Path: bin, Dir: r.dir, Log: filepath.Join(r.dir, "redis.log"),
			Args: []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
				"--save", "", "--appendonly", "no",
				"--maxclients", strconv.Itoa(maxClients),
				"--daemonize", "no", "--dir", r.dir, "--logfile", ""},
			StopSignal: syscall.SIGKILL, StopGrace: 5 * time.Second,
		})
		if err != nil {
			return err
		}
		return r.waitReady(ctx)
	})
}

// waitReady waits until the server answers PING; errPortTaken when it
// exited because its port was taken.
func (r *Redis) waitReady(ctx context.Context) error {
	err := r.proc.WaitReady(ctx, func(ctx context.Context) error { return ping(ctx, r.addr) })
	if errors.Is(err, supervise.ErrExited) && strings.Contains(r.proc.Tail(), "Address already in use") {
		return errPortTaken
	}
	return err
}

// ping sends one RESP PING to addr and expects +PONG.
func ping(ctx context.Context, addr string) error {
	d := net.Dialer{Timeout: 500 * time.Millisecond}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	deadline := time.Now().Add(time.Second)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = conn.SetDeadline(deadline)
	if _, err := conn.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if strings.TrimSpace(line) != "+PONG" {
		return fmt.Errorf("PING answered %q", strings.TrimSpace(line))
	}
	return nil
}

// Addr is the server's host:port on 127.0.0.1.
func (r *Redis) Addr() string { return r.addr }

// PID is the redis-server process id, or 0 for the in-process fallback.
func (r *Redis) PID() int {
	if r.proc == nil {
		return 0
	}
	return r.proc.PID()
}

// InProcess reports whether this is the in-process fallback.
func (r *Redis) InProcess() bool { return r.mini != nil }

// Close kills the server (SIGKILL), waits for it, and removes its
// temporary directory. It is idempotent.
func (r *Redis) Close() error {
	r.closeOnce.Do(func() {
		var errs []error
		if r.mini != nil {
			r.mini.Close()
		}
		if r.proc != nil {
			errs = append(errs, r.proc.Stop())
		}
		if r.dir != "" {
			if err := os.RemoveAll(r.dir); err != nil {
				errs = append(errs, fmt.Errorf("redis: remove %s: %w", r.dir, err))
			}
		}
		r.closeErr = errors.Join(errs...)
		r.logger.Debug().Str("addr", r.addr).Msg("redis stopped")
	})
	return r.closeErr
}
