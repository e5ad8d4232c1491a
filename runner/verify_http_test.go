package runner

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/chaosload/chaosload/config"
)

// TestVerifyHTTPSortsIDs: an id the service answers 200 for is found, one it
// answers 404 for is lost, one it answers 503 for on every attempt is
// unverified (an unavailable service proves nothing about a write), and one
// answered 503 and then 200 is found: availability failures are asked again.
func TestVerifyHTTPSortsIDs(t *testing.T) {
	t.Parallel()
	var flaky atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch strings.TrimPrefix(r.URL.Path, "/orders/") {
		case "here":
			w.WriteHeader(http.StatusOK)
		case "gone":
			w.WriteHeader(http.StatusNotFound)
		case "down":
			w.WriteHeader(http.StatusServiceUnavailable)
		case "flaky":
			if flaky.Add(1) < 3 {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			w.WriteHeader(http.StatusOK)
		}
	}))
	t.Cleanup(srv.Close)
	spec := config.VerifyHTTP{URL: srv.URL + "/orders/" + config.VerifyIDPlaceholder}
	got, err := missingHTTP(context.Background(), spec, []string{"here", "gone", "down", "flaky"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.missing, []string{"gone"}) {
		t.Errorf("missing = %v, want [gone]", got.missing)
	}
	if !slices.Equal(got.unverified, []string{"down"}) {
		t.Errorf("unverified = %v, want [down]", got.unverified)
	}
	if want := "answered 503 Service Unavailable"; got.why != want {
		t.Errorf("why = %q, want %q", got.why, want)
	}
	if n := flaky.Load(); n != 3 {
		t.Errorf("the flaky id was asked %d times, want 3 (two 503s, then 200)", n)
	}
}
