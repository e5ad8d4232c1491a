package gameday

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/chaosload/chaosload/internal/headless"
	"github.com/gorilla/websocket"
)

// chromiumFlags keep headless Chromium off the network and out of the
// machine's profile.
var chromiumFlags = []string{
	"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
	"--disable-background-networking", "--disable-component-update", "--disable-sync",
	"--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "--window-size=1200,900",
}

// browser is a headless Chromium driven over the DevTools protocol: one
// page, commands sent on its WebSocket and answered by id. The test reads
// the page's answers only from the goroutine that sends (no reader
// goroutine): events in between are skipped.
type browser struct {
	page *websocket.Conn
	id   atomic.Int64
}

var devtoolsLine = regexp.MustCompile(`DevTools listening on (ws://[^\s]+)`)

// openBrowser starts Chromium on url in its own process group, which the
// test kills when it ends, and attaches to the page.
func openBrowser(t *testing.T, url string) *browser {
	t.Helper()
	bin := headless.Chromium(t)
	args := append(append([]string{}, chromiumFlags...), "--user-data-dir="+filepath.Join(t.TempDir(), "profile"), url)
	cmd := exec.Command(bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	pgid := cmd.Process.Pid
	t.Cleanup(func() {
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	found := make(chan string, 1)
	go func() { // ends when Chromium's stderr closes (killed in Cleanup)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := devtoolsLine.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}()
	var browserWS string
	select {
	case browserWS = <-found:
	case <-time.After(60 * time.Second):
		t.Fatal("chromium printed no DevTools address within 60s")
	}
	return &browser{page: attachPage(t, browserWS)}
}

// attachPage finds the page target through the DevTools HTTP endpoint and
// connects to it.
func attachPage(t *testing.T, browserWS string) *websocket.Conn {
	t.Helper()
	host := strings.Split(strings.TrimPrefix(browserWS, "ws://"), "/")[0]
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var targets []struct{ Type, WebSocketDebuggerURL string }
		res, err := http.Get("http://" + host + "/json/list")
		if err == nil {
			_ = json.NewDecoder(res.Body).Decode(&targets)
			res.Body.Close()
		}
		for _, tg := range targets {
			if tg.Type == "page" && tg.WebSocketDebuggerURL != "" {
				c, _, err := websocket.DefaultDialer.Dial(tg.WebSocketDebuggerURL, nil)
				if err != nil {
					t.Fatalf("attach to the page: %v", err)
				}
				t.Cleanup(func() { _ = c.Close() })
				return c
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("no page target in Chromium")
	return nil
}

// eval evaluates a JavaScript expression in the page and returns its value
// (JSON-decoded into v).
func (b *browser) eval(t *testing.T, expr string, v any) {
	t.Helper()
	id := b.id.Add(1)
	msg := map[string]any{"id": id, "method": "Runtime.evaluate",
		"params": map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true}}
	_ = b.page.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if err := b.page.WriteJSON(msg); err != nil {
		t.Fatalf("devtools: %v", err)
	}
	_ = b.page.SetReadDeadline(time.Now().Add(20 * time.Second))
	for {
		var res struct {
			ID     int64 `json:"id"`
			Result struct {
				Result           struct{ Value json.RawMessage }
				ExceptionDetails *struct{ Text string }
			}
			Error *struct{ Message string }
		}
		if err := b.page.ReadJSON(&res); err != nil {
			t.Fatalf("devtools: %v", err)
		}
		if res.ID != id {
			continue // an event
		}
		switch {
		case res.Error != nil:
			t.Fatalf("evaluate %s: %s", expr, res.Error.Message)
		case res.Result.ExceptionDetails != nil:
			t.Fatalf("evaluate %s: %s", expr, res.Result.ExceptionDetails.Text)
		}
		if v != nil && len(res.Result.Result.Value) > 0 {
			if err := json.Unmarshal(res.Result.Result.Value, v); err != nil {
				t.Fatalf("evaluate %s: %v", expr, err)
			}
		}
		return
	}
}

// waitJS polls a boolean expression until it holds, and fails after within.
func (b *browser) waitJS(t *testing.T, what, expr string, within time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	for {
		var ok bool
		b.eval(t, "(() => { try { return !!("+expr+") } catch (e) { return false } })()", &ok)
		if ok {
			return
		}
		select {
		case <-ctx.Done():
			var page string
			b.eval(t, `document.body.innerText.slice(0, 3000)`, &page)
			t.Fatalf("timed out after %s waiting for %s (%s); page:\n%s", within, what, expr, page)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
