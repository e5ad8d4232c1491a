package httpload

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/chaosload/chaosload/load"
)

// classOfStatus maps a status code to its error class: "" below 400,
// http_503 for 503 (the graceful refusal), http_5xx for any other 5xx,
// http_429 for 429 (a rate limit answered) and http_4xx for the rest. Transport errors go through load.ClassOf.
func classOfStatus(code int) string {
	switch {
	case code < 400:
		return ""
	case code == 503:
		return load.ClassHTTP503
	case code >= 500:
		return load.ClassHTTP5xx
	case code == http.StatusTooManyRequests:
		return load.ClassHTTP429
	}
	return load.ClassHTTP4xx
}

// statusClass is the class of a status for a step: with expect, a listed
// status is a success, an unlisted one an error of its usual class from
// 400 on and http_unexpected below; without, classOfStatus.
func statusClass(code int, expect []int) string {
	if expect == nil {
		return classOfStatus(code)
	}
	switch {
	case slices.Contains(expect, code):
		return ""
	case code >= 400:
		return classOfStatus(code)
	}
	return load.ClassHTTPUnexpected
}

// finish judges a complete response: its status against the step's
// expectations, then the ack and the extracts, which only a success is
// searched for.
func finish(res *load.Result, vu *load.VU, r *request, status int, kept []byte, header func(string) string) {
	res.Status = status
	if class := statusClass(status, r.expect); class != "" {
		res.Class, res.Err = class, statusError(status, r.expect)
		return
	}
	if r.step.Ack != "" {
		id, err := ackID(kept, r.step.Ack)
		if err != nil {
			res.Class, res.Err = load.ClassOther, err
			return
		}
		res.Ack = id
	}
	if len(r.step.Extract) > 0 {
		if err := vu.ExtractFrom(r.step, kept, header); err != nil {
			res.Class, res.Err = load.ClassOther, err
		}
	}
}

// statusError describes a failing status for reports.
func statusError(code int, expect []int) error {
	if expect != nil {
		return fmt.Errorf("HTTP %d %s, want one of %v", code, http.StatusText(code), expect)
	}
	return fmt.Errorf("HTTP %d %s", code, http.StatusText(code))
}
