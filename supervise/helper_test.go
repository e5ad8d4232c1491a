package supervise

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// helperEnv, set in a re-executed test binary, makes TestMain act as one of
// the helper processes below instead of running the tests. Every helper
// ends by itself within helperLife.
const helperEnv = "SUPERVISE_TEST_HELPER"

const helperLife = 60 * time.Second

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(helper(mode))
	}
	goleak.VerifyTestMain(m)
}

func helper(mode string) int {
	switch mode {
	case "serve": // an HTTP server that announces its address; 200 at /ok, else 404
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Printf("serving on %s\n", ln.Addr())
		mux := http.NewServeMux()
		mux.HandleFunc("/ok", func(http.ResponseWriter, *http.Request) {})
		go func() { _ = http.Serve(ln, mux) }()
		time.Sleep(helperLife)
	case "stubborn": // ignores SIGTERM
		signal.Ignore(syscall.SIGTERM)
		fmt.Println("ignoring SIGTERM")
		time.Sleep(helperLife)
	case "fail": // says why on stderr and exits 3
		fmt.Fprintln(os.Stderr, "boom: no configuration file")
		return 3
	case "parent": // starts `sleep` under supervision and waits to be killed
		return parentHelper()
	case "forker": // starts `sleep` in its own process group and waits to be killed
		return forkerHelper()
	case "brief": // says so and exits 0
		fmt.Println("brief run")
	}
	return 0
}

// parentHelper starts `sleep` with a parent-death signal (as nobody when
// root, as PostgreSQL is), prints its PID, and sleeps until killed.
func parentHelper() int {
	cred, err := nobody()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	p, err := Start(Command{Name: "sleep", Path: "/bin/sleep", Args: []string{"300"},
		Log: os.Getenv("SUPERVISE_CHILD_LOG"), Credential: cred})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("child %d\n", p.PID())
	time.Sleep(helperLife)
	return 0
}

// forkerHelper starts `sleep` as a plain child (same process group, no
// parent-death signal), prints its PID and sleeps until killed: the sleep
// outlives it unless its group is killed.
func forkerHelper() int {
	cmd := exec.Command("/bin/sleep", "300")
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("child %d\n", cmd.Process.Pid)
	time.Sleep(helperLife)
	return 0
}

// nobody is the credential of user nobody when running as root, else nil.
func nobody() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		return nil, err
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
}

// startHelper starts this test binary as helper mode, stopped at cleanup.
func startHelper(tb testing.TB, mode string, c Command, env ...string) *Process {
	tb.Helper()
	exe, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	dir := tb.TempDir()
	c.Name, c.Path, c.Log = mode+" helper", exe, filepath.Join(dir, mode+".log")
	c.Env = append(append(os.Environ(), helperEnv+"="+mode, "SUPERVISE_CHILD_LOG="+filepath.Join(dir, "child.log")), env...)
	p, err := Start(c)
	if err != nil {
		tb.Fatalf("Start: %v", err)
	}
	tb.Cleanup(func() { _ = p.Stop() })
	return p
}

// waitGone waits until pid has exited (no such process, or a zombie
// waiting to be reaped); the deadline only catches a hang.
func waitGone(tb testing.TB, pid int) {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !gone(pid) {
		if time.Now().After(deadline) {
			tb.Fatalf("process %d still running 30 s after it should have died", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// gone reports whether pid no longer runs: /proc has no entry, or the
// process is a zombie.
func gone(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// the state follows the parenthesised command name
	s := string(stat)
	rest := s[strings.LastIndexByte(s, ')')+1:]
	f := strings.Fields(rest)
	return len(f) > 0 && (f[0] == "Z" || f[0] == "X")
}

// uidOf is the real uid of pid, from /proc.
func uidOf(tb testing.TB, pid int) int {
	tb.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		tb.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "Uid:" {
			uid, _ := strconv.Atoi(f[1])
			return uid
		}
	}
	tb.Fatalf("no Uid line in /proc/%d/status", pid)
	return -1
}
