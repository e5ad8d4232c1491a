package httpload

import (
	"context"
	"net/http/httptrace"
	"sync/atomic"

	"github.com/chaosload/chaosload/load"
)

// vuState is the driver's per-VU state: a trace, built once, that notes when
// the request got its connection, i.e. when it is actually sent.
type vuState struct {
	sent  atomic.Int64 // clock offset of GotConn; -1 before it
	hooks *httptrace.ClientTrace
	clock load.Clock
}

// stateKey keys vuState in load.VU.State.
type stateKey struct{}

// stateOf returns vu's state, making it on first use.
func stateOf(vu *load.VU) *vuState {
	if s, ok := vu.State[stateKey{}].(*vuState); ok {
		return s
	}
	s := &vuState{clock: vu.Clock}
	s.hooks = &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) {
		s.sent.Store(int64(s.clock.Now()))
	}}
	vu.State[stateKey{}] = s
	return s
}

// trace returns ctx carrying the VU's trace.
func (s *vuState) trace(ctx context.Context) context.Context {
	return httptrace.WithClientTrace(ctx, s.hooks)
}
