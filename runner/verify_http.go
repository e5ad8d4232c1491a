package runner

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chaosload/chaosload/config"
)

// verifyHTTPWorkers bounds the concurrent GETs of an HTTP verify.
const verifyHTTPWorkers = 8

// verifyHTTPTimeout bounds one GET.
const verifyHTTPTimeout = 5 * time.Second

// An id whose GET fails for availability reasons (no answer, 408, 429, a
// 5xx) is asked again, up to verifyHTTPAttempts times in all, after a pause
// that starts at verifyHTTPBackoff and doubles, or what the answer's
// Retry-After asks, at most verifyHTTPMaxPause.
const (
	verifyHTTPAttempts = 6
	verifyHTTPBackoff  = 100 * time.Millisecond
	verifyHTTPMaxPause = 2 * time.Second
)

// verdict is what one id's GETs established.
type verdict int

const (
	found      verdict = iota // the answer was spec.Expect
	missing                   // the service answered, and not spec.Expect: the write is not there
	unverified                // the service never answered for want of availability: nothing is known
)

// findings are the ids of a verify that were not found, by what the check
// established (found ids are not listed).
type findings struct {
	missing    []string // the write is not there
	unverified []string // the check could not tell (HTTP only)
	// why is the last availability failure of the first unverified id.
	why string
}

// missingHTTP GETs spec.URL for every id ({id} replaced, path-escaped) and
// returns, in ids' order, those whose answer is not spec.Expect (200 by
// default) — missing — and those the service did not answer at all, or
// answered 408, 429 or 5xx, on every attempt — unverified: an unavailable
// service proves nothing about a write, neither that it exists nor that it
// was lost. An id that makes no valid URL is an error of the verify.
func missingHTTP(ctx context.Context, spec config.VerifyHTTP, ids []string) (findings, error) {
	expect := spec.Expect
	if expect == 0 {
		expect = http.StatusOK
	}
	client := &http.Client{Timeout: verifyHTTPTimeout}
	defer client.CloseIdleConnections()
	verdicts := make([]verdict, len(ids))
	whys := make([]string, len(ids))
	errs := make([]error, len(ids))
	next := make(chan int)
	var wg sync.WaitGroup
	for range verifyHTTPWorkers {
		wg.Go(func() {
			for i := range next {
				u := strings.ReplaceAll(spec.URL, config.VerifyIDPlaceholder, url.PathEscape(ids[i]))
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
				if err != nil {
					errs[i] = err
					continue
				}
				verdicts[i], whys[i] = checkHTTP(ctx, client, req, expect)
			}
		})
	}
	feed(ctx, next, len(ids))
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return findings{}, err
	}
	var out findings
	for i, id := range ids {
		if errs[i] != nil {
			return findings{}, fmt.Errorf("verify id %s by HTTP: %w", id, errs[i])
		}
		switch verdicts[i] {
		case missing:
			out.missing = append(out.missing, id)
		case unverified:
			if out.unverified == nil {
				out.why = whys[i]
			}
			out.unverified = append(out.unverified, id)
		}
	}
	return out, nil
}

// feed sends 0..n-1 on next, then closes it; it stops early when ctx ends.
func feed(ctx context.Context, next chan<- int, n int) {
	defer close(next)
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			return
		}
	}
}

// checkHTTP sends req until the service answers for the write (expect:
// found; another status: missing), or verifyHTTPAttempts availability
// failures (unverified, with the last one's description).
func checkHTTP(ctx context.Context, c *http.Client, req *http.Request, expect int) (verdict, string) {
	pause := verifyHTTPBackoff
	var why string
	for attempt := 1; ; attempt++ {
		status, retryAfter, err := get(c, req)
		switch {
		case err != nil:
			why = err.Error()
		case status == expect:
			return found, ""
		case !unavailableStatus(status):
			return missing, ""
		default:
			why = fmt.Sprintf("answered %d %s", status, http.StatusText(status))
		}
		if attempt == verifyHTTPAttempts || !sleepCtx(ctx, min(max(pause, retryAfter), verifyHTTPMaxPause)) {
			return unverified, why
		}
		pause *= 2
	}
}

// unavailableStatus reports a status that says the service could not
// answer now (408, 429, 5xx), not whether the resource exists.
func unavailableStatus(status int) bool {
	return status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500
}

// get sends req (a GET without a body, so it can be sent again) and
// returns the status and the pause its Retry-After (in seconds) asks for,
// 0 without one.
func get(c *http.Client, req *http.Request) (int, time.Duration, error) {
	resp, err := c.Do(req)
	if err != nil {
		return 0, 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()
	var after time.Duration
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		after = time.Duration(s) * time.Second
	}
	return resp.StatusCode, after, nil
}

// sleepCtx waits d; false when ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
