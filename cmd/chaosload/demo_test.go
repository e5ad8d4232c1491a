package main

import (
	"net/http"
	"regexp"
	"strconv"
	"testing"
)

// TestDemoCommand: `chaosload demo` prints the stack's addresses and PIDs,
// the service answers, and an interrupt (the context ending, as on Ctrl-C)
// stops every process it started and exits 0.
func TestDemoCommand(t *testing.T) {
	l := startChaosload(t, nil, "demo", "--mode", "naive", "--log-level", "warn")
	l.waitLine(t, "redis ")
	printed := l.stdout()

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
	if code := l.interrupt(t); code != exitOK {
		t.Errorf("exit %d after an interrupt, want 0", code)
	}
	for _, p := range procs { // stopped by the command, not only by dying with it
		waitExited(t, p)
	}
}
