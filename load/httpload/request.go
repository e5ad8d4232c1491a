package httpload

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/chaosload/chaosload/load"
)

// request is what a step sends, worked out once: method, URL, headers and
// encoded body. Its fields are only read after it is built, so VUs share it.
type request struct {
	method  string
	url     string
	header  http.Header // shared by every request of the step: never written after build
	host    string      // a Host header, which net/http takes from Request.Host
	body    []byte
	timeout time.Duration
}

// request returns step's request, building it on first use.
func (d *Driver) request(step *load.Step) (*request, error) {
	if r, ok := d.requests.Load(step); ok {
		return r.(*request), nil
	}
	r, err := newRequest(step)
	if err != nil {
		return nil, err
	}
	actual, _ := d.requests.LoadOrStore(step, r)
	return actual.(*request), nil
}

// newRequest works out step's request: method GET by default, `json`
// encoded with Content-Type application/json, else `body` as is, the step's
// timeout or load.DefaultHTTPTimeout.
func newRequest(step *load.Step) (*request, error) {
	h := step.HTTP
	if h == nil {
		return nil, fmt.Errorf("step %q has no http request", step.Name)
	}
	if _, err := url.ParseRequestURI(h.URL); err != nil {
		return nil, fmt.Errorf("step %q: url: %w", step.Name, err)
	}
	r := &request{method: h.Method, url: h.URL, header: http.Header{}, timeout: h.Timeout}
	if r.method == "" {
		r.method = http.MethodGet
	}
	if r.timeout <= 0 {
		r.timeout = load.DefaultHTTPTimeout
	}
	for k, v := range h.Headers {
		r.header.Set(k, v)
	}
	r.host = r.header.Get("Host")
	switch {
	case h.JSON != nil:
		b, err := json.Marshal(h.JSON)
		if err != nil {
			return nil, fmt.Errorf("step %q: encode json body: %w", step.Name, err)
		}
		r.body = b
		if r.header.Get("Content-Type") == "" {
			r.header.Set("Content-Type", "application/json")
		}
	case h.Body != "":
		r.body = []byte(h.Body)
	}
	return r, nil
}

// build makes one http.Request of r under ctx.
func (r *request) build(ctx context.Context) (*http.Request, error) {
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, r.url, body)
	if err != nil {
		return nil, err
	}
	req.Header = r.header
	if r.host != "" {
		req.Host = r.host
	}
	return req, nil
}
