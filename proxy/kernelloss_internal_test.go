package proxy

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

// TestSweepRemovesOnlyTablesOfDeadChaosloadProcesses: the start-up sweep
// deletes a chaosload table whose PID is gone, keeps one of a live process
// (this one) and never touches a table chaosload did not name.
func TestSweepRemovesOnlyTablesOfDeadChaosloadProcesses(t *testing.T) {
	if err := kernelLossAvailable(); err != nil {
		t.Skip(err)
	}
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	tables := map[string]bool{ // name → should survive the sweep
		fmt.Sprintf("chaosload_%d_9001", dead.Process.Pid): false,
		fmt.Sprintf("chaosload_%d_9002", os.Getpid()):      true,
		"chaosload_test_foreign":                           true, // not chaosload's naming
	}
	for name := range tables {
		if _, err := runNFT(context.Background(), "", "add", "table", "inet", name); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { runNFT(context.Background(), "", "delete", "table", "inet", name) })
	}
	if err := sweepStaleTables(context.Background(), zerolog.Nop()); err != nil {
		t.Fatal(err)
	}
	out, err := runNFT(context.Background(), "", "list", "tables", "inet")
	if err != nil {
		t.Fatal(err)
	}
	for name, survives := range tables {
		if got := strings.Contains(string(out), " "+name+"\n"); got != survives {
			t.Errorf("table %s: present after the sweep = %v, want %v", name, got, survives)
		}
	}
}
