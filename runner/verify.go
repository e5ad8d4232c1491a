package runner

import (
	"context"
	"sync"

	"github.com/chaosload/chaosload/config"
	"github.com/chaosload/chaosload/load"
	"github.com/chaosload/chaosload/load/pgload"
)

// maxLostIDs bounds how many lost ids an outcome lists.
const maxLostIDs = 20

// ackSink keeps the acknowledged ids of the steps that a `verify:` checks.
type ackSink struct {
	mu    sync.Mutex
	steps map[string][]string
}

func newAckSink(exp *config.Experiment) *ackSink {
	a := &ackSink{steps: map[string][]string{}}
	for _, v := range exp.Verify {
		a.steps[v.Acknowledged] = nil
	}
	return a
}

// Record implements load.Sink.
func (a *ackSink) Record(res *load.Result) {
	if res.Ack == "" {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if ids, ok := a.steps[res.Step]; ok {
		a.steps[res.Step] = append(ids, res.Ack)
	}
}

func (a *ackSink) ids(step string) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.steps[step]...)
}

// verify checks every acknowledged write of each `verify:` entry.
func (r *run) verify(ctx context.Context) {
	for _, v := range r.exp.Verify {
		ids := r.m.acks.ids(v.Acknowledged)
		res := VerifyResult{Step: v.Acknowledged, Target: v.Target, Acknowledged: len(ids)}
		if v.HTTP != nil {
			res.Target = v.HTTP.URL
		}
		got, err := r.check(ctx, v, ids)
		if err != nil {
			res.Error = err.Error()
			r.out.Verify = append(r.out.Verify, res)
			continue
		}
		res.Lost, res.Unverified = len(got.missing), len(got.unverified)
		res.Verified = len(ids) - res.Lost - res.Unverified
		res.LostIDs = got.missing[:min(len(got.missing), maxLostIDs)]
		res.UnverifiedIDs = got.unverified[:min(len(got.unverified), maxLostIDs)]
		if res.Unverified > 0 {
			res.UnverifiedWhy = got.why
		}
		res.Passed = res.Lost == 0 && res.Unverified == 0
		r.out.Verify = append(r.out.Verify, res)
	}
}

// check sorts ids by what v finds, by SQL (found or missing) or by HTTP
// (found, missing or unverified).
func (r *run) check(ctx context.Context, v config.Verify, ids []string) (findings, error) {
	if v.HTTP != nil {
		return missingHTTP(ctx, *v.HTTP, ids)
	}
	t := r.exp.Target(v.Target)
	missing, err := pgload.Missing(ctx, t.DSN, v.Exists, ids)
	return findings{missing: missing}, err
}
