package runner

import (
	"fmt"

	"github.com/chaosload/chaosload/config"
)

// AckBeforeCommitter is a Stack whose service can be told to acknowledge
// writes before they are committed, losing some (`stack: {ackBeforeCommit:
// true}`); demo.Stack is one.
type AckBeforeCommitter interface {
	SetAckBeforeCommit(on bool)
}

// ProcessLister is a Stack that names its processes by role, for the
// resource monitor (`monitor: {stack: true}`); demo.Stack is one.
type ProcessLister interface {
	Processes() map[string]int
}

// wrapStack makes the stack factory configure what the experiment's
// `stack:` section asks beyond its mode.
func (r *run) wrapStack() {
	mk, s := r.opts.Stack, r.exp.Stack
	if mk == nil || s == nil || (!s.AckBeforeCommit && s.Restart == "" && s.PostgresDisk == 0 && s.Replicas == 0) {
		return
	}
	r.opts.Stack = func(name string) (Stack, error) {
		st, err := mk(name)
		if err != nil {
			return nil, err
		}
		if err := configureStack(st, name, s); err != nil {
			_ = st.Close()
			return nil, err
		}
		return st, nil
	}
}

// configureStack sets what s asks on st.
func configureStack(st Stack, name string, s *config.Stack) error {
	if s.AckBeforeCommit {
		a, ok := st.(AckBeforeCommitter)
		if !ok {
			return fmt.Errorf("stack %q cannot acknowledge before commit (ackBeforeCommit)", name)
		}
		a.SetAckBeforeCommit(true)
	}
	if s.Restart != "" {
		rs, ok := st.(RestartStack)
		if !ok {
			return fmt.Errorf("stack %q has no restart policy to set (restart)", name)
		}
		if err := rs.SetRestart(s.Restart); err != nil {
			return err
		}
	}
	if s.Replicas != 0 {
		rs, ok := st.(ReplicaStack)
		if !ok {
			return fmt.Errorf("stack %q cannot run replicas (replicas)", name)
		}
		rs.SetReplicas(s.Replicas)
	}
	if s.PostgresDisk != 0 {
		d, ok := st.(DiskStack)
		if !ok {
			return fmt.Errorf("stack %q cannot give PostgreSQL a disk of its own (postgresDisk)", name)
		}
		d.SetPostgresDisk(int64(s.PostgresDisk))
	}
	return nil
}
