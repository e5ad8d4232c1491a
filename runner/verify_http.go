package runner

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/chaosload/chaosload/config"
)

// verifyHTTPWorkers bounds the concurrent GETs of an HTTP verify.
const verifyHTTPWorkers = 8

// verifyHTTPTimeout bounds one GET (retried once on a transport error).
const verifyHTTPTimeout = 5 * time.Second

// missingHTTP GETs spec.URL for every id ({id} replaced, path-escaped) and
// returns, in ids' order, those whose answer is not spec.Expect (200 by
// default). A transport error on an id, after one retry, is an error of the
// verify: it proves nothing about the write.
func missingHTTP(ctx context.Context, spec config.VerifyHTTP, ids []string) ([]string, error) {
	expect := spec.Expect
	if expect == 0 {
		expect = http.StatusOK
	}
	client := &http.Client{Timeout: verifyHTTPTimeout}
	defer client.CloseIdleConnections()
	found := make([]bool, len(ids))
	errs := make([]error, len(ids))
	next := make(chan int)
	var wg sync.WaitGroup
	for range verifyHTTPWorkers {
		wg.Go(func() {
			for i := range next {
				u := strings.ReplaceAll(spec.URL, config.VerifyIDPlaceholder, url.PathEscape(ids[i]))
				found[i], errs[i] = statusIs(ctx, client, u, expect)
			}
		})
	}
	feed(ctx, next, len(ids))
	wg.Wait()
	var missing []string
	for i, id := range ids {
		if errs[i] != nil {
			return nil, fmt.Errorf("verify id %s by HTTP: %w", id, errs[i])
		}
		if !found[i] {
			missing = append(missing, id)
		}
	}
	return missing, ctx.Err()
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

// statusIs reports whether GET u answers expect.
func statusIs(ctx context.Context, c *http.Client, u string, expect int) (bool, error) {
	var err error
	for range 2 {
		var req *http.Request
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return false, err
		}
		var resp *http.Response
		resp, err = c.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
			_ = resp.Body.Close()
			return resp.StatusCode == expect, nil
		}
		if ctx.Err() != nil {
			break
		}
	}
	return false, err
}
