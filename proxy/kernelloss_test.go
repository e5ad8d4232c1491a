package proxy_test

import (
	"context"
	"crypto/sha256"
	"io"
	"os"
	"os/exec"
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

// TestKernelLoss: 10% real packet loss on a loopback connection. A
// request/response stream shows retransmission stalls (≥ 200 ms, Linux's
// minimum RTO), a bulk transfer arrives byte for byte, packets were dropped
// in both directions (the drop counters of the table), and after the revert
// no chaosload table remains.
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
	if got := chaosloadTables(t); len(got) != len(before)+1 {
		t.Fatalf("tables while applied: %v (before: %v)", got, before)
	}

	// 60 round trips at 10% loss each way: the chance that none loses a
	// packet is 0.81^60, about 3 in a million.
	var stalls int
	var worst time.Duration
	start := time.Now()
	for range 60 {
		d := mustRoundTrip(t, c)
		worst = max(worst, d)
		if d >= 200*time.Millisecond {
			stalls++
		}
	}
	t.Logf("request/response: %d stalls ≥ 200ms, worst %v, in %v", stalls, worst, time.Since(start))
	if stalls == 0 {
		t.Error("no retransmission stall at 10% kernel loss")
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
	t.Logf("dropped %d packets towards the upstream, %d back", st.DroppedUp, st.DroppedDown)
	if st.DroppedUp == 0 || st.DroppedDown == 0 {
		t.Errorf("dropped %d up, %d down: want drops in both directions", st.DroppedUp, st.DroppedDown)
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
