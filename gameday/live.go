package gameday

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/chaosload/chaosload/metrics"
	"github.com/gorilla/websocket"
)

// Snapshot is what the dashboard receives every second: per target live
// figures over the last second, the active faults, the recovery timer, the
// background load and the latest events.
type Snapshot struct {
	NowS     float64      `json:"now_s"`
	Name     string       `json:"name"`
	Targets  []TargetLive `json:"targets"`
	Faults   []FaultView  `json:"faults"`
	Recovery RecoveryView `json:"recovery"`
	Load     LoadState    `json:"load"`
	Events   []Event      `json:"events"`
}

// TargetLive is one target's figures: the load through it over the last
// second of complete intervals and the proxy's live counters.
type TargetLive struct {
	Name      string           `json:"name"`
	Listen    string           `json:"listen"`
	Upstream  string           `json:"upstream"`
	Enabled   bool             `json:"enabled"`
	Active    int64            `json:"active"`
	BytesUp   uint64           `json:"bytes_up"`
	BytesDown uint64           `json:"bytes_down"`
	OpsPerSec float64          `json:"ops_per_s"`
	P50MS     float64          `json:"p50_ms"`
	P95MS     float64          `json:"p95_ms"`
	P99MS     float64          `json:"p99_ms"`
	Errors    map[string]int64 `json:"errors"`
}

// recentEvents is how many of the latest events a snapshot carries.
const recentEvents = 100

// Snapshot returns the session's live state now.
func (s *Session) Snapshot() Snapshot {
	now := s.Now()
	iv := s.rec.Interval()
	to := now - now%iv
	from := max(0, to-time.Second)
	snap := Snapshot{NowS: now.Seconds(), Name: s.exp.Name, Faults: s.ActiveFaults(), Recovery: s.recov.view(now), Load: s.Load()}
	s.mu.Lock()
	for _, n := range s.targetNamesLocked() {
		t := s.targets[n]
		st := t.p.Stats()
		snap.Targets = append(snap.Targets, TargetLive{
			Name: n, Listen: st.Addr, Upstream: st.Upstream, Enabled: t.enabled, Active: st.Active,
			BytesUp: st.BytesUp, BytesDown: st.BytesDown,
		})
	}
	s.mu.Unlock()
	for i := range snap.Targets {
		fillLoad(&snap.Targets[i], s.rec.Window(from, to, metrics.Selector{Target: snap.Targets[i].Name}))
	}
	all := s.events.since(max(0, s.events.len()-recentEvents))
	snap.Events = all
	return snap
}

func fillLoad(t *TargetLive, a metrics.Aggregate) {
	t.Errors = map[string]int64{}
	for c, n := range a.ByClass {
		t.Errors[c] = n
	}
	if a.Ops == 0 || a.Span <= 0 {
		return
	}
	t.OpsPerSec = float64(a.Ops) / a.Span.Seconds()
	ms := func(q float64) float64 {
		return float64(metrics.Micros(a.Latency.ValueAtQuantile(q)).Microseconds()) / 1000
	}
	if a.Latency != nil && a.Latency.TotalCount() > 0 {
		t.P50MS, t.P95MS, t.P99MS = ms(50), ms(95), ms(99)
	}
}

// watch pushes a snapshot to every dashboard every PushEvery (and at once
// after a change), checks recovery and moves what is no longer recent into
// the recorder's downsampled past, until ctx ends.
func (s *Session) watch(ctx context.Context) {
	tick := time.NewTicker(s.cfg.PushEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			s.rec.Compact()
			if s.recov.check(s.Now()) {
				v := s.recov.view(s.Now())
				s.event("recovery", fmt.Sprintf("steady state is back: recovered in %.2fs (%s)", v.ElapsedS, v.Reason))
			}
		case <-s.live.poked:
		}
		if b, err := json.Marshal(s.Snapshot()); err == nil {
			s.live.broadcast(b)
		}
	}
}

// hub fans snapshots out to the dashboard's WebSocket connections.
type hub struct {
	mu      sync.Mutex
	clients map[*client]struct{}
	poked   chan struct{}
}

// client is one dashboard connection: the handler's goroutine reads, one
// writer goroutine writes what arrives on send.
type client struct {
	conn *websocket.Conn
	send chan []byte
	done chan struct{}
	once sync.Once
}

func newHub() *hub { return &hub{clients: map[*client]struct{}{}, poked: make(chan struct{}, 1)} }

// poke asks for a push now; it never blocks.
func (h *hub) poke() {
	select {
	case h.poked <- struct{}{}:
	default:
	}
}

// broadcast queues b to every client; a client that is behind skips it.
func (h *hub) broadcast(b []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.clients {
		select {
		case c.send <- b:
		default:
		}
	}
}

func (h *hub) closeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.clients {
		c.stop()
	}
}

func (c *client) stop() {
	c.once.Do(func() {
		close(c.done)
		_ = c.conn.Close()
	})
}

// serveWS upgrades a dashboard connection and serves it until either side
// closes it: this goroutine reads (and discards) client messages, a writer
// goroutine pushes snapshots.
func (s *Session) serveWS(w http.ResponseWriter, r *http.Request) {
	up := websocket.Upgrader{CheckOrigin: sameOrigin}
	conn, err := up.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	c := &client{conn: conn, send: make(chan []byte, 4), done: make(chan struct{})}
	s.live.mu.Lock()
	s.live.clients[c] = struct{}{}
	s.live.mu.Unlock()
	var wg sync.WaitGroup
	wg.Go(func() { c.write() })
	if b, err := json.Marshal(s.Snapshot()); err == nil {
		c.send <- b
	}
	for {
		if _, _, err := conn.ReadMessage(); err != nil {
			break
		}
	}
	c.stop()
	wg.Wait()
	s.live.mu.Lock()
	delete(s.live.clients, c)
	s.live.mu.Unlock()
}

func (c *client) write() {
	for {
		select {
		case <-c.done:
			return
		case b := <-c.send:
			_ = c.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
			if err := c.conn.WriteMessage(websocket.TextMessage, b); err != nil {
				c.stop()
				return
			}
		}
	}
}
