package proxy

import (
	"encoding/binary"
	"testing"
)

// pgFrame builds a typed PostgreSQL frontend message with a body of n bytes.
func pgFrame(typ byte, n int) []byte {
	b := []byte{typ, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(b[1:], uint32(4+n))
	return append(b, make([]byte, n)...)
}

// pgStartup builds an untyped startup message with code and n more bytes.
func pgStartup(code uint32, n int) []byte {
	b := make([]byte, 8+n)
	binary.BigEndian.PutUint32(b, uint32(8+n))
	binary.BigEndian.PutUint32(b[4:], code)
	return b
}

func concat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// TestReqCounters feeds each stream whole and split at every byte: the
// count of requests is the same either way.
func TestReqCounters(t *testing.T) {
	tests := []struct {
		name, protocol, check string
		stream                []byte
		want                  int
	}{
		// two keep-alive GETs
		{"http gets", "http", "", []byte("GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n"), 2},
		// a body that looks like a request is skipped by its Content-Length
		{"http body", "http", "", []byte("POST / HTTP/1.1\r\nContent-Length: 18\r\n\r\nGET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n"), 2},
		// a chunked body with a trailer
		{"http chunked", "http", "", []byte("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nGET /\r\n0\r\nX-T: 1\r\n\r\nGET / HTTP/1.1\r\n\r\n"), 2},
		// an upgrade ends the count
		// health checks are counted apart (want counts requests only)
		{"http checks", "http", "/health", []byte("GET /health HTTP/1.1\r\n\r\nGET /api HTTP/1.1\r\n\r\nHEAD /HEALTHZ HTTP/1.0\r\n\r\n"), 1},
		{"http upgrade", "http", "", []byte("GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\nGET / HTTP/1.1\r\n\r\n"), 1},
		// RESP arrays, a bulk string holding "*1", an inline PING
		{"redis", "redis", "", []byte("*2\r\n$3\r\nGET\r\n$2\r\n*1\r\n*1\r\n$4\r\nPING\r\nPING\r\n"), 3},
		// startup after an SSLRequest refused, then a Query and an extended batch
		{"postgres", "postgres", "", concat(pgStartup(pgSSLRequest, 0), pgStartup(196608, 20), pgFrame('Q', 9),
			pgFrame('P', 30), pgFrame('B', 12), pgFrame('E', 9), pgFrame('S', 0), pgFrame('X', 0)), 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, _ := newReqCounter(tt.protocol, tt.check).feed(tt.stream); got != tt.want {
				t.Fatalf("whole: %d requests, want %d", got, tt.want)
			}
			for cut := 1; cut < len(tt.stream); cut++ {
				c := newReqCounter(tt.protocol, tt.check)
				a, _ := c.feed(tt.stream[:cut])
				b, _ := c.feed(tt.stream[cut:])
				if got := a + b; got != tt.want {
					t.Fatalf("split at %d: %d requests, want %d", cut, got, tt.want)
				}
			}
			c, got := newReqCounter(tt.protocol, tt.check), 0
			for i := range tt.stream {
				n, _ := c.feed(tt.stream[i : i+1])
				got += n
			}
			if got != tt.want {
				t.Fatalf("byte by byte: %d requests, want %d", got, tt.want)
			}
		})
	}
}

// BenchmarkHTTPCounter is the cost of counting a small request.
func BenchmarkHTTPCounter(b *testing.B) {
	req := []byte("GET /api/products HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: chaosload\r\nAccept: */*\r\n\r\n")
	c := newReqCounter("http", "")
	b.ReportAllocs()
	b.SetBytes(int64(len(req)))
	for b.Loop() {
		c.feed(req)
	}
}
