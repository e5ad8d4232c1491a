package redisload_test

import (
	"net"
	"testing"
	"time"

	"github.com/chaosload/chaosload/load"
	"github.com/chaosload/chaosload/load/redisload"
)

// TestCommands: commands with arguments run, a missing key (nil reply) is
// a success, and error replies are classed by their prefix.
func TestCommands(t *testing.T) {
	t.Parallel()
	r := startRedis(t)
	d := newDriver(t)
	vu := newVU(nil)
	tests := []struct {
		name  string
		args  []any
		class string
	}{
		{"set", []any{"SET", "product:1", `{"id":1}`, "EX", 60}, ""},        // any command, any arguments
		{"get", []any{"GET", "product:1"}, ""},                              // a reply
		{"get missing", []any{"GET", "nope"}, ""},                           // a nil reply is no error
		{"incr by", []any{"INCRBY", "counter", 5}, ""},                      // numbers as arguments
		{"unknown command", []any{"NOSUCHCMD", "x"}, "redis_ERR"},           // ERR unknown command
		{"wrong type", []any{"LPUSH", "product:1", "x"}, "redis_WRONGTYPE"}, // WRONGTYPE on a string key
		{"wrong arity", []any{"GET"}, "redis_ERR"},                          // ERR wrong number of arguments
		{"not an integer", []any{"INCR", "product:1"}, "redis_ERR"},         // ERR value is not an integer
	}
	for _, tt := range tests { // in order: later commands read earlier writes
		res := do(d, vu, cmd(r.Addr(), tt.args...))
		if res.Class != tt.class || (tt.class == "") != (res.Err == nil) {
			t.Errorf("%s: class %q (%v), want %q", tt.name, res.Class, res.Err, tt.class)
		}
	}
}

// TestBulkQueue: a command repeated 1,000 times goes in one pipeline: one
// operation, 1,000 commands on the server.
func TestBulkQueue(t *testing.T) {
	t.Parallel()
	r := startRedis(t)
	d := newDriver(t)
	vu := newVU(nil)
	push := &load.Step{Name: "push", Redis: &load.RedisCall{Addr: r.Addr(), Command: []any{"RPUSH", "jobs", "job"}, Repeat: 1000}}
	if res := do(d, vu, push); !res.OK() || res.BytesOut != 1000*int64(len("RPUSHjobsjob")) {
		t.Fatalf("push: class %q (%v) bytes %d", res.Class, res.Err, res.BytesOut)
	}
	check := &load.Step{Name: "check", Redis: &load.RedisCall{Addr: r.Addr(), Pipeline: [][]any{
		{"LLEN", "jobs"}, {"LPOP", "jobs", 1000}, {"LLEN", "jobs"}}}}
	if res := do(d, vu, check); !res.OK() {
		t.Fatalf("check: class %q (%v)", res.Class, res.Err)
	}
	// The server's own count: 1,000 pushed, all popped.
	n := do(d, vu, cmd(r.Addr(), "EVAL", "if redis.call('LLEN', KEYS[1]) == 0 then return 1 else return redis.error_reply('ERR left') end", 1, "jobs"))
	if !n.OK() {
		t.Fatalf("jobs left after popping 1,000: %v", n.Err)
	}
	// One failing command fails the pipeline with its class.
	bad := &load.Step{Name: "bad", Redis: &load.RedisCall{Addr: r.Addr(), Pipeline: [][]any{{"SET", "s", "v"}, {"LPUSH", "s", "x"}, {"GET", "s"}}}}
	if res := do(d, vu, bad); res.Class != "redis_WRONGTYPE" {
		t.Fatalf("pipeline with a failing command: class %q (%v), want redis_WRONGTYPE", res.Class, res.Err)
	}
}

// TestTransportClasses: nothing listening is conn_refused; a blocked
// command past the step's timeout is a timeout, cut at the timeout (one not
// cut would end after the BLPOP's 5 s, as a success with no element).
func TestTransportClasses(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	d := newDriver(t)
	if res := do(d, newVU(nil), cmd(dead, "PING")); res.Class != load.ClassConnRefused || res.NewConns != 0 {
		t.Errorf("class %q conns %d (%v), want conn_refused, no connection", res.Class, res.NewConns, res.Err)
	}
	r := startRedis(t)
	slow := &load.Step{Name: "blpop", Redis: &load.RedisCall{Addr: r.Addr(), Command: []any{"BLPOP", "empty", 5}, Timeout: 200 * time.Millisecond}}
	res := do(d, newVU(nil), slow)
	if res.Class != load.ClassTimeout {
		t.Fatalf("class %q (%v), want timeout", res.Class, res.Err)
	}
	if took := res.End - res.Intended; took < 200*time.Millisecond {
		t.Errorf("took %v, want at least the 200ms timeout", took)
	}
}

// TestClientPerScenario: steps of one scenario on one server share a
// client; the first operation is charged with the connection it needed,
// later ones reuse it; another scenario has its own client.
func TestClientPerScenario(t *testing.T) {
	t.Parallel()
	r := startRedis(t)
	d := newDriver(t)
	a, b := cmd(r.Addr(), "PING"), cmd(r.Addr(), "GET", "k")
	shop := &load.Scenario{Name: "shop", Steps: []load.Step{*a, *b}}
	other := &load.Scenario{Name: "other", Steps: []load.Step{*a}}
	for i, tt := range []struct {
		sc    *load.Scenario
		step  *load.Step
		conns int
	}{
		{shop, a, 1},  // the scenario's client connects
		{shop, b, 0},  // the same client, its idle connection reused
		{other, a, 1}, // another scenario, another client
	} {
		res := do(d, newVU(tt.sc), tt.step)
		if !res.OK() || res.NewConns != tt.conns {
			t.Fatalf("%d: class %q (%v) conns %d, want %d", i, res.Class, res.Err, res.NewConns, tt.conns)
		}
	}
}

// TestBadCalls fail as class error.
func TestBadCalls(t *testing.T) {
	t.Parallel()
	d := newDriver(t)
	for _, step := range []*load.Step{
		{Name: "no redis"},
		{Name: "nothing", Redis: &load.RedisCall{Addr: "127.0.0.1:1"}},
		{Name: "both", Redis: &load.RedisCall{Addr: "127.0.0.1:1", Command: []any{"GET", "a"}, Pipeline: [][]any{{"GET", "b"}}}},
		{Name: "empty", Redis: &load.RedisCall{Addr: "127.0.0.1:1", Pipeline: [][]any{{}}}},
	} {
		if res := do(d, newVU(nil), step); res.Class != load.ClassOther || res.Err == nil {
			t.Errorf("%s: class %q err %v, want class error", step.Name, res.Class, res.Err)
		}
	}
}

// TestClassOf: classes of errors without a server.
func TestClassOf(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		err   error
		class string
	}{
		{nil, ""},
		{redisload.ErrForTest("LOADING Redis is loading the dataset in memory"), "redis_LOADING"},
		{redisload.ErrForTest("ERR unknown command"), "redis_ERR"},
		{redisload.ErrForTest("weird lower-case reply"), load.ClassOther},
	} {
		if got := redisload.ClassOf(tt.err); got != tt.class {
			t.Errorf("ClassOf(%v) = %q, want %q", tt.err, got, tt.class)
		}
	}
}
