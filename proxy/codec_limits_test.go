package proxy

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/chaosload/chaosload/faults"
)

// The tests of this package's internals do not run in parallel: a paused
// one would count among proxyGoroutines (its frames are package proxy's).

// TestCodecsBoundWhatTheyHold: a request parser that must read a message
// whole to decide on it gives the connection up as soon as the message
// announces more than it holds, instead of buffering until it arrives.
func TestCodecsBoundWhatTheyHold(t *testing.T) {
	tests := []struct {
		name, protocol string
		head           []byte // the start of a message announcing its size
		lost           string // what the give-up says
	}{
		// a Query announcing 32 MiB (PostgreSQL takes up to 1 GB)
		{"pg query", "postgres", []byte("Q\x02\x00\x00\x00select"), "over the 16777216 the proxy reads whole"},
		// a Bind announcing 2 GiB
		{"pg bind", "postgres", []byte("B\x80\x00\x00\x00"), "over the 16777216 the proxy reads whole"},
		// a RESP bulk string of 20 MB
		{"redis bulk", "redis", []byte("*2\r\n$3\r\nSET\r\n$20000000\r\n"), "not a RESP command"},
		// an inline command with no line end in 64 KiB
		{"redis inline", "redis", bytes.Repeat([]byte("a"), 64<<10), "not a RESP command"},
		// a request head with no end in 64 KiB
		{"http head", "http", []byte("GET /" + strings.Repeat("a", 64<<10) + " HTTP/1.1\r\n"), "a request head over 64 KiB"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := fuzzSession(tc.protocol).up.next(tc.head)
			if !strings.Contains(st.lost, tc.lost) {
				t.Fatalf("step %+v, want the connection given up: %q", st, tc.lost)
			}
		})
	}
}

// TestAnsweredRequestBodyStaysDropped: the chunked body of a request the
// proxy answered goes nowhere, also when it turns malformed, however it is
// cut into reads (FuzzHTTPUp found a bad size line whose bytes reached the
// server, whole or in part depending on the reads); the connection is given
// up at the bytes after it, which pass as they are.
func TestAnsweredRequestBodyStaysDropped(t *testing.T) {
	stream := []byte("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
		"5\r\nhello\r\n7X00000000000000\r\n" + "GET /b HTTP/1.1\r\n\r\n")
	for _, chunk := range []int{0, 1, 9} {
		s := specSession(faults.HTTPErrorSpec{Match: faults.Match{Path: "/a"}, Probability: 1, Status: 503})
		tr := runSession(t, s, pieces(stream, chunk))
		if got := string(tr.out); got != "GET /b HTTP/1.1\r\n\r\n" || !tr.lost || !slices.Contains(tr.events, "count@0") {
			t.Errorf("reads of %d: the server gets %q (given up: %v, %v); want the POST answered and only what follows its body, as it is",
				chunk, got, tr.lost, tr.events)
		}
	}
}
