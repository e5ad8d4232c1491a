package gameday

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"
)

// tokenCookie carries the token for the dashboard's own requests once the
// page was opened with ?token=.
const tokenCookie = "chaosload_token"

// dashboardHeader marks the dashboard's requests, audited as "dashboard".
const dashboardHeader = "X-Chaosload-Client"

type whoKey struct{}

// guard is the security middleware: with tokens configured every request
// must carry one (Authorization: Bearer, the password of Basic auth so that
// Toxiproxy clients work with http://user:TOKEN@host:8474, the dashboard's
// cookie, or ?token= on a page load); a mutating request a browser sends
// must come from the dashboard's own origin. It sets who in the request.
func (s *Session) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, ok := s.authenticate(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="chaosload"`)
			writeError(w, errStatus(http.StatusUnauthorized, "missing or wrong API token (Authorization: Bearer TOKEN)"))
			return
		}
		if mutating(r.Method) && !sameOrigin(r) {
			writeError(w, errStatus(http.StatusForbidden, "cross-origin request refused"))
			return
		}
		if r.URL.Query().Get("token") != "" && len(s.cfg.Tokens) > 0 {
			http.SetCookie(w, &http.Cookie{Name: tokenCookie, Value: r.URL.Query().Get("token"), Path: "/",
				HttpOnly: true, SameSite: http.SameSiteStrictMode})
		}
		if r.Header.Get(dashboardHeader) == "dashboard" {
			name = "dashboard"
		}
		next.ServeHTTP(w, r.WithContext(withWho(r.Context(), name)))
	})
}

// authenticate returns the name of the request's token; without configured
// tokens every request is "api".
func (s *Session) authenticate(r *http.Request) (string, bool) {
	if len(s.cfg.Tokens) == 0 {
		return "api", true
	}
	for _, cand := range presented(r) {
		for tok, name := range s.cfg.Tokens {
			if subtle.ConstantTimeCompare([]byte(cand), []byte(tok)) == 1 {
				return name, true
			}
		}
	}
	return "", false
}

// presented lists every token the request carries.
func presented(r *http.Request) []string {
	var out []string
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		out = append(out, strings.TrimPrefix(h, "Bearer "))
	}
	if _, pw, ok := r.BasicAuth(); ok {
		out = append(out, pw)
	}
	if c, err := r.Cookie(tokenCookie); err == nil {
		out = append(out, c.Value)
	}
	if t := r.URL.Query().Get("token"); t != "" && r.Method == http.MethodGet {
		out = append(out, t)
	}
	return out
}

func mutating(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// sameOrigin accepts a request without an Origin header (not a browser, or
// a browser's same-origin GET) and one whose Origin is the address it was
// sent to; a browser's cross-site fetch (Sec-Fetch-Site) is refused too.
func sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site == "cross-site" || site == "same-site" {
		return false
	}
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}

// toxiproxyBrowserGuard answers 403 to a browser (User-Agent Mozilla/…), as
// Toxiproxy's API does, on the Toxiproxy-compatible routes.
func toxiproxyBrowserGuard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.UserAgent(), "Mozilla/") {
			writeError(w, errStatus(http.StatusForbidden, "User agent not allowed"))
			return
		}
		next.ServeHTTP(w, r)
	})
}
