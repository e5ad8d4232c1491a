package demo

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/user"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/rs/zerolog"
)

// TestPostgresRunsUnprivileged proves the cluster runs as an unprivileged
// user when the tests run as root, and serves both roles over loopback TCP.
func TestPostgresRunsUnprivileged(t *testing.T) {
	pg := sharedPostgres(t)
	if !strings.HasPrefix(pg.Addr(), "127.0.0.1:") {
		t.Errorf("Addr() = %q, want 127.0.0.1:PORT", pg.Addr())
	}
	uid := processUID(t, pg.PID())
	if os.Geteuid() == 0 {
		nobody, err := user.Lookup("nobody")
		if err != nil {
			t.Fatal(err)
		}
		if strconv.Itoa(uid) != nobody.Uid {
			t.Errorf("postmaster runs as uid %d, want nobody (%s)", uid, nobody.Uid)
		}
		st, err := os.Stat(pg.DataDir())
		if err != nil {
			t.Fatal(err)
		}
		if owner := st.Sys().(*syscall.Stat_t).Uid; strconv.Itoa(int(owner)) != nobody.Uid {
			t.Errorf("data directory owned by uid %d, want nobody", owner)
		}
	} else if uid != os.Geteuid() {
		t.Errorf("postmaster runs as uid %d, want ours (%d)", uid, os.Geteuid())
	}

	ctx := context.Background()
	for _, tc := range []struct {
		user      string
		superuser bool
	}{
		{Superuser, true}, // faults and checks connect as the superuser
		{ShopRole, false}, // the service connects as a plain role
	} {
		conn := connect(t, pg.DSN(tc.user, ShopDatabase))
		var who string
		var super bool
		if err := conn.QueryRow(ctx, "SELECT current_user, usesuper FROM pg_user WHERE usename = current_user").Scan(&who, &super); err != nil {
			t.Fatalf("as %s: %v", tc.user, err)
		}
		if who != tc.user || super != tc.superuser {
			t.Errorf("connected as %q (superuser %v), want %q (superuser %v)", who, super, tc.user, tc.superuser)
		}
	}
}

// TestPostgresSettings proves the server runs with the settings the demo
// relies on: few slots, no durability, TCP on loopback only.
func TestPostgresSettings(t *testing.T) {
	pg := sharedPostgres(t)
	conn := connect(t, pg.DSN(Superuser, ShopDatabase))
	want := map[string]string{
		"max_connections":                "20",
		"superuser_reserved_connections": "3",
		"fsync":                          "off",
		"listen_addresses":               "127.0.0.1",
		"unix_socket_directories":        "",
	}
	for name, value := range want {
		var got string
		if err := conn.QueryRow(context.Background(), "SELECT current_setting($1)", name).Scan(&got); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got != value {
			t.Errorf("%s = %q, want %q", name, got, value)
		}
	}
}

// TestPostgresSchema proves the shop's seed data and that orders get their
// id from the server.
func TestPostgresSchema(t *testing.T) {
	pg := sharedPostgres(t)
	conn := connect(t, pg.DSN(ShopRole, ShopDatabase))
	ctx := context.Background()
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM products").Scan(&n); err != nil || n != 5 {
		t.Fatalf("products: %d rows (err %v), want 5", n, err)
	}
	var id1, id2 int64
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	for _, id := range []*int64{&id1, &id2} {
		if err := tx.QueryRow(ctx, "INSERT INTO orders (product_id, qty) VALUES (1, 1) RETURNING id").Scan(id); err != nil {
			t.Fatalf("insert order: %v", err)
		}
	}
	if id1 <= 0 || id2 <= id1 {
		t.Errorf("order ids %d, %d: want increasing server-generated ids", id1, id2)
	}
}

// TestPostgresMaxConnections proves max_connections is enforced as the
// faults expect: the shop role stops short of the superuser-reserved slots,
// the superuser takes every slot, and the next connection gets SQLSTATE
// 53300. It also proves Close stops every process and removes the data.
func TestPostgresMaxConnections(t *testing.T) {
	t.Parallel()
	pg := startPostgres(t, PostgresConfig{MaxConnections: 6, SuperuserReserved: 2})
	ctx := context.Background()
	var held []*pgconn.PgConn
	defer func() {
		for _, c := range held {
			_ = c.Close(ctx)
		}
	}()
	open := func(user string) error {
		c, err := pgconn.Connect(ctx, pg.DSN(user, ShopDatabase))
		if err == nil {
			held = append(held, c)
		}
		return err
	}
	for i := range 4 { // 6 slots - 2 reserved
		if err := open(ShopRole); err != nil {
			t.Fatalf("shop connection %d: %v", i+1, err)
		}
	}
	expect53300(t, open(ShopRole), "reserved")
	// The refused backend holds its slot until it has exited: wait for
	// that, so the superuser's connections meet only the ones held.
	waitFor(t, "the refused backend to exit", func() bool { return clientBackends(t, pg.PID()) == len(held) })
	for i := range 2 { // the superuser takes the reserved slots too
		if err := open(Superuser); err != nil {
			t.Fatalf("superuser connection %d: %v", i+1, err)
		}
	}
	expect53300(t, open(Superuser), "too many clients")

	pid, dir := pg.PID(), pg.DataDir()
	for _, c := range held {
		_ = c.Close(ctx)
	}
	held = nil
	if err := pg.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := pg.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	processGone(t, pid)
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("data directory %s still there after Close (stat: %v)", dir, err)
	}
	select {
	case <-pg.Done():
	default:
		t.Error("Done not closed after Close")
	}
}

func expect53300(t *testing.T, err error, msg string) {
	t.Helper()
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "53300" || !strings.Contains(pgErr.Message, msg) {
		t.Fatalf("got %v, want SQLSTATE 53300 %q", err, msg)
	}
}

// TestPostgresMissingBinaries proves the error says what to install.
func TestPostgresMissingBinaries(t *testing.T) {
	t.Parallel()
	_, err := StartPostgres(context.Background(), PostgresConfig{BinDir: t.TempDir()})
	if !errors.Is(err, ErrPostgresNotInstalled) || !strings.Contains(err.Error(), "apt-get install -y postgresql") {
		t.Fatalf("err = %v, want ErrPostgresNotInstalled naming the package", err)
	}
}

// TestPostgresStartCancelled proves a start cancelled half-way leaves
// nothing behind: the context is cancelled as soon as the server accepts
// connections (the launcher's own log line says when), so the shop's setup
// fails, and the cluster's directory is gone when StartPostgres returns.
func TestPostgresStartCancelled(t *testing.T) {
	t.Parallel()
	sharedPostgres(t) // skips when not installed
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	accepting := zerolog.HookFunc(func(_ *zerolog.Event, _ zerolog.Level, msg string) {
		if msg == "postgres: accepting connections" {
			cancel()
		}
	})
	tmp, err := os.MkdirTemp("", "chaosload-cancel-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(tmp) })
	if err := os.Chmod(tmp, 0o755); err != nil { // the unprivileged server user must reach it
		t.Fatal(err)
	}
	pg, err := StartPostgres(ctx, PostgresConfig{TempDir: tmp, Logger: zerolog.New(io.Discard).Level(zerolog.DebugLevel).Hook(accepting)})
	if err == nil {
		_ = pg.Close()
		t.Fatal("the start succeeded although its context was cancelled before the setup")
	}
	t.Logf("cancelled start: %v", err)
	if pg != nil {
		t.Fatal("got a Postgres with an error")
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("the cancelled start left %v behind", left)
	}
}

// processUID reads the real uid of a process from /proc.
func processUID(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatalf("read status of pid %d: %v", pid, err)
	}
	for line := range strings.Lines(string(b)) {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "Uid:" {
			uid, _ := strconv.Atoi(f[1])
			return uid
		}
	}
	t.Fatalf("no Uid line for pid %d", pid)
	return 0
}

// clientBackends counts the children of the postmaster pid that serve a
// client over TCP (their title names the client: "127.0.0.1(port)").
func clientBackends(t *testing.T, pid int) int {
	t.Helper()
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range dirs {
		stat, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil {
			continue // not a process, or gone
		}
		// pid (comm) state ppid ...: comm may hold spaces, so split after ')'
		f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(f) < 2 || f[1] != strconv.Itoa(pid) {
			continue
		}
		if cmd, err := os.ReadFile("/proc/" + d.Name() + "/cmdline"); err == nil && bytes.Contains(cmd, []byte("127.0.0.1(")) {
			n++
		}
	}
	return n
}
