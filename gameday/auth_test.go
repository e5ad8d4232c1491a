package gameday

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2/client"
	"github.com/gorilla/websocket"
)

// TestTokenRefusesAndChangesNothing proves that with a token configured a
// request without it (or with a wrong one) is refused with 401 on every
// kind of route and changes nothing a client through the proxy could see,
// and that the token's holder is let in and named in the audit log.
func TestTokenRefusesAndChangesNothing(t *testing.T) {
	t.Parallel()
	up := echoServer(t)
	s, srv := session(t, experiment(t, up, tcpOnly), Config{Tokens: map[string]string{"s3cret": "alice"}})
	listen := s.Proxy("echo").Addr()
	slow := `{"name":"slow","type":"latency","attributes":{"latency":300}}`
	refused := []struct{ method, path, body, token string }{
		{"POST", "/proxies/echo/toxics", slow, ""},                                      // no token
		{"POST", "/proxies/echo/toxics", slow, "wrong"},                                 // wrong token
		{"POST", "/chaosload/faults", `{"name":"f","target":"echo","kind":"down"}`, ""}, // chaosload's API
		{"POST", "/proxies", `{"name":"new","upstream":"` + up + `"}`, ""},              // create
		{"POST", "/proxies/echo", `{"enabled":false}`, ""},                              // disable
		{"POST", "/reset", "", ""},                                                      // reset
		{"GET", "/proxies", "", ""},                                                     // reads too
		{"GET", "/", "", ""},                                                            // the dashboard
		{"GET", "/metrics", "", ""},                                                     // metrics
	}
	for _, r := range refused {
		if got := call(t, srv.URL, r.method, r.path, r.body, r.token, ""); got != http.StatusUnauthorized {
			t.Errorf("%s %s with token %q: %d, want 401", r.method, r.path, r.token, got)
		}
	}
	if _, _, err := websocket.DefaultDialer.Dial(strings.Replace(srv.URL, "http", "ws", 1)+"/chaosload/ws", nil); err == nil {
		t.Error("the live feed accepted a connection without the token")
	}
	if n := len(s.ActiveFaults()); n != 0 {
		t.Fatalf("%d faults active after refused requests", n)
	}
	if len(s.Proxies()) != 1 {
		t.Fatalf("proxies %v after a refused create", s.Proxies())
	}
	if faults := s.Proxy("echo").Stats().Faults; len(faults) != 0 {
		t.Fatalf("faults %v on the proxy: a refused toxic took effect", faults)
	}
	mustRoundTripUnheld(t, s.Proxy("echo"))
	for _, e := range s.Audit() {
		t.Errorf("audit entry for a refused request: %+v", e)
	}

	// the holder of the token: bearer, and Toxiproxy's client with the
	// token as the URL's password
	if got := call(t, srv.URL, "POST", "/proxies/echo/toxics", slow, "s3cret", ""); got != http.StatusOK {
		t.Fatalf("with the token: %d", got)
	}
	if d := mustRoundTrip(t, listen); d < 300*time.Millisecond {
		t.Fatalf("round trip %s with the toxic applied", d)
	}
	u, _ := url.Parse(srv.URL)
	u.User = url.UserPassword("ci", "s3cret")
	if err := toxiproxy.NewClient(u.String()).ResetState(); err != nil {
		t.Fatalf("Toxiproxy client with the token: %v", err)
	}
	audit := s.Audit()
	if len(audit) != 2 || audit[0].Who != "alice" || audit[0].Action != "add-toxic" || audit[1].Action != "reset" {
		t.Fatalf("audit %+v: want alice's add-toxic and reset", audit)
	}
}

// TestOriginCheck proves a browser's cross-origin mutating request is
// refused (403) and changes nothing, while the dashboard's own origin passes.
func TestOriginCheck(t *testing.T) {
	t.Parallel()
	up := echoServer(t)
	s, srv := session(t, experiment(t, up, tcpOnly), Config{})
	body := `{"name":"f","target":"echo","kind":"latency","latency":"300ms"}`
	if got := call(t, srv.URL, "POST", "/chaosload/faults", body, "", "http://evil.example"); got != http.StatusForbidden {
		t.Fatalf("cross-origin apply: %d, want 403", got)
	}
	if n := len(s.ActiveFaults()); n != 0 {
		t.Fatalf("%d faults after a refused cross-origin request", n)
	}
	if got := call(t, srv.URL, "POST", "/chaosload/faults", body, "", srv.URL); got != http.StatusCreated {
		t.Fatalf("same-origin apply: %d, want 201", got)
	}
	if d := mustRoundTrip(t, s.Proxy("echo").Addr()); d < 300*time.Millisecond {
		t.Fatalf("round trip %s with the fault applied", d)
	}
}

// call sends one request and returns its status.
func call(t testing.TB, base, method, path, body, token, origin string) int {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// TestDashboardTokenCookie: opening the dashboard with ?token= sets a
// cookie with which the page's own requests and live feed are let in.
func TestDashboardTokenCookie(t *testing.T) {
	t.Parallel()
	_, srv := session(t, experiment(t, echoServer(t), tcpOnly), Config{Tokens: map[string]string{"s3cret": "ops"}})
	res, err := http.Get(srv.URL + "/?token=s3cret")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var cookie *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == tokenCookie {
			cookie = c
		}
	}
	if res.StatusCode != http.StatusOK || cookie == nil || !cookie.HttpOnly {
		t.Fatalf("dashboard with ?token=: %d, cookie %+v", res.StatusCode, cookie)
	}
	hdr := http.Header{"Cookie": {cookie.Name + "=" + cookie.Value}}
	c, _, err := websocket.DefaultDialer.Dial(strings.Replace(srv.URL, "http", "ws", 1)+"/chaosload/ws", hdr)
	if err != nil {
		t.Fatalf("live feed with the cookie: %v", err)
	}
	defer c.Close()
	var snap Snapshot
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if err := c.ReadJSON(&snap); err != nil || len(snap.Targets) != 1 || snap.Targets[0].Name != "echo" {
		t.Fatalf("first snapshot %+v, %v", snap, err)
	}
}
