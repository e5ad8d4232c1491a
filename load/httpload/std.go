package httpload

import (
	"context"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"time"

	"github.com/chaosload/chaosload/load"
)

// doStd performs r through net/http: https:// URLs (HTTP/2 when the server
// offers it), and every URL with Config.NetHTTP. Start is when the request
// got its connection (httptrace GotConn); a connection that was not reused
// counts in NewConns.
func (d *Driver) doStd(ctx context.Context, vu *load.VU, st *vuState, r *request, u *url.URL, res *load.Result) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	req, pay, err := d.stdRequest(httptrace.WithClientTrace(ctx, st.trace), vu, st, r, u)
	if err != nil {
		failNow(res, vu, load.ClassOther, err)
		return
	}
	defer pay.close()
	res.Start = vu.Clock.Now()
	st.sent.Store(-1)
	resp, err := d.stdClient(st, r).Do(req)
	if sent := st.sent.Load(); sent >= 0 {
		res.Start = time.Duration(sent)
		if !st.reused.Load() {
			res.NewConns = 1
		}
	}
	if err != nil {
		fail(ctx, res, err)
		return
	}
	res.BytesOut = pay.n
	d.stdRead(ctx, vu, st, r, resp, res)
}

// stdRequest builds one http.Request of r.
func (d *Driver) stdRequest(ctx context.Context, vu *load.VU, st *vuState, r *request, u *url.URL) (*http.Request, payload, error) {
	pay, buf, err := r.body.open(vu, st.body)
	st.body = buf[:0]
	if err != nil {
		return nil, pay, err
	}
	req := &http.Request{Method: r.method, URL: u, Header: make(http.Header, len(r.headers)+1), Host: u.Host,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
	req.Header.Set("User-Agent", "chaosload")
	for _, h := range r.headers {
		v, err := h.value.String(vu)
		if err != nil {
			pay.close()
			return nil, pay, err
		}
		req.Header[h.name] = []string{v}
	}
	if r.host != nil {
		if req.Host, err = r.host.String(vu); err != nil {
			pay.close()
			return nil, pay, err
		}
	}
	if body := pay.reader(); body != nil {
		req.Body, req.ContentLength = io.NopCloser(body), pay.n
	} else {
		req.Body = http.NoBody
	}
	return req.WithContext(ctx), pay, nil
}

// stdClient is the VU's own transport for a newConnection step (its
// connections closed when the iteration ends), else the shared one.
func (d *Driver) stdClient(st *vuState, r *request) *http.Client {
	if !r.newConn {
		return d.client
	}
	if st.ownStd == nil {
		st.ownStd = d.newTransport(0)
	}
	return &http.Client{Transport: st.ownStd, CheckRedirect: noRedirect}
}

// stdRead reads and closes the response body, and finishes res from it.
func (d *Driver) stdRead(ctx context.Context, vu *load.VU, st *vuState, r *request, resp *http.Response, res *load.Result) {
	defer resp.Body.Close()
	res.Status = resp.StatusCode
	st.kept = st.kept[:0]
	var err error
	if r.keepBody {
		var n int64
		st.kept, n, err = readKept(resp.Body, st.kept)
		res.BytesIn = n
	}
	if err == nil {
		var n int64
		n, err = io.Copy(io.Discard, resp.Body)
		res.BytesIn += n
	}
	if err == nil && ctx.Err() != nil {
		err = ctx.Err() // an HTTP/2 stream cut by the deadline can read as a clean end
	}
	if err != nil {
		fail(ctx, res, err)
		return
	}
	finish(res, vu, r, resp.StatusCode, st.kept, resp.Header.Get)
}

// readKept appends up to load.MaxExtractBody bytes of body to kept.
func readKept(body io.Reader, kept []byte) ([]byte, int64, error) {
	var n int64
	for len(kept) < load.MaxExtractBody {
		if cap(kept) == len(kept) {
			kept = append(kept, 0)[:len(kept)]
		}
		m, err := body.Read(kept[len(kept):min(cap(kept), load.MaxExtractBody)])
		kept = kept[:len(kept)+m]
		n += int64(m)
		if err == io.EOF {
			return kept, n, nil
		}
		if err != nil {
			return kept, n, err
		}
	}
	return kept, n, nil
}
