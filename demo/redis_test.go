package demo

import (
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestRedisStartsAndStops proves redis-server answers PING on loopback with
// the configured maxclients and no persistence, and that Close leaves no
// process and no directory.
func TestRedisStartsAndStops(t *testing.T) {
	t.Parallel()
	begin := time.Now()
	r := startRedis(t, RedisConfig{MaxClients: 50})
	t.Logf("redis started in %v", time.Since(begin).Round(time.Millisecond))
	if r.InProcess() || r.PID() == 0 {
		t.Fatal("got the in-process fallback, want redis-server")
	}
	if !strings.HasPrefix(r.Addr(), "127.0.0.1:") {
		t.Errorf("Addr() = %q, want 127.0.0.1:PORT", r.Addr())
	}
	rdb := redis.NewClient(&redis.Options{Addr: r.Addr()})
	defer rdb.Close()
	ctx := context.Background()
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Fatalf("PING: %v", err)
	}
	for key, want := range map[string]string{"maxclients": "50", "save": "", "appendonly": "no", "bind": "127.0.0.1"} {
		got, err := rdb.ConfigGet(ctx, key).Result()
		if err != nil {
			t.Fatalf("CONFIG GET %s: %v", key, err)
		}
		if got[key] != want {
			t.Errorf("%s = %q, want %q", key, got[key], want)
		}
	}
	rdb.Close()

	pid, dir := r.PID(), r.dir
	if err := r.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	processGone(t, pid)
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("directory %s still there after Close (stat: %v)", dir, err)
	}
}

// TestRedisMaxClients proves maxclients is enforced, as a later
// exhaustion fault expects: the next client gets "max number of clients".
func TestRedisMaxClients(t *testing.T) {
	t.Parallel()
	r := startRedis(t, RedisConfig{MaxClients: 5})
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range 5 {
		c, err := net.Dial("tcp", r.Addr())
		if err != nil {
			t.Fatalf("connection %d: %v", i+1, err)
		}
		conns = append(conns, c)
	}
	err := ping(context.Background(), r.Addr())
	if err == nil || !strings.Contains(err.Error(), "max number of clients reached") {
		t.Fatalf("sixth client: %v, want max number of clients reached", err)
	}
}

// TestRedisInProcessFallback proves the fallback speaks RESP on loopback.
func TestRedisInProcessFallback(t *testing.T) {
	t.Parallel()
	r := startRedis(t, RedisConfig{InProcess: true})
	if !r.InProcess() || r.PID() != 0 {
		t.Fatalf("InProcess() = %v, PID() = %d: want the fallback", r.InProcess(), r.PID())
	}
	if err := ping(context.Background(), r.Addr()); err != nil {
		t.Fatalf("PING: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := ping(context.Background(), r.Addr()); err == nil {
		t.Error("PING answered after Close")
	}
}
