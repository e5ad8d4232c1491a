package demo

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// dialFeed connects a WebSocket client to the service's feed, closed at
// cleanup.
func dialFeed(tb testing.TB, addr string) *websocket.Conn {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, resp, err := websocket.DefaultDialer.DialContext(ctx, "ws://"+addr+"/ws/feed", nil)
	if err != nil {
		tb.Fatalf("dial feed: %v", err)
	}
	resp.Body.Close()
	tb.Cleanup(func() { c.Close() })
	return c
}

// readFrame reads one frame within 5 s.
func readFrame(tb testing.TB, c *websocket.Conn) []byte {
	tb.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, b, err := c.ReadMessage()
	if err != nil {
		tb.Fatalf("read: %v", err)
	}
	return b
}

// TestFeedEchoesAndBroadcastsOrders: in both modes, the feed echoes a
// client's message to that client only, and every client gets each new
// order, with the id the POST acknowledged.
func TestFeedEchoesAndBroadcastsOrders(t *testing.T) {
	pg := sharedPostgres(t)
	rd := startRedis(t, RedisConfig{InProcess: true})
	for _, mode := range []Mode{ModeGraceful, ModeNaive} {
		t.Run(string(mode), func(t *testing.T) {
			svc := startService(t, ServiceConfig{Mode: mode, Postgres: pg.Addr(), Redis: rd.Addr()})
			a, b := dialFeed(t, svc.Addr()), dialFeed(t, svc.Addr())
			if err := a.WriteMessage(websocket.TextMessage, []byte(`{"seq":1,"text":"hi"}`)); err != nil {
				t.Fatal(err)
			}
			if got := string(readFrame(t, a)); got != `{"seq":1,"text":"hi"}` {
				t.Fatalf("echo %q", got)
			}
			rep := newClient(t, svc.Addr(), 5*time.Second).postOrder(3, 2)
			if rep.status != http.StatusCreated {
				t.Fatalf("order: %s", rep)
			}
			want := decode[order](t, rep)
			for name, c := range map[string]*websocket.Conn{"a": a, "b": b} {
				var ev struct {
					Type  string `json:"type"`
					Order order  `json:"order"`
				}
				if err := json.Unmarshal(readFrame(t, c), &ev); err != nil {
					t.Fatal(err)
				}
				// b never sent anything, so its first frame is the order: no echo leaked to it.
				if ev.Type != "order" || ev.Order.ID != want.ID || ev.Order.Product != 3 || ev.Order.Qty != 2 {
					t.Fatalf("client %s got %+v, want order %d", name, ev, want.ID)
				}
			}
		})
	}
}

// TestFeedShutdown: Run returns once every feed connection is over: a
// client that answers the close frame at once, and one that never reads
// (cut after feedCloseWait). The first sees "going away".
func TestFeedShutdown(t *testing.T) {
	svc, err := NewService(ServiceConfig{Postgres: "127.0.0.1:1", Redis: "127.0.0.1:1", Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	polite, deaf := dialFeed(t, svc.Addr()), dialFeed(t, svc.Addr())
	// Both joined once an echo came back.
	for _, c := range []*websocket.Conn{polite, deaf} {
		c.WriteMessage(websocket.TextMessage, []byte("ping"))
		readFrame(t, c)
	}
	closed := make(chan error, 1)
	go func() { // the polite client reads until the close frame (and answers it, as gorilla does)
		_, _, err := polite.ReadMessage()
		closed <- err
	}()
	begin := time.Now()
	cancel()
	// The deaf client never answers the close frame nor closes: a service
	// that waited for it would never return.
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(feedCloseWait + 30*time.Second):
		t.Fatal("Run did not return: a feed connection held up shutdown")
	}
	t.Logf("shutdown took %v (feedCloseWait %v)", time.Since(begin), feedCloseWait)
	var ce *websocket.CloseError
	if err := <-closed; !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
		t.Errorf("polite client got %v, want close 1001 going away", err)
	}
}
