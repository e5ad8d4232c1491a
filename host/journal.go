package host

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/chaosload/chaosload/supervise"
	"github.com/rs/zerolog"
)

// journalPattern names the journal directories in os.TempDir().
const journalPattern = "chaosload-undo-"

// guardScript is the guard: it reads its standard input (chaosload's end
// of a pipe) until it closes, at chaosload's exit or death, then runs every
// undo entry left in the journal and removes it. It ignores SIGINT, SIGTERM
// and SIGHUP: a Ctrl-C or a closed terminal ends chaosload, and the guard
// must outlive it.
const guardScript = `trap '' INT TERM HUP
cat >/dev/null
for f in "$1"/*.undo; do [ -f "$f" ] && sh "$f" >/dev/null 2>&1; done
rm -rf "$1"
`

// Journal is this process's record of what it changed on the host and has
// not undone yet, watched by the guard. Use the one Guarded returns.
type Journal struct {
	dir   string
	pipe  *os.File // the write end of the guard's standard input
	guard *exec.Cmd
	seq   atomic.Uint64
}

var (
	guardOnce    sync.Once
	guardJournal *Journal
	guardErr     error
)

// Guarded returns this process's journal, starting its guard the first
// time; before that it runs the undo entries of journals left by chaosload
// processes that are gone (Sweep). The guard lives until this process
// exits.
func Guarded(logger zerolog.Logger) (*Journal, error) {
	guardOnce.Do(func() {
		if n := Sweep(os.TempDir()); n > 0 {
			logger.Warn().Int("journals", n).Msg("undid what chaosload processes that are gone left on this host (paused processes, cgroups, filler files)")
		}
		guardJournal, guardErr = startGuard(os.TempDir())
	})
	return guardJournal, guardErr
}

// startGuard makes a journal directory in tmp and starts its guard.
func startGuard(tmp string) (*Journal, error) {
	dir, err := supervise.MkdirTemp(tmp, journalPattern)
	if err != nil {
		return nil, fmt.Errorf("make the undo journal: %w", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("undo journal: %w", err)
	}
	defer r.Close()
	cmd := exec.Command("/bin/sh", "-c", guardScript, "chaosload-guard", dir)
	cmd.Stdin = r
	// a session of its own: no terminal's signals, no process group a
	// caller might kill along with chaosload
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		_ = w.Close()
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("start the undo guard (/bin/sh): %w", err)
	}
	return &Journal{dir: dir, pipe: w, guard: cmd}, nil
}

// Dir is the journal's directory.
func (j *Journal) Dir() string { return j.dir }

// GuardPID is the guard's process id.
func (j *Journal) GuardPID() int { return j.guard.Process.Pid }

// add records undo (a shell script) before the change it undoes is made,
// and returns the entry's path for done.
func (j *Journal) add(undo string) (string, error) {
	path := filepath.Join(j.dir, fmt.Sprintf("%d.undo", j.seq.Add(1)))
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(undo), 0o600); err != nil {
		return "", fmt.Errorf("write undo entry: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("write undo entry: %w", err)
	}
	return path, nil
}

// done removes an entry once its change is undone.
func (j *Journal) done(entry string) error {
	if err := os.Remove(entry); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove undo entry: %w", err)
	}
	return nil
}

// Entries lists the undo entries not done yet.
func (j *Journal) Entries() []string {
	m, _ := filepath.Glob(filepath.Join(j.dir, "*.undo"))
	return m
}

// Sweep runs the undo entries of every journal in dir whose chaosload
// process is gone and whose guard did not (it was killed too), removes
// those journals, and returns how many it swept.
func Sweep(dir string) int {
	journals, _ := filepath.Glob(filepath.Join(dir, journalPattern+"*"))
	n := 0
	for _, d := range journals {
		if !supervise.OwnerGone(d) {
			continue
		}
		entries, _ := filepath.Glob(filepath.Join(d, "*.undo"))
		for _, e := range entries {
			_ = exec.Command("/bin/sh", e).Run()
		}
		if os.RemoveAll(d) == nil {
			n++
		}
	}
	return n
}

// quote quotes s for the shell.
func quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
