package gameday

import (
	"errors"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2/client"
)

// TestToxiproxyClientDrivesFaults drives the control API with Toxiproxy's own
// Go client and proves each change with a real TCP client through the proxy:
// the delay it measures, the refusal of a disabled proxy, a reset.
func TestToxiproxyClientDrivesFaults(t *testing.T) {
	t.Parallel()
	up := echoServer(t)
	s, srv := session(t, experiment(t, up, tcpOnly), Config{Version: "chaosload-test"})
	c := toxiproxy.NewClient(srv.URL)

	v, err := c.Version()
	if err != nil || !strings.Contains(string(v), `"chaosload-test"`) {
		t.Fatalf("version %q, %v", v, err)
	}
	ps, err := c.Proxies()
	if err != nil || ps["echo"] == nil || ps["echo"].Upstream != up || !ps["echo"].Enabled {
		t.Fatalf("proxies %+v, %v: the file's target must be listed", ps, err)
	}
	p, err := c.CreateProxy("made", "127.0.0.1:0", up)
	if err != nil {
		t.Fatal(err)
	}
	if p.Listen == "127.0.0.1:0" || !p.Enabled {
		t.Fatalf("created proxy %+v: listen must be the resolved address", p)
	}
	base := mustRoundTrip(t, p.Listen)
	if base > 50*time.Millisecond {
		t.Logf("baseline round trip %s (slow machine)", base)
	}

	// latency 150 ms downstream: every echo waits at least that long
	if _, err := p.AddToxic("slow", "latency", "downstream", 1, toxiproxy.Attributes{"latency": 150}); err != nil {
		t.Fatal(err)
	}
	if d := mustRoundTrip(t, p.Listen); d < 150*time.Millisecond {
		t.Fatalf("round trip %s with a 150ms latency toxic", d)
	}
	// update to 300 ms (the client POSTs the update)
	tx, err := p.UpdateToxic("slow", 1, toxiproxy.Attributes{"latency": 300})
	if err != nil || tx.Attributes["latency"] != float64(300) {
		t.Fatalf("update: %+v, %v", tx, err)
	}
	if d := mustRoundTrip(t, p.Listen); d < 300*time.Millisecond {
		t.Fatalf("round trip %s after updating the toxic to 300ms", d)
	}
	ts, err := p.Toxics()
	if err != nil || len(ts) != 1 || ts[0].Type != "latency" || ts[0].Stream != "downstream" || ts[0].Toxicity != 1 {
		t.Fatalf("toxics %+v, %v", ts, err)
	}
	if err := p.RemoveToxic("slow"); err != nil {
		t.Fatal(err)
	}
	mustRoundTripUnheld(t, s.Proxy("made"))

	// disabled: a new connection is refused; enabled again: it echoes
	if err := p.Disable(); err != nil {
		t.Fatal(err)
	}
	if _, err := net.DialTimeout("tcp", p.Listen, time.Second); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial a disabled proxy: %v, want ECONNREFUSED", err)
	}
	if err := p.Enable(); err != nil {
		t.Fatal(err)
	}
	mustRoundTrip(t, p.Listen)

	// reset_peer with timeout 0: the first data resets the connection
	if _, err := p.AddToxic("rst", "reset_peer", "upstream", 1, toxiproxy.Attributes{"timeout": 0}); err != nil {
		t.Fatal(err)
	}
	if _, err := roundTrip(t, p.Listen); err == nil || !isReset(err) {
		t.Fatalf("round trip through reset_peer: %v, want a reset", err)
	}
	if err := c.ResetState(); err != nil {
		t.Fatal(err)
	}
	mustRoundTrip(t, p.Listen)
	if n := len(s.ActiveFaults()); n != 0 {
		t.Fatalf("%d faults active after /reset", n)
	}
	if err := p.Delete(); err != nil {
		t.Fatal(err)
	}
	if _, err := net.DialTimeout("tcp", p.Listen, time.Second); err == nil {
		t.Fatal("a deleted proxy still accepts connections")
	}
}

// TestToxiproxyClientErrors checks the status codes Toxiproxy's clients rely
// on, through its own client's ApiError.
func TestToxiproxyClientErrors(t *testing.T) {
	t.Parallel()
	up := echoServer(t)
	_, srv := session(t, experiment(t, up, tcpOnly), Config{})
	c := toxiproxy.NewClient(srv.URL)
	status := func(err error) int {
		var ae *toxiproxy.ApiError
		if !errors.As(err, &ae) {
			t.Fatalf("error %v is not an ApiError", err)
		}
		return ae.Status
	}
	if _, err := c.Proxy("nope"); status(err) != http.StatusNotFound {
		t.Fatalf("missing proxy: %v", err)
	}
	if _, err := c.CreateProxy("echo", "127.0.0.1:0", up); status(err) != http.StatusConflict {
		t.Fatalf("duplicate proxy: %v", err)
	}
	p, err := c.Proxy("echo")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.AddToxic("x", "no-such-type", "", 1, nil); status(err) != http.StatusBadRequest {
		t.Fatalf("bad type: %v", err)
	}
	if _, err := p.AddToxic("x", "latency", "sideways", 1, nil); status(err) != http.StatusBadRequest {
		t.Fatalf("bad stream: %v", err)
	}
	if _, err := p.AddToxic("", "latency", "", 1, toxiproxy.Attributes{"latency": 10}); err != nil {
		t.Fatal(err)
	}
	ts, _ := p.Toxics()
	if len(ts) != 1 || ts[0].Name != "latency_downstream" {
		t.Fatalf("default toxic name: %+v", ts)
	}
	if _, err := p.AddToxic("", "latency", "", 1, nil); status(err) != http.StatusConflict {
		t.Fatalf("duplicate toxic: %v", err)
	}
	if err := p.RemoveToxic("nope"); status(err) != http.StatusNotFound {
		t.Fatalf("missing toxic: %v", err)
	}
	made, err := c.Populate([]toxiproxy.Proxy{{Name: "pop", Listen: "127.0.0.1:0", Upstream: up, Enabled: true}})
	if err != nil || len(made) != 1 || made[0].Name != "pop" {
		t.Fatalf("populate: %+v, %v", made, err)
	}
	mustRoundTrip(t, made[0].Listen)
}

// TestToxiproxyStatusCodes checks the raw codes of Toxiproxy's API: 201 on
// proxy create, the odd 200 on toxic create, 204 on delete and reset, and
// 403 for a browser's User-Agent.
func TestToxiproxyStatusCodes(t *testing.T) {
	t.Parallel()
	up := echoServer(t)
	_, srv := session(t, experiment(t, up, tcpOnly), Config{})
	do := func(method, path, body, ua string) int {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if ua != "" {
			req.Header.Set("User-Agent", ua)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	steps := []struct {
		method, path, body, ua string
		want                   int
	}{
		{"POST", "/proxies", `{"name":"a","upstream":"` + up + `"}`, "", 201},        // create
		{"POST", "/proxies", `{"upstream":"` + up + `"}`, "", 400},                   // no name
		{"POST", "/proxies/a/toxics", `{"type":"latency","attributes":{}}`, "", 200}, // Toxiproxy's 200
		{"PATCH", "/proxies/a/toxics/latency_downstream", `{"attributes":{"latency":5}}`, "", 200},
		{"DELETE", "/proxies/a/toxics/latency_downstream", "", "", 204},
		{"GET", "/proxies", "", "Mozilla/5.0 (X11)", 403}, // browsers are refused, as Toxiproxy does
		{"POST", "/reset", "", "", 204},
		{"DELETE", "/proxies/a", "", "", 204},
		{"GET", "/proxies/a", "", "", 404},
	}
	for _, st := range steps {
		if got := do(st.method, st.path, st.body, st.ua); got != st.want {
			t.Errorf("%s %s: %d, want %d", st.method, st.path, got, st.want)
		}
	}
}

func mustRoundTrip(t testing.TB, addr string) time.Duration {
	t.Helper()
	d, err := roundTrip(t, addr)
	if err != nil {
		t.Fatalf("round trip through %s: %v", addr, err)
	}
	return d
}
