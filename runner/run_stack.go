package runner

import "fmt"

// AckBeforeCommitter is a Stack whose service can be told to acknowledge
// writes before they are committed, losing some (`stack: {ackBeforeCommit:
// true}`); demo.Launcher is one.
type AckBeforeCommitter interface {
	SetAckBeforeCommit(on bool)
}

// ProcessLister is a Stack that names its processes by role, for the
// resource monitor (`monitor: {stack: true}`); demo.Launcher is one.
type ProcessLister interface {
	Processes() map[string]int
}

// wrapStack makes the stack factory configure what the experiment's
// `stack:` section asks beyond its mode.
func (r *run) wrapStack() {
	mk := r.opts.Stack
	if mk == nil || r.exp.Stack == nil || !r.exp.Stack.AckBeforeCommit {
		return
	}
	r.opts.Stack = func(name string) (Stack, error) {
		st, err := mk(name)
		if err != nil {
			return nil, err
		}
		a, ok := st.(AckBeforeCommitter)
		if !ok {
			_ = st.Close()
			return nil, fmt.Errorf("stack %q cannot acknowledge before commit (ackBeforeCommit)", name)
		}
		a.SetAckBeforeCommit(true)
		return st, nil
	}
}
