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
	release := make(chan struct{})
	srv := m.serve(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			<-release
		}
	})
	d := m.driver(t, Config{MaxConnsPerHost: 1}, srv)
	vu1, vu2 := newVU(), newVU()
	vu2.Clock = vu1.Clock
	var slow load.Result
	var wg sync.WaitGroup
	wg.Go(func() { slow = do(d, vu1, get(srv.URL+"/slow")) })
	time.Sleep(50 * time.Millisecond) // the slow request holds the only connection
	time.AfterFunc(200*time.Millisecond, func() { close(release) })
	fast := do(d, vu2, get(srv.URL+"/fast"))
	wg.Wait()
	if !slow.OK() || !fast.OK() {
		t.Fatalf("failed: %v %v", slow.Err, fast.Err)
	}
	if fast.Start < slow.End-5*time.Millisecond {
		t.Errorf("fast request sent at %v, before the slow one freed the connection at %v", fast.Start, slow.End)
	}
	if fast.DispatchLag() < 150*time.Millisecond || fast.ServiceTime() > 100*time.Millisecond {
		t.Errorf("dispatch lag %v service time %v, want >= 150ms waiting and a short service", fast.DispatchLag(), fast.ServiceTime())
	}
	if fast.Latency() != fast.DispatchLag()+fast.ServiceTime() {
		t.Errorf("latency %v is not lag + service", fast.Latency())
	}
}
