package demo

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// login posts a login to h and returns the status and Retry-After.
func login(t *testing.T, h http.HandlerFunc, password string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	body := `{"user": "` + DemoUser + `", "password": "` + password + `"}`
	h(rec, httptest.NewRequest(http.MethodPost, "/api/login", strings.NewReader(body)))
	return rec.Code, rec.Header().Get("Retry-After")
}

// TestLogin: the demo password logs in (200), another does not (401); the
// graceful service admits a burst of LoginBurst, answers the next 429 with
// Retry-After, and admits again once the bucket refilled; the naive one
// never answers 429. The clock is the test's.
func TestLogin(t *testing.T) {
	t.Parallel()
	now := time.Unix(1000, 0)
	clock := func() time.Time { return now }
	g := newLogins(ModeGraceful, 1000, clock)
	if code, _ := login(t, g.serve, "wrong"); code != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d, want 401", code)
	}
	for i := 1; i < LoginBurst; i++ {
		if code, _ := login(t, g.serve, DemoPassword); code != http.StatusOK {
			t.Fatalf("login %d of the burst: %d, want 200", i+1, code)
		}
	}
	if code, retry := login(t, g.serve, DemoPassword); code != http.StatusTooManyRequests || retry != "1" {
		t.Fatalf("beyond the burst: %d (Retry-After %q), want 429 with Retry-After 1", code, retry)
	}
	now = now.Add(time.Second / LoginRate)
	if code, _ := login(t, g.serve, DemoPassword); code != http.StatusOK {
		t.Fatalf("after a token's worth of time: %d, want 200", code)
	}
	n := newLogins(ModeNaive, 1000, clock)
	for i := range 2 * LoginBurst {
		if code, _ := login(t, n.serve, DemoPassword); code != http.StatusOK {
			t.Fatalf("naive login %d: %d, want 200 (no limit)", i+1, code)
		}
	}
}
