package proxy_test

import (
	"context"
	"crypto/sha256"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chaosload/chaosload/faults"
	"github.com/chaosload/chaosload/proxy"
)

// kernelLossOK says why kernel loss cannot be tested here, or nil.
func kernelLossOK() error {
	if os.Geteuid() != 0 {
		return errSkip("kernel loss needs root (CAP_NET_ADMIN)")
	}
	if _, err := exec.LookPath("nft"); err != nil {
		return errSkip("kernel loss needs the nft command (make deps installs nftables)")
	}
	return nil
}

type errSkip string

func (e errSkip) Error() string { return string(e) }

// chaosloadTables lists the nftables tables named chaosload_*.
func chaosloadTables(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("nft", "list", "tables").CombinedOutput()
	if err != nil {
		t.Fatalf("nft list tables: %v: %s", err, out)
	}
	var names []string
	mine := "chaosload_" + strconv.Itoa(os.Getpid()) + "_"
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) == 3 && strings.HasPrefix(f[2], mine) {
			names = append(names, f[2])
		}
	}
	return names
}

// tableDrops reads the drop counters of table name's two rules: packets
// dropped towards the upstream (ct direction original) and back (reply).
func tableDrops(t *testing.T, name string) (up, down uint64) {
	t.Helper()
	out, err := exec.Command("nft", "list", "table", "inet", name).CombinedOutput()
	if err != nil {
		t.Fatalf("nft list table %s: %v: %s", name, err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		i := slices.Index(f, "packets")
		if i < 0 || i+1 >= len(f) {
			continue
		}
		n, err := strconv.ParseUint(f[i+1], 10, 64)
		if err != nil {
			t.Fatalf("nft list table %s: %q: %v", name, line, err)
		}
		switch {
		case slices.Contains(f, "original"):
			up = n
		case slices.Contains(f, "reply"):
			down = n
		}
	}
	return up, down
}

// TestKernelLoss: 10% real packet loss on a loopback connection. Round
// trips go on until the table has dropped packets both ways and a round trip
// stalled ≥ 200 ms (Linux's minimum RTO: the sender timed out and
// retransmitted): events, counted, not a number of round trips that makes
// drops likely (60 round trips once dropped 10 packets one way and none the
// other). The bound only catches a fault that never bites: 600 round trips
// without a drop one way has a chance near 0.9^600 (1e-27). Then a bulk
// transfer arrives byte for byte, and after the revert the proxy reports the
// drops and no chaosload table remains.
func TestKernelLoss(t *testing.T) {
	if err := kernelLossOK(); err != nil {
		t.Skip(err)
	}
	before := chaosloadTables(t)
	up := serveTCP(t, echo)
	p := startProxy(t, proxy.Config{Name: "kloss", Upstream: up.Addr(), Seed: 1})
	c := dial(t, p.Addr())
	mustRoundTrip(t, c)
	undo, err := p.Inject(context.Background(), "kloss", faults.LossSpec{Rate: 0.10, Mode: faults.Kernel}, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { undo(context.Background()) })
	tables := chaosloadTables(t)
	if len(tables) != len(before)+1 {
		t.Fatalf("tables while applied: %v (before: %v)", tables, before)
	}
	var table string // the fault's table: the one that was not there before
	for _, name := range tables {
		if !slices.Contains(before, name) {
			table = name
		}
	}

	var stalls, trips int
	var worst time.Duration
	var dropsUp, dropsDown uint64
	start := time.Now()
	for trips < 600 && (stalls == 0 || dropsUp == 0 || dropsDown == 0) {
		d := mustRoundTrip(t, c)
		trips++
		worst = max(worst, d)
		if d >= 200*time.Millisecond {
			stalls++
		}
		if trips%10 == 0 {
			dropsUp, dropsDown = tableDrops(t, table)
		}
	}
	t.Logf("request/response: %d round trips, %d stalls ≥ 200ms, worst %v, dropped %d up and %d down, in %v",
		trips, stalls, worst, dropsUp, dropsDown, time.Since(start))
	if stalls == 0 || dropsUp == 0 || dropsDown == 0 {
		t.Fatalf("after %d round trips at 10%% kernel loss: %d stalls, dropped %d up and %d down: want each > 0",
			trips, stalls, dropsUp, dropsDown)
	}

	bulk := dial(t, p.Addr())
	payload := randomBytes(t, 256<<10)
	bulk.SetDeadline(time.Now().Add(60 * time.Second))
	go func() { bulk.Write(payload); bulk.CloseWrite() }()
	got, err := io.ReadAll(bulk)
	if err != nil || sha256.Sum256(got) != sha256.Sum256(payload) {
		t.Fatalf("bulk through kernel loss: %d of %d bytes, %v, or they differ", len(got), len(payload), err)
	}

	if err := undo(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := p.Stats().Faults["kloss"]
	t.Logf("the proxy reports %d packets dropped towards the upstream, %d back", st.DroppedUp, st.DroppedDown)
	if st.DroppedUp < dropsUp || st.DroppedDown < dropsDown {
		t.Errorf("the proxy reports %d up, %d down dropped: want at least the %d and %d counted while applied",
			st.DroppedUp, st.DroppedDown, dropsUp, dropsDown)
	}
	if got := chaosloadTables(t); len(got) != len(before) {
		t.Errorf("tables after revert: %v, want %v", got, before)
	}
	mustRoundTrip(t, c) // the connection carries on once the table is gone
}

// TestKernelLossTableGoesWithTheProxy: the table carries the owner's PID,
// and closing the proxy with the fault still applied removes it.
func TestKernelLossTableGoesWithTheProxy(t *testing.T) {
	if err := kernelLossOK(); err != nil {
		t.Skip(err)
	}
	up := serveTCP(t, echo)
	p, err := proxy.Listen(proxy.Config{Name: "kloss", Upstream: up.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Inject(context.Background(), "kloss", faults.LossSpec{Rate: 0.01, Mode: faults.Kernel}, 1); err != nil {
		t.Fatal(err)
	}
	prefix := "chaosload_" + strconv.Itoa(os.Getpid()) + "_"
	mine := func() (n int) {
		for _, name := range chaosloadTables(t) {
			if strings.HasPrefix(name, prefix) {
				n++
			}
		}
		return n
	}
	if mine() != 1 {
		t.Fatalf("no table named %s*: %v", prefix, chaosloadTables(t))
	}
	p.Close()
	if n := mine(); n != 0 {
		t.Errorf("%d tables of this process after Close: %v", n, chaosloadTables(t))
	}
}
