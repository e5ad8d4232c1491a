package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDemoCommand: `chaosload demo` prints the stack's addresses and PIDs,
// the service answers, and an interrupt (the context ending, as on Ctrl-C)
// stops every process it started and exits 0.
func TestDemoCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo stack")
	}
	t.Parallel()
	ctx, interrupt := context.WithCancel(context.Background())
	defer interrupt()
	out, w := io.Pipe()
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, []string{"demo", "--mode", "naive", "--log-level", "warn"}, w, io.Discard)
		w.Close()
	}()
	printed := readUntil(t, out, "redis ")
	go func() { _, _ = io.Copy(io.Discard, out) }()

	api := regexp.MustCompile(`api\s+(http://\S+)`).FindStringSubmatch(printed)
	pids := regexp.MustCompile(`pid (\d+)`).FindAllStringSubmatch(printed, -1)
	if api == nil || len(pids) != 3 {
		t.Fatalf("want the api address and three PIDs (service, postgres, redis):\n%s", printed)
	}
	resp, err := http.Get(api[1] + "/api/products")
	if err != nil {
		t.Fatalf("GET products: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET products: %s", resp.Status)
	}
	var procs []proc
	for _, m := range pids {
		pid, _ := strconv.Atoi(m[1])
		st, ok := procStat(pid)
		if !ok || dead(st.state) {
			t.Fatalf("pid %d not running while the stack is up:\n%s", pid, printed)
		}
		procs = append(procs, proc{pid, st.start})
	}
	interrupt()
	select {
	case c := <-code:
		if c != exitOK {
			t.Errorf("exit %d after an interrupt, want 0", c)
		}
	case <-time.After(time.Minute): // only catches a hang
		t.Fatal("demo still running a minute after the interrupt")
	}
	for _, p := range procs { // stopped by the command, not only by dying with it
		waitExited(t, p)
	}
}

// readUntil reads lines from r until one contains want and returns them
// all; the deadline only catches a hang.
func readUntil(t *testing.T, r io.Reader, want string) string {
	t.Helper()
	found := make(chan string, 1)
	go func() {
		var b strings.Builder
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			b.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), want) {
				break
			}
		}
		found <- b.String()
	}()
	select {
	case s := <-found:
		if !strings.Contains(s, want) {
			t.Fatalf("output ended without %q:\n%s", want, s)
		}
		return s
	case <-time.After(2 * time.Minute):
		t.Fatalf("no %q within 2 minutes", want)
		return ""
	}
}
