package httpload

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chaosload/chaosload/load"
)

// request is what a step sends, worked out once: method, URL, headers,
// body, timeout, expectations. Parts that hold run-time variables are kept
// as templates and rendered per operation; the rest is rendered once (for
// the HTTP/1.1 client, the whole head when nothing in it varies). Its fields
// are only read after it is built, so VUs share it.
type request struct {
	step    *load.Step
	method  string
	url     *url.URL       // when the URL has no variable
	urlT    *load.Template // when it has
	headers []header       // in a fixed order; Host and Content-Length left out
	host    *load.Template // a Host header, else nil (the URL's host)
	body    body
	timeout time.Duration
	expect  []int
	newConn bool
	// keepBody: ack or a body extract reads the response body;
	// keepHeaders: a header extract reads its headers.
	keepBody, keepHeaders bool
	// head is the HTTP/1.1 request head when no part of it varies (nil
	// otherwise); it ends with the blank line, Content-Length included.
	head []byte
}

// header is one request header whose value may hold variables.
type header struct {
	name  string // canonical
	value *load.Template
}

// newRequest works out step's request: method GET by default, `json`
// encoded with Content-Type application/json, else `body`, `bodyFile` or
// `bodySize`; the step's timeout or load.DefaultHTTPTimeout.
func newRequest(step *load.Step) (*request, error) {
	h := step.HTTP
	if h == nil {
		return nil, fmt.Errorf("step %q has no http request", step.Name)
	}
	r := &request{step: step, method: cmpOr(h.Method, http.MethodGet), timeout: h.Timeout, newConn: h.NewConnection}
	if r.timeout <= 0 {
		r.timeout = load.DefaultHTTPTimeout
	}
	if h.Expect != nil {
		r.expect = slices.Clone(h.Expect.Status)
	}
	_, r.keepBody = step.Extracts()
	r.keepBody = r.keepBody || step.Ack != ""
	for _, x := range step.Extract {
		r.keepHeaders = r.keepHeaders || x.Header != ""
	}
	if err := r.compileURL(h.URL); err != nil {
		return nil, fmt.Errorf("step %q: url: %w", step.Name, err)
	}
	if err := r.compileHeaders(h.Headers); err != nil {
		return nil, fmt.Errorf("step %q: %w", step.Name, err)
	}
	b, err := newBody(h)
	if err != nil {
		return nil, fmt.Errorf("step %q: %w", step.Name, err)
	}
	r.body = b
	if h.JSON != nil && !r.hasHeader("Content-Type") {
		r.headers = append(r.headers, header{"Content-Type", static("application/json")})
	}
	r.head = r.staticHead()
	return r, nil
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// static is a template of fixed text.
func static(s string) *load.Template {
	t, _ := load.ParseTemplate(strings.ReplaceAll(s, "${", "$${"))
	return t
}

// compileURL parses the URL now when it is fixed, else keeps its template.
func (r *request) compileURL(raw string) error {
	t, err := load.ParseTemplate(raw)
	if err != nil {
		return err
	}
	if s, ok := t.Static(); ok {
		u, err := parseURL(s)
		r.url = u
		return err
	}
	r.urlT = t
	return nil
}

// parseURL parses an absolute http(s) URL.
func parseURL(s string) (*url.URL, error) {
	u, err := url.ParseRequestURI(s)
	if err != nil {
		return nil, err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%q is not an absolute http:// or https:// URL", s)
	}
	return u, nil
}

// compileHeaders compiles header values, in name order; Host is kept apart.
func (r *request) compileHeaders(hs map[string]string) error {
	names := make([]string, 0, len(hs))
	for k := range hs {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		t, err := load.ParseTemplate(hs[k])
		if err != nil {
			return fmt.Errorf("header %s: %w", k, err)
		}
		name := textproto.CanonicalMIMEHeaderKey(strings.TrimSpace(k))
		switch name {
		case "Host":
			r.host = t
		case "Content-Length", "Transfer-Encoding", "Connection":
			return fmt.Errorf("header %s is set by chaosload, not by a step", name)
		default:
			r.headers = append(r.headers, header{name, t})
		}
	}
	return nil
}

func (r *request) hasHeader(name string) bool {
	return slices.ContainsFunc(r.headers, func(h header) bool { return h.name == name })
}

// staticHead renders the whole HTTP/1.1 head once when nothing in it
// varies; nil otherwise.
func (r *request) staticHead() []byte {
	if r.url == nil || r.url.Scheme != "http" || r.host != nil && !isStatic(r.host) {
		return nil
	}
	for _, h := range r.headers {
		if !isStatic(h.value) {
			return nil
		}
	}
	n, ok := r.body.length()
	if !ok {
		return nil
	}
	head, _ := r.appendHead(nil, nil, r.url, n)
	return head
}

func isStatic(t *load.Template) bool {
	_, ok := t.Static()
	return ok
}

// target returns the URL of one operation.
func (r *request) target(vu *load.VU, st *vuState) (*url.URL, error) {
	if r.url != nil {
		return r.url, nil
	}
	b, err := r.urlT.Append(st.scratch[:0], vu)
	st.scratch = b[:0]
	if err != nil {
		return nil, err
	}
	return parseURL(string(b))
}

// appendHead renders the HTTP/1.1 request head for u and a body of n bytes
// onto dst: request line, Host, User-Agent, the step's headers,
// Content-Length when there is a body (or the method usually has one), the
// blank line.
func (r *request) appendHead(dst []byte, vu *load.VU, u *url.URL, n int64) ([]byte, error) {
	dst = append(dst, r.method...)
	dst = append(dst, ' ')
	dst = append(dst, u.RequestURI()...)
	dst = append(dst, " HTTP/1.1\r\nHost: "...)
	var err error
	if r.host != nil {
		if dst, err = r.host.Append(dst, vu); err != nil {
			return dst, err
		}
	} else {
		dst = append(dst, u.Host...)
	}
	dst = append(dst, "\r\nUser-Agent: chaosload\r\n"...)
	for _, h := range r.headers {
		dst = append(dst, h.name...)
		dst = append(dst, ": "...)
		if dst, err = h.value.Append(dst, vu); err != nil {
			return dst, err
		}
		dst = append(dst, "\r\n"...)
	}
	if n > 0 || r.method == "POST" || r.method == "PUT" || r.method == "PATCH" {
		dst = append(dst, "Content-Length: "...)
		dst = strconv.AppendInt(dst, n, 10)
		dst = append(dst, "\r\n"...)
	}
	return append(dst, "\r\n"...), nil
}

// addr returns the host:port to dial for u.
func addr(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	if u.Scheme == "https" {
		return net.JoinHostPort(u.Hostname(), "443")
	}
	return net.JoinHostPort(u.Hostname(), "80")
}

// encodeJSON encodes a step's json body (map keys sorted, no HTML
// escaping, so a template's "${" and text survive as written).
func encodeJSON(v any) ([]byte, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return []byte(strings.TrimSuffix(b.String(), "\n")), nil
}
