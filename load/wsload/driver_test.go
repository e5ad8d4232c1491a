package wsload

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/chaosload/chaosload/load"
)

// TestEchoAtRate: 50 messages/s over a 1 s hold to an echo server. Every
// message is sent at its place in the schedule (intended = t0 + k·20ms),
// every reply matched, frames counted both ways, the connect and the
// connection recorded, and the session lasts the hold.
func TestEchoAtRate(t *testing.T) {
	t.Parallel()
	d, k := newDriver(t)
	url := wsServer(t, echo)
	res := do(t, d, wsStep(url, &load.WSSend{Text: "ping", Rate: 50}, &load.WSExpect{Text: "ping"}, time.Second))
	if !res.OK() || res.NewConns != 1 || res.Status != http.StatusSwitchingProtocols || !res.Untimed {
		t.Fatalf("class %q (%v) conns %d status %d untimed %v, want an untimed success on one new connection",
			res.Class, res.Err, res.NewConns, res.Status, res.Untimed)
	}
	if took := res.End - res.Start; took < time.Second {
		t.Errorf("session took %v, want at least the 1s hold", took)
	}
	sent, recv := k.of(load.KindWSMessage, load.DirectionSent), k.of(load.KindWSMessage, load.DirectionReceived)
	if len(sent) != 50 || len(recv) != 50 {
		t.Fatalf("%d sent, %d received; want 50 each", len(sent), len(recv))
	}
	byIntended := map[time.Duration]bool{}
	for _, m := range sent {
		if !m.OK() || m.Untimed || m.Start < m.Intended || m.End < m.Start {
			t.Fatalf("message %+v: want an answered, timed message", m)
		}
		byIntended[m.Intended] = true
	}
	t0 := sent[0].Intended
	for i := range 50 { // absolute schedule from t0
		if !byIntended[t0+time.Duration(i)*20*time.Millisecond] {
			t.Fatalf("no message intended at t0+%v: the schedule is not absolute", time.Duration(i)*20*time.Millisecond)
		}
	}
	if c := k.of(load.KindWSConnect, ""); len(c) != 1 || !c[0].OK() || c[0].Untimed || c[0].Latency() <= 0 || c[0].NewConns != 0 {
		t.Fatalf("connects %+v, want one successful, timed attempt", c)
	}
	if res.BytesOut != 200 || res.BytesIn != 200 {
		t.Errorf("bytes out %d in %d, want 200 and 200", res.BytesOut, res.BytesIn)
	}
}

// TestRTTFromIntendedSendTime: the server stalls once for 600 ms, then
// answers everything it read meanwhile. At 100 messages/s the sender keeps
// its schedule (the stall does not lower the offered rate, as a
// send-and-wait client would), and each message's round trip shows the wait
// it had. Whatever the machine's speed: the stall begins when the server
// reads message 50, due at t0 + 500 ms, so it ends at t0 + 1.1 s at the
// earliest, and messages 51 to 100 (due by t0 + 1 s) are answered after it:
// at least 50 round trips of 100 ms or more, the first ones over 500 ms.
func TestRTTFromIntendedSendTime(t *testing.T) {
	t.Parallel()
	d, k := newDriver(t)
	var stalled atomic.Bool
	url := wsServer(t, func(c *websocket.Conn) {
		for n := 0; ; n++ {
			_, b, err := c.ReadMessage()
			if err != nil {
				return
			}
			if n == 50 && stalled.CompareAndSwap(false, true) {
				time.Sleep(600 * time.Millisecond)
			}
			if c.WriteMessage(websocket.TextMessage, b) != nil {
				return
			}
		}
	})
	step := wsStep(url, &load.WSSend{JSON: map[string]any{"type": "ping"}, Rate: 100},
		&load.WSExpect{JSON: &load.WSJSONMatch{Field: "seq"}}, 2*time.Second)
	res := do(t, d, step)
	if !res.OK() {
		t.Fatalf("class %q: %v", res.Class, res.Err)
	}
	sent := k.of(load.KindWSMessage, load.DirectionSent)
	if len(sent) != 200 {
		t.Fatalf("%d messages sent, want 200: the stall must not lower the rate", len(sent))
	}
	lat := latencies(sent)
	var slow int
	for _, l := range lat {
		if l >= 100*time.Millisecond {
			slow++
		}
	}
	t.Logf("rtt p50 %v p95 %v p99 %v max %v; %d of %d at >= 100ms", pct(lat, .5), pct(lat, .95), pct(lat, .99), lat[len(lat)-1], slow, len(lat))
	if slow < 50 {
		t.Errorf("%d messages with a round trip >= 100ms, want >= 50 (messages 51 to 100 waited for the stall's end)", slow)
	}
	if p99 := pct(lat, .99); p99 < 500*time.Millisecond {
		t.Errorf("rtt p99 %v, want >= 500ms: the stall is hidden", p99)
	}
}

// TestRTTIncludesLateSend: a server that reads nothing for 700 ms fills
// the connection's buffers, so the sender's writes block and messages go
// out after their intended time. Their round trip counts from the intended
// time: latency includes the wait to send (dispatch lag), service time
// does not.
func TestRTTIncludesLateSend(t *testing.T) {
	t.Parallel()
	d, k := newDriver(t)
	url := wsServer(t, func(c *websocket.Conn) {
		time.Sleep(700 * time.Millisecond)
		echo(c)
	})
	big := strings.Repeat("x", 512<<10)
	step := wsStep(url, &load.WSSend{Text: big, Rate: 40}, &load.WSExpect{Text: big, Timeout: 10 * time.Second}, time.Second)
	res := do(t, d, step)
	if !res.OK() {
		t.Fatalf("class %q: %v", res.Class, res.Err)
	}
	var lateSend time.Duration
	for _, m := range k.of(load.KindWSMessage, load.DirectionSent) {
		lateSend = max(lateSend, m.DispatchLag())
		if m.Latency() != m.DispatchLag()+m.ServiceTime() {
			t.Fatalf("latency %v is not lag %v + service %v", m.Latency(), m.DispatchLag(), m.ServiceTime())
		}
	}
	t.Logf("largest send lag %v", lateSend)
	if lateSend < 200*time.Millisecond {
		t.Errorf("largest send lag %v, want >= 200ms: blocked writes should make messages late", lateSend)
	}
}

// TestServerDropsConnection: a server that closes after 5 messages ends
// the session as ws_closed, and the messages it left unanswered too.
func TestServerDropsConnection(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		drop func(c *websocket.Conn)
	}{
		// a close frame
		{"close frame", func(c *websocket.Conn) {
			c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "bye"), time.Now().Add(time.Second))
		}},
		// the TCP connection just closed
		{"fin", func(c *websocket.Conn) { c.Close() }},
		// reset
		{"rst", func(c *websocket.Conn) {
			c.NetConn().(*net.TCPConn).SetLinger(0)
			c.Close()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, k := newDriver(t)
			url := wsServer(t, func(c *websocket.Conn) {
				for range 5 {
					_, b, err := c.ReadMessage()
					if err != nil || c.WriteMessage(websocket.TextMessage, b) != nil {
						return
					}
				}
				_, _, _ = c.ReadMessage() // the 6th: left unanswered
				tt.drop(c)
			})
			// A hold of a minute, beyond do's 30 s: the session can only
			// end as ws_closed because the server dropped it.
			res := do(t, d, wsStep(url, &load.WSSend{Text: "m", Rate: 50}, &load.WSExpect{Text: "m"}, time.Minute))
			if res.Class != ClassClosed {
				t.Fatalf("class %q (%v), want ws_closed", res.Class, res.Err)
			}
			var ok, closed int
			for _, m := range k.of(load.KindWSMessage, load.DirectionSent) {
				switch m.Class {
				case "":
					ok++
				case ClassClosed:
					closed++
				default:
					t.Errorf("message class %q", m.Class)
				}
			}
			if ok != 5 || closed < 1 {
				t.Errorf("%d answered, %d ws_closed; want 5 and at least 1", ok, closed)
			}
		})
	}
}

// TestReplyTimeout: a message whose reply never comes is a timeout, timed
// at the reply timeout; the session fails as a timeout.
func TestReplyTimeout(t *testing.T) {
	t.Parallel()
	d, k := newDriver(t)
	url := wsServer(t, func(c *websocket.Conn) {
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	})
	res := do(t, d, wsStep(url, &load.WSSend{Text: "hello"}, &load.WSExpect{Text: "hello", Timeout: 200 * time.Millisecond}, 0))
	if res.Class != load.ClassTimeout {
		t.Fatalf("class %q (%v), want timeout", res.Class, res.Err)
	}
	sent := k.of(load.KindWSMessage, load.DirectionSent)
	if len(sent) != 1 || sent[0].Class != load.ClassTimeout || sent[0].Latency() < 200*time.Millisecond {
		t.Fatalf("sent %+v, want one timeout after at least 200ms", sent)
	}
}

// TestHandshakeRefused: a server answering the upgrade with 503 fails the
// connect and the step as http_503; the TCP connection was made.
func TestHandshakeRefused(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "busy", http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	d, k := newDriver(t)
	res := do(t, d, wsStep("ws"+strings.TrimPrefix(srv.URL, "http")+"/", nil, nil, 0))
	if res.Class != load.ClassHTTP503 || res.Status != 503 || res.NewConns != 1 {
		t.Fatalf("class %q status %d conns %d (%v), want http_503, 503, 1", res.Class, res.Status, res.NewConns, res.Err)
	}
	if c := k.of(load.KindWSConnect, ""); len(c) != 1 || c[0].Class != load.ClassHTTP503 {
		t.Fatalf("connects %+v, want one http_503", c)
	}
}

// TestConnRefused: nothing listening is conn_refused, with no connection.
func TestConnRefused(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	d, _ := newDriver(t)
	res := do(t, d, wsStep("ws://"+addr+"/", &load.WSSend{Text: "x"}, nil, 0))
	if res.Class != load.ClassConnRefused || res.NewConns != 0 {
		t.Fatalf("class %q conns %d (%v), want conn_refused and no connection", res.Class, res.NewConns, res.Err)
	}
}

// TestCorrelatedOutOfOrder: replies correlated by a JSON field are matched
// to their own message even when the server answers pairs in reverse order
// and sends unrelated frames in between (counted as received, not
// replies).
func TestCorrelatedOutOfOrder(t *testing.T) {
	t.Parallel()
	d, k := newDriver(t)
	url := wsServer(t, func(c *websocket.Conn) {
		for {
			_, a, err := c.ReadMessage()
			if err != nil {
				return
			}
			_, b, err := c.ReadMessage()
			if err != nil {
				return
			}
			for _, m := range [][]byte{b, []byte(`{"type":"order","id":7}`), a} {
				if c.WriteMessage(websocket.TextMessage, m) != nil {
					return
				}
			}
		}
	})
	step := wsStep(url, &load.WSSend{JSON: map[string]any{"data": map[string]any{"text": "hi"}}, Rate: 40},
		&load.WSExpect{JSON: &load.WSJSONMatch{Field: "data.seq"}, Timeout: 2 * time.Second}, 500*time.Millisecond)
	res := do(t, d, step)
	if !res.OK() {
		t.Fatalf("class %q: %v", res.Class, res.Err)
	}
	sent, recv := k.of(load.KindWSMessage, load.DirectionSent), k.of(load.KindWSMessage, load.DirectionReceived)
	if len(sent) != 20 || len(recv) != 30 {
		t.Fatalf("%d sent, %d received; want 20 and 30", len(sent), len(recv))
	}
	for _, m := range sent {
		if !m.OK() {
			t.Fatalf("message %+v not matched", m)
		}
	}
}

// TestEqualsMatch: a reply recognised by a JSON field's value.
func TestEqualsMatch(t *testing.T) {
	t.Parallel()
	d, k := newDriver(t)
	var got sync.Map
	url := wsServer(t, func(c *websocket.Conn) {
		for {
			_, b, err := c.ReadMessage()
			if err != nil {
				return
			}
			got.Store(string(b), true)
			c.WriteMessage(websocket.TextMessage, []byte(`{"type":"news"}`))
			c.WriteMessage(websocket.TextMessage, []byte(`{"type":"pong","n":1}`))
		}
	})
	step := wsStep(url, &load.WSSend{JSON: map[string]any{"type": "ping"}},
		&load.WSExpect{JSON: &load.WSJSONMatch{Field: "type", Equals: "pong"}}, 0)
	res := do(t, d, step)
	if !res.OK() {
		t.Fatalf("class %q: %v", res.Class, res.Err)
	}
	if _, ok := got.Load(`{"type":"ping"}`); !ok {
		t.Errorf("the server did not get the JSON message")
	}
	if sent := k.of(load.KindWSMessage, load.DirectionSent); len(sent) != 1 || !sent[0].OK() {
		t.Fatalf("sent %+v, want one answered", sent)
	}
}

// TestNoExpect: messages sent without an expected reply are counted,
// untimed; replies still count as received.
func TestNoExpect(t *testing.T) {
	t.Parallel()
	d, k := newDriver(t)
	url := wsServer(t, echo)
	res := do(t, d, wsStep(url, &load.WSSend{Text: "fire", Rate: 20}, nil, 500*time.Millisecond))
	if !res.OK() {
		t.Fatalf("class %q: %v", res.Class, res.Err)
	}
	sent := k.of(load.KindWSMessage, load.DirectionSent)
	if len(sent) != 10 {
		t.Fatalf("%d sent, want 10", len(sent))
	}
	for _, m := range sent {
		if !m.Untimed || !m.OK() {
			t.Fatalf("message %+v, want untimed", m)
		}
	}
	if recv := k.of(load.KindWSMessage, load.DirectionReceived); len(recv) < 9 {
		t.Errorf("%d received, want the echoes (about 10)", len(recv))
	}
}

// TestBadPlans: steps that cannot run fail as class error without
// connecting.
func TestBadPlans(t *testing.T) {
	t.Parallel()
	d, k := newDriver(t)
	for _, step := range []*load.Step{
		{Name: "no ws"},
		wsStep("http://127.0.0.1:1/", nil, nil, 0),                                                                    // not ws://
		wsStep("ws://127.0.0.1:1/", &load.WSSend{Text: "x", Rate: 10}, nil, 0),                                        // a rate with no hold
		wsStep("ws://127.0.0.1:1/", nil, &load.WSExpect{Text: "x"}, 0),                                                // expect without send
		wsStep("ws://127.0.0.1:1/", &load.WSSend{Text: "x"}, &load.WSExpect{JSON: &load.WSJSONMatch{Field: "id"}}, 0), // correlate text
	} {
		if r := do(t, d, step); r.Class != load.ClassOther || r.Err == nil {
			t.Errorf("%+v: class %q err %v, want class error", step.WS, r.Class, r.Err)
		}
	}
	if n := len(k.of(load.KindWSConnect, "")); n != 0 {
		t.Errorf("%d connects, want none", n)
	}
}

// TestCorrelatedPayload: the number is written at the field, the rest of
// the message kept.
func TestCorrelatedPayload(t *testing.T) {
	t.Parallel()
	p, err := newPlan(wsStep("ws://h/", &load.WSSend{JSON: map[string]any{"a": 1, "data": map[string]any{"x": "y"}}},
		&load.WSExpect{JSON: &load.WSJSONMatch{Field: "data.seq"}}, 0))
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(p.appendMessage(nil, 42), &v); err != nil {
		t.Fatal(err)
	}
	data := v["data"].(map[string]any)
	if v["a"] != 1.0 || data["x"] != "y" || data["seq"] != 42.0 {
		t.Fatalf("message %v", v)
	}
}
