package httpload

import "github.com/chaosload/chaosload/load"

// classOfStatus maps a status code to its error class: "" below 400,
// http_503 for 503 (the graceful refusal), http_5xx for any other 5xx, and
// http_4xx for the rest. Transport errors go through load.ClassOf.
func classOfStatus(code int) string {
	switch {
	case code < 400:
		return ""
	case code == 503:
		return load.ClassHTTP503
	case code >= 500:
		return load.ClassHTTP5xx
	}
	return load.ClassHTTP4xx
}
