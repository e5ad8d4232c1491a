package demo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/chaosload/chaosload/supervise"
	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"
)

// The roles and database of the throwaway cluster.
const (
	// Superuser is the cluster's superuser role (trust auth, no password).
	// Faults and checks connect as it: it may take every connection slot.
	Superuser = "postgres"
	// ShopRole is the non-superuser role the shop service connects as. It
	// cannot use the superuser-reserved slots.
	ShopRole = "shop"
	// ShopDatabase is the database holding the shop's tables; ShopRole owns it.
	ShopDatabase = "shop"
)

// ErrPostgresNotInstalled is returned (wrapped) by StartPostgres when the
// PostgreSQL server binaries cannot be found.
var ErrPostgresNotInstalled = errors.New("PostgreSQL server binaries (initdb, postgres) not found on PATH or in /usr/lib/postgresql/*/bin: " +
	"install them (Debian/Ubuntu: apt-get install -y postgresql, or make deps) or set PostgresConfig.BinDir")

// PostgresConfig tunes StartPostgres. The zero value is the documented default.
type PostgresConfig struct {
	// MaxConnections is max_connections. Default 20, small so that
	// exhausting it is quick.
	MaxConnections int
	// SuperuserReserved is superuser_reserved_connections: slots only a
	// superuser may take. Default 3 (PostgreSQL's own default); negative
	// means none. ShopRole may use MaxConnections - SuperuserReserved slots.
	SuperuserReserved int
	// BinDir holds initdb and postgres. Default: the directory of postgres on
	// PATH, else the newest /usr/lib/postgresql/*/bin.
	BinDir string
	// OSUser is the account PostgreSQL runs as when chaosload runs as root
	// (PostgreSQL refuses to run as root). Default "nobody". Ignored when
	// not root.
	OSUser string
	// TempDir is where the cluster's temporary directory is made; OSUser
	// must be able to reach it. Default os.TempDir().
	TempDir string
	// StartTimeout bounds initdb, startup and setup. Default 60 s (initdb alone takes
	// seconds on a starved CI machine).
	StartTimeout time.Duration
	// Disk, when set, puts the data directory on a filesystem of its own
	// of this many bytes (a tmpfs mounted at DiskDir, write-ahead log kept
	// outside it), so that filling it fails writes with SQLSTATE 53100
	// disk_full while PostgreSQL stays up. Needs root; at least 32 MiB.
	Disk int64
	// Logger receives lifecycle events. The zero value logs nothing.
	Logger zerolog.Logger
}

// Postgres is a running throwaway PostgreSQL cluster listening on a loopback
// port (TCP only), with database ShopDatabase owned by ShopRole holding the
// shop's schema and seed products.
type Postgres struct {
	addr     string
	dir      string // the temporary directory: data/ (or disk/data/ and wal/) and postgres.log
	disk     *pgDisk
	maxConns int
	reserved int
	proc     *supervise.Process
	logger   zerolog.Logger

	closeOnce sync.Once
	closeErr  error
}

// StartPostgres creates a cluster with initdb in a new temporary directory,
// starts postgres on a free loopback port, waits until it accepts
// connections and creates the shop's role, database, schema and seed data.
// ctx bounds the start only; Close stops the server and removes the
// directory.
func StartPostgres(ctx context.Context, cfg PostgresConfig) (*Postgres, error) {
	cfg = cfg.withDefaults()
	if cfg.MaxConnections <= cfg.SuperuserReserved {
		return nil, fmt.Errorf("start postgres: MaxConnections (%d) must exceed SuperuserReserved (%d)", cfg.MaxConnections, cfg.SuperuserReserved)
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.StartTimeout)
	defer cancel()
	begin := time.Now()

	initdb, postgres, err := findPostgresBins(cfg.BinDir)
	if err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	cred, err := unprivileged(cfg.OSUser)
	if err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	dir, err := supervise.MkdirTemp(cfg.TempDir, "chaosload-pg-")
	if err != nil {
		return nil, fmt.Errorf("start postgres: make temporary directory: %w", err)
	}
	p := &Postgres{dir: dir, maxConns: cfg.MaxConnections, reserved: cfg.SuperuserReserved, logger: cfg.Logger}
	if err := p.start(ctx, cfg, initdb, postgres, cred); err != nil {
		return nil, errors.Join(fmt.Errorf("start postgres: %w", err), p.Close())
	}
	p.logger.Info().Str("addr", p.addr).Int("pid", p.PID()).Int("max_connections", p.maxConns).
		Dur("took", time.Since(begin)).Msg("postgres started")
	return p, nil
}

func (c PostgresConfig) withDefaults() PostgresConfig {
	if c.MaxConnections == 0 {
		c.MaxConnections = 20
	}
	switch {
	case c.SuperuserReserved == 0:
		c.SuperuserReserved = 3
	case c.SuperuserReserved < 0:
		c.SuperuserReserved = 0
	}
	if c.TempDir == "" {
		c.TempDir = os.TempDir()
	}
	if c.StartTimeout == 0 {
		c.StartTimeout = 60 * time.Second
	}
	return c
}

// start runs initdb, the server and the setup, in p.dir.
func (p *Postgres) start(ctx context.Context, cfg PostgresConfig, initdb, postgres string, cred *syscall.Credential) error {
	if err := chownDir(p.dir, cred); err != nil {
		return err
	}
	if err := reachable(p.dir, cred); err != nil {
		return err
	}
	var extra []string
	if cfg.Disk > 0 {
		var err error
		if p.disk, err = mountDisk(p.dir, cfg.Disk, cred, cfg.Logger); err != nil {
			return err
		}
		// the write-ahead log stays off the small filesystem: a full WAL
		// is a PANIC, a full data directory an ERROR (53100) per write
		extra = []string{"--waldir", filepath.Join(p.dir, "wal")}
	}
	data := p.DataDir()
	args := append([]string{"-D", data, "-U", Superuser, "-A", "trust", "-N", "-E", "UTF8", "--locale=C"}, extra...)
	cmd := exec.CommandContext(ctx, initdb, args...)
	cmd.Dir = p.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	begin := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return fmt.Errorf("initdb: %w: %s", err, lastBytes(strings.TrimSpace(string(out)), 2048))
	}
	p.logger.Debug().Dur("took", time.Since(begin)).Str("dir", data).Msg("postgres: initdb done")
	begin = time.Now()
	if err := p.listen(ctx, postgres, data, cred); err != nil {
		return err
	}
	p.logger.Debug().Dur("took", time.Since(begin)).Msg("postgres: accepting connections")
	begin = time.Now()
	if err := createShop(ctx, p.addr); err != nil {
		return fmt.Errorf("create the shop database: %w", err)
	}
	p.logger.Debug().Dur("took", time.Since(begin)).Msg("postgres: shop database created")
	return nil
}

// listen starts the server on a free port (onFreePort).
func (p *Postgres) listen(ctx context.Context, postgres, data string, cred *syscall.Credential) error {
	return onFreePort("postgres", p.logger, func(port int) error {
		p.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		// SIGQUIT is the postmaster's immediate shutdown: it ends its
		// backends and exits, whether chaosload stops it or dies.
		var err error
		p.proc, err = supervise.Start(supervise.Command{
			Name: "postgres", Path: postgres, Args: p.serverArgs(data, port), Dir: p.dir,
			Log: filepath.Join(p.dir, "postgres.log"), Credential: cred,
			DeathSignal: syscall.SIGQUIT, StopSignal: syscall.SIGQUIT, StopGrace: 10 * time.Second,
		})
		if err != nil {
			return err
		}
		return p.waitReady(ctx)
	})
}

// serverArgs are the server's settings: TCP on loopback only, no Unix
// socket, few connection slots, no durability (the data is thrown away).
func (p *Postgres) serverArgs(data string, port int) []string {
	settings := []string{
		"listen_addresses=127.0.0.1",
		"unix_socket_directories=",
		"max_connections=" + strconv.Itoa(p.maxConns),
		"superuser_reserved_connections=" + strconv.Itoa(p.reserved),
		"fsync=off",
		"synchronous_commit=off",
		"full_page_writes=off",
		"shared_buffers=32MB",
		"logging_collector=off",
		"TimeZone=UTC",
		"log_timezone=UTC",
	}
	args := []string{"-D", data, "-p", strconv.Itoa(port)}
	for _, s := range settings {
		args = append(args, "-c", s)
	}
	return args
}

// waitReady waits until the server accepts a connection; errPortTaken when
// it exited because its port was taken.
func (p *Postgres) waitReady(ctx context.Context) error {
	err := p.proc.WaitReady(ctx, func(ctx context.Context) error {
		conn, err := pgx.Connect(ctx, p.DSN(Superuser, "postgres"))
		if err != nil {
			return err
		}
		return conn.Close(ctx)
	})
	if errors.Is(err, supervise.ErrExited) {
		if log := p.proc.Tail(); strings.Contains(log, "could not bind") || strings.Contains(log, "could not create any TCP/IP sockets") {
			return errPortTaken
		}
	}
	return err
}

// Addr is the server's host:port on 127.0.0.1.
func (p *Postgres) Addr() string { return p.addr }

// DSN is a connection URL for user to database on this server.
func (p *Postgres) DSN(user, database string) string { return PostgresDSN(p.addr, user, database) }

// PostgresDSN is a connection URL for user to database at addr (host:port),
// for example through a proxy: postgres://user@addr/database?sslmode=disable.
func PostgresDSN(addr, user, database string) string {
	u := url.URL{Scheme: "postgres", User: url.User(user), Host: addr, Path: "/" + database, RawQuery: "sslmode=disable"}
	return u.String()
}

// PID is the process id of the postmaster.
func (p *Postgres) PID() int { return p.proc.PID() }

// DataDir is the cluster's data directory (removed by Close).
func (p *Postgres) DataDir() string {
	if p.disk != nil {
		return filepath.Join(p.disk.dir, "data")
	}
	return filepath.Join(p.dir, "data")
}

// DiskDir is the mount point of the data directory's own filesystem
// (PostgresConfig.Disk), "" without one. A filler file there fills it.
func (p *Postgres) DiskDir() string {
	if p.disk == nil {
		return ""
	}
	return p.disk.dir
}

// MaxConnections is the server's max_connections.
func (p *Postgres) MaxConnections() int { return p.maxConns }

// SuperuserReserved is the server's superuser_reserved_connections.
func (p *Postgres) SuperuserReserved() int { return p.reserved }

// Done is closed when the server process has exited (after Close, or if it
// died).
func (p *Postgres) Done() <-chan struct{} { return p.proc.Done() }

// Close stops the server (immediate shutdown: SIGQUIT to the postmaster,
// which stops its backends; SIGKILL to its process group after 10 s),
// waits for it, and removes the temporary directory. It is idempotent.
func (p *Postgres) Close() error {
	p.closeOnce.Do(func() {
		var errs []error
		if p.proc != nil {
			errs = append(errs, p.proc.Stop())
		}
		if p.disk != nil {
			errs = append(errs, p.disk.unmount())
		}
		if err := os.RemoveAll(p.dir); err != nil {
			errs = append(errs, fmt.Errorf("postgres: remove %s: %w", p.dir, err))
		}
		p.closeErr = errors.Join(errs...)
		p.logger.Debug().Str("addr", p.addr).Msg("postgres stopped")
	})
	return p.closeErr
}
