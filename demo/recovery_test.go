package demo

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestRecoveryAfterExhaustionUnderLoad is db-exhaustion under steady load,
// on a host made slow the same way on every machine (a link in front of
// PostgreSQL that takes 150 ms to start a connection and 10 ms per answer,
// as a loaded 2-core host does to fork, start-up and round trips): orders
// arrive at 100/s throughout; every free connection slot is taken and the
// service's connections are reset, so it can only reconnect into a full
// server; then the slots are released.
//
// While the server is full every order must be answered 503. Once the
// slots are back the service must answer orders 201 again (a run of 100
// consecutive ones) and its pool must settle: every connection it holds
// then is still open 200 orders later. A service that lets a request's
// deadline cut the work on a connection fails here: after the outage the
// pool hands its first connections to the requests that have waited
// longest, with the least time left; cutting their transactions closes
// each new connection at its first use, and the pool is rebuilt for ever.
// How long recovery took is logged, not judged; 60 s without it is a hang.
func TestRecoveryAfterExhaustionUnderLoad(t *testing.T) {
	pg := sharedPostgres(t)
	r := startRedis(t, RedisConfig{})
	l := newLink(t, pg.Addr())
	l.setSlow(150*time.Millisecond, 10*time.Millisecond)
	svc := startService(t, ServiceConfig{Mode: ModeGraceful, Postgres: l.addr(), Redis: r.Addr()})
	c := newClient(t, svc.Addr(), clientTimeout(ModeGraceful))
	warmUp(t, c)

	load := startOrders(t, c, 10*time.Millisecond)
	load.await(t, "steady state", 0, func(s []int) bool { return count(s, http.StatusCreated) >= 50 })

	// New connections wait at the link until the slots their reset frees
	// are taken, as the pool-exhaustion fault's watch of its proxy makes
	// them: under load they would otherwise win some of those slots.
	l.setMode(linkRefuse)
	slots := exhaust(t, pg)
	l.resetAll()
	slots.topUp(t)
	l.setMode(linkPass)
	full := load.sent()
	during := load.await(t, "orders while the server is full", full, func(s []int) bool { return len(s) >= 100 })[:100]
	t.Logf("while full (%d slots held): %v", len(slots.conns), histogram(during))
	if n := count(during, http.StatusServiceUnavailable); n != len(during) {
		t.Errorf("%d of %d orders answered 503 while the server was full, want all: %v", n, len(during), histogram(during))
	}

	slots.release()
	released, begin := load.sent(), time.Now()
	after := load.await(t, "100 consecutive orders created after the release", released, func(s []int) bool {
		return createdRun(s) >= 0
	})
	t.Logf("after the release: %v, then 100 consecutive 201s, complete %v after the release",
		histogram(after[:createdRun(after)]), time.Since(begin).Round(time.Millisecond))

	held := backends(t, pg)
	settled := load.sent()
	rest := load.await(t, "200 more orders", settled, func(s []int) bool { return len(s) >= 200 })[:200]
	still := backends(t, pg)
	t.Logf("pool settled: backends %v, then %v; next 200 orders %v", held, still, histogram(rest))
	for _, pid := range held {
		if !slices.Contains(still, pid) {
			t.Errorf("backend %d of the settled pool %v closed within the next 200 orders (now %v): the pool is being rebuilt", pid, held, still)
		}
	}
	load.stop()
	for i, s := range load.all() {
		if s != http.StatusCreated && s != http.StatusServiceUnavailable {
			t.Errorf("order %d: status %d (%s), want 201 or 503", i, s, statusName(s))
		}
	}
}

// createdRun returns where the first run of 100 consecutive 201s begins in
// statuses, or -1.
func createdRun(statuses []int) int {
	const run = 100
	n := 0
	for i, s := range statuses {
		if s != http.StatusCreated {
			n = 0
			continue
		}
		if n++; n == run {
			return i - run + 1
		}
	}
	return -1
}

// backends returns the PIDs of the graceful service's sessions.
func backends(t *testing.T, pg *Postgres) []int {
	t.Helper()
	conn := connect(t, pg.DSN(Superuser, "postgres"))
	defer conn.Close(context.Background())
	rows, err := conn.Query(context.Background(),
		"SELECT pid FROM pg_stat_activity WHERE application_name = $1 ORDER BY pid", "chaosload-demo-"+string(ModeGraceful))
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for rows.Next() {
		var pid int
		if err := rows.Scan(&pid); err != nil {
			t.Fatal(err)
		}
		pids = append(pids, pid)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(pids) == 0 {
		t.Fatal("the service holds no PostgreSQL session")
	}
	return pids
}

// orderLoad sends an order every interval (an open model: a slow answer
// does not delay the next order) until stopped, at most maxOrders in all,
// and keeps each order's outcome in the order they were sent.
type orderLoad struct {
	c    *client
	done chan struct{} // closed by stop
	wg   sync.WaitGroup

	mu       sync.Mutex
	statuses []int         // by order sent; 0 until answered, statusError for no answer
	changed  chan struct{} // closed and replaced at each answer
}

// statusError stands for an order that got no HTTP answer (a transport
// error or the client's timeout).
const statusError = -1

// maxOrders bounds a load: 90 s at 100/s.
const maxOrders = 9000

func startOrders(t *testing.T, c *client, every time.Duration) *orderLoad {
	ld := &orderLoad{c: c, done: make(chan struct{}), changed: make(chan struct{})}
	ld.wg.Add(1)
	go ld.run(every)
	t.Cleanup(ld.stop)
	return ld
}

func (ld *orderLoad) run(every time.Duration) {
	defer ld.wg.Done()
	tick := time.NewTicker(every)
	defer tick.Stop()
	for range maxOrders {
		select {
		case <-ld.done:
			return
		case <-tick.C:
		}
		ld.mu.Lock()
		i := len(ld.statuses)
		ld.statuses = append(ld.statuses, 0)
		ld.mu.Unlock()
		ld.wg.Go(func() { ld.answered(i, ld.c.postOrder(1, 1)) })
	}
}

func (ld *orderLoad) answered(i int, rep reply) {
	ld.mu.Lock()
	defer ld.mu.Unlock()
	ld.statuses[i] = rep.status
	if rep.err != nil {
		ld.statuses[i] = statusError
	}
	close(ld.changed)
	ld.changed = make(chan struct{})
}

// stop ends the load and waits for every order's answer. It is idempotent.
func (ld *orderLoad) stop() {
	select {
	case <-ld.done:
	default:
		close(ld.done)
	}
	ld.wg.Wait()
}

// sent is how many orders have been sent so far.
func (ld *orderLoad) sent() int {
	ld.mu.Lock()
	defer ld.mu.Unlock()
	return len(ld.statuses)
}

// all returns every order's outcome.
func (ld *orderLoad) all() []int {
	ld.mu.Lock()
	defer ld.mu.Unlock()
	return slices.Clone(ld.statuses)
}

// await waits until ok holds for the outcomes of the orders sent from
// index from on, as far as they have been answered without a gap, and
// returns them; 60 s of waiting is a hang.
func (ld *orderLoad) await(t *testing.T, what string, from int, ok func([]int) bool) []int {
	t.Helper()
	hang := time.NewTimer(60 * time.Second)
	defer hang.Stop()
	for {
		ld.mu.Lock()
		answered := ld.statuses[from:]
		if i := slices.Index(answered, 0); i >= 0 {
			answered = answered[:i]
		}
		answered = slices.Clone(answered)
		changed := ld.changed
		ld.mu.Unlock()
		if ok(answered) {
			return answered
		}
		select {
		case <-changed:
		case <-hang.C:
			t.Fatalf("%s: not within 60 s (a hang); since order %d: %v", what, from, histogram(answered))
		}
	}
}

// count is how many statuses are want.
func count(statuses []int, want int) int {
	n := 0
	for _, s := range statuses {
		if s == want {
			n++
		}
	}
	return n
}

// histogram counts statuses by name, for logs and failures.
func histogram(statuses []int) map[string]int {
	h := map[string]int{}
	for _, s := range statuses {
		h[statusName(s)]++
	}
	return h
}

func statusName(s int) string {
	if s == statusError {
		return "no answer"
	}
	return fmt.Sprint(s)
}
