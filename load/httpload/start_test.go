package httpload

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/chaosload/chaosload/load"
)

// TestStartWhenSent: with every connection busy (MaxConnsPerHost 1), a
// request waits for one; Start is when it got it, so the wait is dispatch
// lag and shows in latency, while service time is the request's own.
func TestStartWhenSent(t *testing.T) {
	t.Parallel()
	eachMode(t, modes, testStartWhenSent)
}

func testStartWhenSent(t *testing.T, m mode) {
	arrived, release := make(chan struct{}), make(chan struct{})
	srv := m.serve(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			close(arrived)
			<-release
		}
	})
	d := m.driver(t, Config{MaxConnsPerHost: 1}, srv)
	vu1, vu2 := newVU(), newVU()
	vu2.Clock = vu1.Clock
	var slow load.Result
	var wg sync.WaitGroup
	wg.Go(func() { slow = do(d, vu1, get(srv.URL+"/slow")) })
	<-arrived // the slow request holds the only connection
	// Released a little later, so that the fast request is (most likely)
	// waiting for the connection by then; what is asserted holds either way.
	released := make(chan time.Duration, 1)
	time.AfterFunc(200*time.Millisecond, func() {
		released <- vu1.Clock.Now()
		close(release)
	})
	fast := do(d, vu2, get(srv.URL+"/fast"))
	wg.Wait()
	releasedAt := <-released // the slow request ended only after the release
	if !slow.OK() || !fast.OK() {
		t.Fatalf("failed: %v %v", slow.Err, fast.Err)
	}
	// The connection was free only once the server had let the slow
	// request go: the fast one was sent after that, and the wait is its
	// dispatch lag (which latency includes), not its service time.
	if fast.Start < releasedAt {
		t.Errorf("fast request sent at %v, before the slow one let go of the connection at %v", fast.Start, releasedAt)
	}
	if fast.DispatchLag() < releasedAt-fast.Intended {
		t.Errorf("dispatch lag %v, want at least the %v it waited for the connection", fast.DispatchLag(), releasedAt-fast.Intended)
	}
	if fast.Latency() != fast.DispatchLag()+fast.ServiceTime() {
		t.Errorf("latency %v is not lag + service", fast.Latency())
	}
}
