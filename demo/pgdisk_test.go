package demo

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/rs/zerolog"

	"github.com/chaosload/chaosload/host"
)

// TestPostgresDiskFull: with its data directory on a 32 MiB filesystem of
// its own, filled to the last byte, PostgreSQL fails a write that needs a
// new page with SQLSTATE 53100 (disk_full) and stays up: reads go on, and
// once the filler is gone writes succeed again. Nothing is left mounted.
func TestPostgresDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the data directory's filesystem is a tmpfs mount")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pg, err := StartPostgres(ctx, PostgresConfig{Disk: 32 << 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pg.Close() })
	disk := pg.DiskDir()
	conn, err := pgx.Connect(ctx, pg.DSN(ShopRole, ShopDatabase))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	j, err := host.Guarded(zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	fill, err := host.FillDisk(ctx, j, host.FillSpec{Dir: disk, Share: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fill.Release() })
	if fill.During.Free != 0 {
		t.Fatalf("free after the fill: %d bytes, want 0", fill.During.Free)
	}
	// the table's last page has room for some rows; a new page does not fit
	var code string
	inserted := 0
	for range 5000 {
		_, err := conn.Exec(ctx, "INSERT INTO orders (product_id, qty) VALUES (1, 1)")
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) {
			code = pgErr.Code
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		inserted++
	}
	if code != "53100" {
		t.Fatalf("after %d inserts: SQLSTATE %q, want 53100 disk_full", inserted, code)
	}
	var products int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM products").Scan(&products); err != nil || products == 0 {
		t.Fatalf("a read on the full disk: %d products, %v", products, err)
	}
	if err := fill.Release(); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "INSERT INTO orders (product_id, qty) VALUES (1, 1)"); err != nil {
		t.Fatalf("an insert after the filler was removed: %v", err)
	}
	t.Logf("%d inserts fitted, then 53100; reads served; writes back after the release (%d bytes filled)", inserted, fill.Written)
	if err := pg.Close(); err != nil {
		t.Fatal(err)
	}
	if mounted(t, disk) {
		t.Fatalf("%s still mounted after Close", disk)
	}
}

// mounted reports whether dir is a mount point in /proc/self/mountinfo.
func mounted(t *testing.T, dir string) bool {
	t.Helper()
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 4 && f[4] == dir {
			return true
		}
	}
	return false
}
