package metrics

import (
	"testing"
	"time"

	"github.com/chaosload/chaosload/load"
)

// kindsRecorder holds, in the first second: 10 HTTP operations (2 of them
// establishing a connection, 1 a timeout), a WebSocket step (one
// connection) whose connect took 3 ms, 20 messages sent (each timed: a 5 ms
// round trip, the last a timeout at 1 s) and 30 received (untimed).
func kindsRecorder(t *testing.T) *Recorder {
	t.Helper()
	r := NewRecorder(Config{})
	for i := range 10 {
		res := result(time.Duration(i)*50*ms, 10*ms, "")
		if i < 2 {
			res.NewConns = 1
		}
		if i == 9 {
			res.Class = load.ClassTimeout
		}
		r.Record(res)
	}
	ws := func(kind load.Kind, at, lat time.Duration) *load.Result {
		return &load.Result{Kind: kind, Scenario: "chat", Step: "feed", Protocol: "ws", Target: "api",
			Intended: at, Start: at, End: at + lat}
	}
	step := ws(load.KindOp, 0, 900*ms)
	step.NewConns = 1
	r.Record(step)
	r.Record(ws(load.KindWSConnect, 0, 3*ms))
	for i := range 20 {
		m := ws(load.KindWSMessage, time.Duration(i)*40*ms, 5*ms)
		m.Direction = load.DirectionSent
		if i == 19 {
			m.End, m.Class = m.Intended+time.Second, load.ClassTimeout
		}
		r.Record(m)
	}
	for i := range 30 {
		m := ws(load.KindWSMessage, time.Duration(i)*30*ms, 0)
		m.Direction, m.Untimed = load.DirectionReceived, true
		r.Record(m)
	}
	return r
}

// TestKindsStayApart: each kind of result is its own family. The zero
// Selector (what totals and progress read) sees step operations only, so
// WebSocket connects and messages never count as operations or errors.
func TestKindsStayApart(t *testing.T) {
	t.Parallel()
	r := kindsRecorder(t)
	msgs := Selector{Kind: load.KindWSMessage}
	tests := []struct {
		name                   string
		sel                    Selector
		ops, errs, conns, lats int64
	}{
		// 10 HTTP + 1 ws step; 3 connections; the message timeout is not an op error
		{"operations", Selector{}, 11, 1, 3, 11},
		// conn_rate{protocol:ws}
		{"ws operations", Selector{Protocol: "ws"}, 1, 0, 1, 1},
		// one connect attempt, timed
		{"connects", Selector{Kind: load.KindWSConnect}, 1, 0, 0, 1},
		// 50 messages both ways; only the 20 sent are timed
		{"messages", msgs, 50, 1, 0, 20},
		// one way each
		{"sent", Selector{Kind: load.KindWSMessage, Direction: load.DirectionSent}, 20, 1, 0, 20},
		{"received", Selector{Kind: load.KindWSMessage, Direction: load.DirectionReceived}, 30, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := r.Window(0, time.Second, tt.sel)
			if a.Ops != tt.ops || a.Errors != tt.errs || a.Conns != tt.conns || a.Latency.TotalCount() != tt.lats {
				t.Errorf("ops %d errors %d conns %d timed %d; want %d %d %d %d",
					a.Ops, a.Errors, a.Conns, a.Latency.TotalCount(), tt.ops, tt.errs, tt.conns, tt.lats)
			}
		})
	}
	// The message round trips: 19 of 5 ms and the timeout at 1 s.
	a := r.Window(0, time.Second, Selector{Kind: load.KindWSMessage, Direction: load.DirectionSent})
	if p50, max := Micros(a.Latency.ValueAtQuantile(50)), Micros(a.Latency.Max()); p50 < 5*ms || p50 > 5010*time.Microsecond || max < time.Second {
		t.Errorf("rtt p50 %v max %v, want 5ms and 1s", p50, max)
	}
}

// TestIntervalsAreOperations: the per-interval series a report plots count
// step operations only, with the connections they made.
func TestIntervalsAreOperations(t *testing.T) {
	t.Parallel()
	var ops, errs, conns int64
	for _, iv := range kindsRecorder(t).Intervals() {
		ops, errs, conns = ops+iv.Ops, errs+iv.Errors, conns+iv.Conns
	}
	if ops != 11 || errs != 1 || conns != 3 {
		t.Errorf("intervals sum to ops %d errors %d conns %d, want 11 1 3", ops, errs, conns)
	}
}

// TestMergeKeepsKindsAndConns: a merge keeps each kind in its family and
// adds connections.
func TestMergeKeepsKindsAndConns(t *testing.T) {
	t.Parallel()
	a, b := kindsRecorder(t), kindsRecorder(t)
	if err := a.Merge(b); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		sel         Selector
		ops, conns  int64
		timed, errs int64
		name        string
	}{
		{Selector{}, 22, 6, 22, 2, "operations"},
		{Selector{Kind: load.KindWSMessage}, 100, 0, 40, 2, "messages"},
	} {
		w := a.Window(0, time.Second, tt.sel)
		if w.Ops != tt.ops || w.Conns != tt.conns || w.Latency.TotalCount() != tt.timed || w.Errors != tt.errs {
			t.Errorf("%s: ops %d conns %d timed %d errors %d, want %d %d %d %d", tt.name,
				w.Ops, w.Conns, w.Latency.TotalCount(), w.Errors, tt.ops, tt.conns, tt.timed, tt.errs)
		}
	}
}
