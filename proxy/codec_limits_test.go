package proxy

import (
	"bytes"
	"strings"
	"testing"
)

// TestCodecsBoundWhatTheyHold: a request parser that must read a message
// whole to decide on it gives the connection up as soon as the message
// announces more than it holds, instead of buffering until it arrives.
func TestCodecsBoundWhatTheyHold(t *testing.T) {
	t.Parallel()
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
			t.Parallel()
			st := fuzzSession(tc.protocol).up.next(tc.head)
			if !strings.Contains(st.lost, tc.lost) {
				t.Fatalf("step %+v, want the connection given up: %q", st, tc.lost)
			}
		})
	}
}
