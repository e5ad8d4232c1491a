package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// PoolCounters reads the service's PostgreSQL pool counters from its
// /healthz (cumulative since the service process started; a restarted
// service starts them again): the acquires, those that found the pool
// empty and waited, and how long those waited, summed.
func (st *Stack) PoolCounters(ctx context.Context) (acquires, emptyWaits int64, emptyWait time.Duration, err error) {
	svc := st.Service()
	if svc == nil {
		return 0, 0, 0, errors.New("demo stack: no service started")
	}
	ctx, cancel := context.WithTimeout(ctx, 2*healthTimeout+time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+svc.Addr()+"/healthz", nil)
	if err != nil {
		return 0, 0, 0, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("demo service: read pool counters: %w", err)
	}
	defer res.Body.Close()
	var h health
	if err := json.NewDecoder(res.Body).Decode(&h); err != nil {
		return 0, 0, 0, fmt.Errorf("demo service: read pool counters: %w", err)
	}
	p := h.Pool
	return p.Acquires, p.EmptyWaits, time.Duration(p.EmptyWaitMS * float64(time.Millisecond)), nil
}
