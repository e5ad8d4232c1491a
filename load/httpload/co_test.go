package httpload

import (
	"context"
	"math"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chaosload/chaosload/load"
	"github.com/rs/zerolog"
)

// keeper is a Sink that keeps a copy of every result.
type keeper struct {
	mu sync.Mutex
	rs []load.Result
}

func (k *keeper) Record(r *load.Result) {
	k.mu.Lock()
	k.rs = append(k.rs, *r)
	k.mu.Unlock()
}

// p returns the nearest-rank q-th percentile (0 < q ≤ 1) of ds.
func p(ds []time.Duration, q float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[int(math.Ceil(q*float64(len(s))))-1]
}

// stallingServer starts a server that answers at once, except the first
// request arriving at or after offset `at` on clock, which it holds for d.
// stall reports when the stall began and ended.
func stallingServer(tb testing.TB, clock load.Clock, at, d time.Duration) (url string, stall func() (from, to time.Duration)) {
	var stalled atomic.Bool
	var from, to atomic.Int64
	srv := serve(tb, func(w http.ResponseWriter, r *http.Request) {
		if now := clock.Now(); now >= at && stalled.CompareAndSwap(false, true) {
			from.Store(int64(now))
			select {
			case <-time.After(d):
			case <-r.Context().Done():
			}
			to.Store(int64(clock.Now()))
		}
	})
	return srv.URL, func() (time.Duration, time.Duration) {
		return time.Duration(from.Load()), time.Duration(to.Load())
	}
}

// TestNoCoordinatedOmission is the proof that latency is measured from each
// request's intended start. The generator holds one connection to a server
// (the wrk2 set-up: a fixed connection budget) at 200 requests/s; once, the
// server stalls a request for 1 s. Requests due during the stall cannot go
// out until it ends, then are served quickly one after another. Timed from
// the actual send (service time), as most tools do, they look fast; timed
// from their intended start (latency) they show the wait users had.
func TestNoCoordinatedOmission(t *testing.T) {
	t.Parallel()
	clock := load.Clock{Epoch: time.Now()}
	url, stall := stallingServer(t, clock, time.Second, time.Second)
	sink := &keeper{}
	sc := load.Scenario{Name: "shoppers", Executor: load.ConstantArrivalRate, Rate: 200, Duration: 3 * time.Second,
		PreAllocatedVUs: 50, MaxVUs: 400, GracefulStop: new(5 * time.Second),
		Steps: []load.Step{{Name: "browse", HTTP: &load.HTTPRequest{URL: url}}}}
	l, err := load.New([]load.Scenario{sc}, load.Config{
		Drivers: map[load.Protocol]load.Driver{load.HTTP: newDriver(t, Config{MaxConnsPerHost: 1})},
		Sink:    sink, Clock: clock, Logger: zerolog.Nop(),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := l.Run(ctx); err != nil {
		t.Fatal(err)
	}

	if n := len(sink.rs); n != 600 {
		t.Fatalf("%d results, want 600: the stall must not lower the offered load", n)
	}
	from, to := stall()
	var latency, service, genLag []time.Duration
	for _, r := range sink.rs {
		if !r.OK() {
			t.Fatalf("a request failed: %+v", r)
		}
		if r.Intended >= from && r.Intended < to {
			latency = append(latency, r.Latency())
			service = append(service, r.ServiceTime())
			genLag = append(genLag, r.GeneratorLag())
			// The only connection was busy until the stall ended: a
			// request due during it went out after, and waited that long
			// from its intended start (its latency shows the wait users
			// had); its service time starts at the send, after the wait.
			if r.Start < to || r.DispatchLag() < to-r.Intended || r.Latency() != r.DispatchLag()+r.ServiceTime() {
				t.Errorf("request intended at %v: sent at %v, lag %v, latency %v; want it sent after the stall ended at %v and the wait in its latency",
					r.Intended, r.Start, r.DispatchLag(), r.Latency(), to)
			}
		}
	}
	t.Logf("stall %v–%v: %d requests intended in it; latency p50 %v p99 %v; service time p50 %v p99 %v; generator lag p99 %v",
		from, to, len(latency), p(latency, .5), p(latency, .99), p(service, .5), p(service, .99), p(genLag, .99))
	if len(latency) < 150 {
		t.Fatalf("%d requests intended during the stall, want about 200", len(latency))
	}
	// The first ones due in the stall waited nearly all of it.
	if got := p(latency, .99); got < (to-from)/2 {
		t.Errorf("latency p99 %v during the %v stall, want >= %v: the wait is hidden", got, to-from, (to-from)/2)
	}
}
