package demo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5"
)

// findPostgresBins locates initdb and postgres: in binDir when given, else
// beside postgres on PATH, else in the newest /usr/lib/postgresql/N/bin
// (where Debian's postgresql package installs them, off PATH).
func findPostgresBins(binDir string) (initdb, postgres string, err error) {
	var dirs []string
	if binDir != "" {
		dirs = []string{binDir}
	} else {
		if p, err := exec.LookPath("postgres"); err == nil {
			if real, err := filepath.EvalSymlinks(p); err == nil {
				dirs = append(dirs, filepath.Dir(real))
			}
			dirs = append(dirs, filepath.Dir(p))
		}
		dirs = append(dirs, debianBinDirs()...)
	}
	for _, d := range dirs {
		initdb, postgres = filepath.Join(d, "initdb"), filepath.Join(d, "postgres")
		if isExecutable(initdb) && isExecutable(postgres) {
			return initdb, postgres, nil
		}
	}
	if binDir != "" {
		return "", "", fmt.Errorf("%w (looked in BinDir %s)", ErrPostgresNotInstalled, binDir)
	}
	return "", "", ErrPostgresNotInstalled
}

// debianBinDirs lists /usr/lib/postgresql/N/bin, newest major version first.
func debianBinDirs() []string {
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	version := func(dir string) int {
		n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
		return n
	}
	slices.SortFunc(matches, func(a, b string) int { return version(b) - version(a) })
	return matches
}

func isExecutable(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0
}

// unprivileged returns the credential to run a server as: nil when
// chaosload is not root, else the named account (default "nobody"), since
// PostgreSQL refuses to run as root.
func unprivileged(name string) (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	if name == "" {
		name = "nobody"
	}
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("running as root, so PostgreSQL must run as an unprivileged user: look up user %q: %w", name, err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("user %q: parse uid/gid: %w", name, err)
	}
	if uid == 0 {
		return nil, fmt.Errorf("user %q is root; PostgreSQL needs an unprivileged user", name)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
}

// chownDir gives a directory to cred's user (a no-op when cred is nil).
func chownDir(dir string, cred *syscall.Credential) error {
	if cred == nil {
		return nil
	}
	if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
		return fmt.Errorf("give %s to uid %d: %w", dir, cred.Uid, err)
	}
	return nil
}

// lastBytes returns the end of s, at most n bytes.
func lastBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

// reachable checks that cred's user can traverse every parent of dir, so
// that initdb run as that user can reach its data directory.
func reachable(dir string, cred *syscall.Credential) error {
	if cred == nil {
		return nil
	}
	for d := filepath.Dir(dir); ; d = filepath.Dir(d) {
		st, err := os.Stat(d)
		if err != nil {
			return fmt.Errorf("check access to %s: %w", d, err)
		}
		sys := st.Sys().(*syscall.Stat_t)
		bit := os.FileMode(0o001) // others may search
		switch {
		case sys.Uid == cred.Uid:
			bit = 0o100
		case sys.Gid == cred.Gid:
			bit = 0o010
		}
		if st.Mode().Perm()&bit == 0 {
			return fmt.Errorf("uid %d cannot reach %s (mode %v): set PostgresConfig.TempDir (or TMPDIR) to a directory "+
				"every user can traverse, such as /tmp", cred.Uid, d, st.Mode().Perm())
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}

// shopSchema is the shop's tables. Orders get their id from the server, so
// an acknowledged id is proof the row was committed.
const shopSchema = `
CREATE TABLE products (
	id          integer PRIMARY KEY,
	name        text    NOT NULL,
	price_cents integer NOT NULL CHECK (price_cents >= 0),
	stock       integer NOT NULL CHECK (stock >= 0)
);
CREATE TABLE orders (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	product_id integer NOT NULL REFERENCES products (id),
	qty        integer NOT NULL CHECK (qty > 0),
	created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO products (id, name, price_cents, stock) VALUES
	(1, 'Chaos monkey plush', 1999, 120),
	(2, 'Circuit breaker', 4999, 40),
	(3, 'Retry budget', 999, 500),
	(4, 'Bulkhead', 2999, 25),
	(5, 'Exponential backoff timer', 1499, 75);
`

// createShop creates ShopRole, ShopDatabase (owned by it) and the schema.
func createShop(ctx context.Context, addr string) error {
	admin, err := pgx.Connect(ctx, PostgresDSN(addr, Superuser, "postgres"))
	if err != nil {
		return fmt.Errorf("connect as %s: %w", Superuser, err)
	}
	defer admin.Close(context.WithoutCancel(ctx))
	for _, stmt := range []string{
		"CREATE ROLE " + ShopRole + " LOGIN",
		"CREATE DATABASE " + ShopDatabase + " OWNER " + ShopRole,
	} {
		if _, err := admin.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("%s: %w", strings.Fields(stmt)[1], err)
		}
	}
	shop, err := pgx.Connect(ctx, PostgresDSN(addr, ShopRole, ShopDatabase))
	if err != nil {
		return fmt.Errorf("connect as %s: %w", ShopRole, err)
	}
	defer shop.Close(context.WithoutCancel(ctx))
	if _, err := shop.Exec(ctx, shopSchema); err != nil {
		return fmt.Errorf("create schema: %w", err)
	}
	return nil
}
