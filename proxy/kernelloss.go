package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rs/zerolog"
)

// Kernel packet loss (loss with mode: kernel). The proxy marks the upstream
// sockets of the connections a fault selects (SO_MARK) and installs an
// nftables table, owned by chaosload and named after this process, whose
// rules drop a share of the packets of those connections, both ways, as they
// are received:
//
//	table inet chaosload_<pid>_<n>
//	  chain out (hook output): meta mark M  ct mark set meta mark   the connection remembers the mark
//	  chain in  (hook input):  ct mark M  ct direction original  numgen random mod 10000 < R  counter drop
//	                           ct mark M  ct direction reply     numgen random mod 10000 < R  counter drop
//
// The socket mark is on the proxy's own packets only; conntrack carries it
// to the server's replies (ct mark), so both directions lose packets.
// Dropping on input, after the packet crossed the (loopback) interface,
// is real loss: the sender's TCP sees nothing wrong and must time out and
// retransmit. This kernel has nftables but no netem (no tc qdisc delay or
// loss), so delay with correlation is not offered.
//
// Safety: chaosload only ever creates, reads and deletes tables named
// chaosload_<pid>_<n>; it never touches another table, chain or device. A
// table is deleted when its fault is reverted, when the proxy closes, and, if
// a crashed run left one behind, by the next chaosload process that starts a
// proxy (sweepStaleTables: the owning PID is no longer alive).

// nftTableRE matches the names of chaosload's tables and captures the PID.
var nftTableRE = regexp.MustCompile(`^chaosload_(\d+)_(\d+)$`)

// nftSeq numbers this process's tables.
var nftSeq atomic.Uint32

// nftTable is one kernel-loss fault's nftables table.
type nftTable struct {
	name string
	mark uint32

	mu      sync.Mutex
	removed bool
	drops   [2]uint64 // packets dropped upstream (original) and downstream (reply), read at removal
}

// errKernelLoss says what kernel loss needs.
var errKernelLoss = errors.New("loss with mode: kernel needs Linux, root (CAP_NET_ADMIN) and the nft command " +
	"(Debian package nftables; `make deps` installs it); use mode: model anywhere else")

// kernelLossAvailable reports why kernel loss cannot run here, or nil.
func kernelLossAvailable() error {
	if runtime.GOOS != "linux" {
		return fmt.Errorf("%w (this is %s)", errKernelLoss, runtime.GOOS)
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("%w (running as uid %d)", errKernelLoss, os.Geteuid())
	}
	if _, err := exec.LookPath("nft"); err != nil {
		return fmt.Errorf("%w (nft not found on PATH)", errKernelLoss)
	}
	return nil
}

// newNFTTable installs the table of a kernel-loss fault dropping rate of
// the marked connections' packets each way.
func newNFTTable(ctx context.Context, rate float64) (*nftTable, error) {
	if err := kernelLossAvailable(); err != nil {
		return nil, err
	}
	n := nftSeq.Add(1)
	pid := os.Getpid()
	t := &nftTable{
		name: fmt.Sprintf("chaosload_%d_%d", pid, n),
		// 0xc1 in the top byte, then 12 bits of the PID and 12 of the
		// table's number: distinct from other processes' marks in practice.
		mark: 0xc1<<24 | uint32(pid&0xfff)<<12 | n&0xfff,
	}
	r := int(rate*10000 + 0.5)
	var script strings.Builder
	fmt.Fprintf(&script, "table inet %s {\n", t.name)
	fmt.Fprintf(&script, "  chain out { type filter hook output priority -150; policy accept;\n")
	fmt.Fprintf(&script, "    meta mark %#x ct mark set meta mark\n  }\n", t.mark)
	fmt.Fprintf(&script, "  chain in { type filter hook input priority 0; policy accept;\n")
	for _, dir := range []string{"original", "reply"} {
		fmt.Fprintf(&script, "    ct mark %#x ct direction %s numgen random mod 10000 < %d counter drop\n", t.mark, dir, r)
	}
	script.WriteString("  }\n}\n")
	if _, err := runNFT(ctx, script.String(), "-f", "-"); err != nil {
		return nil, fmt.Errorf("install nftables table %s: %w", t.name, err)
	}
	return t, nil
}

// remove reads the table's drop counters and deletes it. It is idempotent;
// a failed deletion is retried on the next call.
func (t *nftTable) remove(ctx context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.removed {
		return nil
	}
	if d, err := t.readDrops(ctx); err == nil {
		t.drops = d
	}
	if _, err := runNFT(ctx, "", "delete", "table", "inet", t.name); err != nil {
		return fmt.Errorf("delete nftables table %s: %w", t.name, err)
	}
	t.removed = true
	return nil
}

// dropped returns the packets dropped each way, as read when the table was
// removed (zero before).
func (t *nftTable) dropped() [2]uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.drops
}

// readDrops reads the counters of the two drop rules.
func (t *nftTable) readDrops(ctx context.Context) ([2]uint64, error) {
	out, err := runNFT(ctx, "", "-j", "list", "table", "inet", t.name)
	if err != nil {
		return [2]uint64{}, err
	}
	var doc struct {
		Nftables []struct {
			Rule *struct {
				Expr []map[string]json.RawMessage `json:"expr"`
			} `json:"rule"`
		} `json:"nftables"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		return [2]uint64{}, fmt.Errorf("read nft's JSON: %w", err)
	}
	var drops [2]uint64
	for _, item := range doc.Nftables {
		if item.Rule == nil {
			continue
		}
		dir, packets := -1, uint64(0)
		for _, e := range item.Rule.Expr {
			if m, ok := e["match"]; ok {
				switch {
				case bytes.Contains(m, []byte(`"original"`)):
					dir = 0
				case bytes.Contains(m, []byte(`"reply"`)):
					dir = 1
				}
			}
			if c, ok := e["counter"]; ok {
				var ctr struct{ Packets uint64 }
				_ = json.Unmarshal(c, &ctr)
				packets = ctr.Packets
			}
		}
		if dir >= 0 {
			drops[dir] = packets
		}
	}
	return drops, nil
}

// runNFT runs nft with args, stdin as its input, within 10 s.
func runNFT(ctx context.Context, stdin string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "nft", args...)
	cmd.Stdin = strings.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("nft %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// setMark sets SO_MARK on a socket: its packets carry the mark from now on.
func setMark(tc *net.TCPConn, mark uint32) error {
	raw, err := tc.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := raw.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_MARK, int(mark))
		if mark != 0 {
			useDefaultCC(fd) // this leg loses packets: react as the direct path would
		}
	}); err != nil {
		return err
	}
	if serr != nil {
		return fmt.Errorf("set SO_MARK: %w", serr)
	}
	return nil
}

var sweepOnce sync.Once

// sweepStaleTablesOnce deletes, once per process, the tables of chaosload
// processes that are no longer alive (a crashed run). It does nothing
// without root or nft: then no chaosload process could have made one.
func sweepStaleTablesOnce(log zerolog.Logger) {
	sweepOnce.Do(func() {
		if kernelLossAvailable() != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := sweepStaleTables(ctx, log); err != nil {
			log.Warn().Err(err).Msg("remove nftables tables left by a crashed chaosload")
		}
	})
}

// sweepStaleTables deletes every chaosload_<pid>_<n> table whose PID is not
// a live process.
func sweepStaleTables(ctx context.Context, log zerolog.Logger) error {
	out, err := runNFT(ctx, "", "list", "tables", "inet")
	if err != nil {
		return err
	}
	var errs []error
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line) // "table inet NAME"
		if len(f) != 3 {
			continue
		}
		m := nftTableRE.FindStringSubmatch(f[2])
		if m == nil {
			continue
		}
		pid, _ := strconv.Atoi(m[1])
		if processAlive(pid) {
			continue
		}
		if _, err := runNFT(ctx, "", "delete", "table", "inet", f[2]); err != nil {
			errs = append(errs, err)
			continue
		}
		log.Warn().Str("table", f[2]).Int("pid", pid).Msg("removed the nftables table of a chaosload process that is gone")
	}
	return errors.Join(errs...)
}

// processAlive reports whether a process with that PID exists.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
