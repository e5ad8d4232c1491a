package load

// Error classes shared by every driver. Protocol drivers add their own
// (pg_<SQLSTATE>, redis_<PREFIX>, ws_closed).
const (
	ClassHTTP4xx     = "http_4xx"
	ClassHTTP5xx     = "http_5xx" // every 5xx but 503
	ClassHTTP503     = "http_503"
	ClassTimeout     = "timeout"
	ClassConnRefused = "conn_refused"
	ClassConnReset   = "conn_reset"
	ClassDropped     = "dropped" // an arrival that found no free VU
	ClassOther       = "error"   // any other failure
)

// BuiltinClasses lists the classes every run may produce.
var BuiltinClasses = []string{ClassHTTP4xx, ClassHTTP5xx, ClassHTTP503, ClassTimeout,
	ClassConnRefused, ClassConnReset, ClassDropped, ClassOther}
