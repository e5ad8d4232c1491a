package load

import (
	"context"
	"errors"
	"io"
	"syscall"
)

// Error classes shared by every driver. Protocol drivers add their own
// (pg_<SQLSTATE>, redis_<PREFIX>, ws_closed).
const (
	// ClassHTTP429 is 429 Too Many Requests: a rate limit answered, the
	// refusal a service should give beyond its limit, apart from the other
	// 4xx (a client's mistake).
	ClassHTTP429 = "http_429"
	ClassHTTP4xx = "http_4xx" // every 4xx but 429
	ClassHTTP5xx = "http_5xx" // every 5xx but 503
	ClassHTTP503 = "http_503"
	// ClassHTTPUnexpected is a status below 400 that the step's expect
	// does not list (a 302 where only 200 was expected).
	ClassHTTPUnexpected = "http_unexpected"
	ClassTimeout        = "timeout"
	ClassConnRefused    = "conn_refused"
	ClassConnReset      = "conn_reset"
	ClassDropped        = "dropped" // an arrival that found no free VU
	ClassOther          = "error"   // any other failure
)

// BuiltinClasses lists the classes every run may produce.
var BuiltinClasses = []string{ClassHTTP429, ClassHTTP4xx, ClassHTTP5xx, ClassHTTP503, ClassHTTPUnexpected, ClassTimeout,
	ClassConnRefused, ClassConnReset, ClassDropped, ClassOther}

// ErrDropped is the Err of a dropped arrival's Result.
var ErrDropped = errors.New("arrival dropped: every VU was busy and maxVUs were running")

// ClassOf classifies a transport-level error, for every driver:
//
//   - timeout: a deadline passed (the step's timeout, or a graceful stop)
//     or the error says it is a timeout;
//   - conn_refused: ECONNREFUSED;
//   - conn_reset: ECONNRESET, ECONNABORTED, EPIPE, or the stream ended
//     early (io.EOF, io.ErrUnexpectedEOF), which is what a reset looks like
//     to a reader that was between reads;
//   - error: anything else, including a run cancelled by its caller.
//
// nil is "" (success).
func ClassOf(err error) string {
	var timeout interface{ Timeout() bool }
	switch {
	case err == nil:
		return ""
	case errors.Is(err, syscall.ECONNREFUSED):
		return ClassConnRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNABORTED),
		errors.Is(err, syscall.EPIPE), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return ClassConnReset
	case errors.Is(err, context.DeadlineExceeded),
		errors.As(err, &timeout) && timeout.Timeout():
		return ClassTimeout
	}
	return ClassOther
}
