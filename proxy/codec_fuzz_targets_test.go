package proxy

import (
	"strings"
	"testing"
)

// FuzzPGUp fuzzes the parser of what a PostgreSQL client sends.
func FuzzPGUp(f *testing.F) {
	f.Add([]byte("\x00\x00\x00\x08\x04\xd2\x16\x2f"), uint16(0))
	f.Add([]byte("Q\x00\x00\x00\x0dselect 1\x00"), uint16(3))
	f.Fuzz(func(t *testing.T, data []byte, chunk uint16) { fuzzUp(t, "postgres", data, chunk) })
}

// FuzzPGDown fuzzes the framing of what a PostgreSQL server sends.
func FuzzPGDown(f *testing.F) {
	f.Add([]byte("C\x00\x00\x00\x0dSELECT 1\x00Z\x00\x00\x00\x05I"), uint16(2))
	f.Fuzz(func(t *testing.T, data []byte, chunk uint16) {
		fuzzDown(t, func() downCodec { return newPGDown() }, data, chunk)
	})
}

// FuzzRedisUp fuzzes the parser of what a Redis client sends.
func FuzzRedisUp(f *testing.F) {
	f.Add([]byte("*2\r\n$3\r\nGET\r\n$2\r\nk1\r\nPING\r\n"), uint16(5))
	f.Fuzz(func(t *testing.T, data []byte, chunk uint16) { fuzzUp(t, "redis", data, chunk) })
}

// FuzzRedisDown fuzzes the framing of what a Redis server sends.
func FuzzRedisDown(f *testing.F) {
	f.Add([]byte("+OK\r\n*2\r\n$1\r\na\r\n:1\r\n"), uint16(3))
	f.Fuzz(func(t *testing.T, data []byte, chunk uint16) {
		fuzzDown(t, func() downCodec { return newRedisDown() }, data, chunk)
	})
}

// FuzzHTTPUp fuzzes the parser of what an HTTP/1.x client sends.
func FuzzHTTPUp(f *testing.F) {
	f.Add([]byte("GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi"), uint16(7))
	f.Fuzz(func(t *testing.T, data []byte, chunk uint16) {
		whole, sw := runUp(t, "http", [][]byte{data})
		cut, sc := runUp(t, "http", pieces(data, int(chunk)))
		sameTrace(t, whole.out, cut.out, append(whole.events, httpQueue(sw)...), append(cut.events, httpQueue(sc)...), chunk)
	})
}

// httpQueue lists the requests an HTTP session handed to its response
// parser.
func httpQueue(s *protoSession) []string {
	h := s.down.(*httpDown).h
	var out []string
	for _, r := range h.reqs {
		out = append(out, "request "+r.method)
	}
	return out
}

// FuzzHTTPDown fuzzes the framing of what an HTTP/1.x server sends, in
// answer to requests of the methods listed (space-separated).
func FuzzHTTPDown(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiHTTP/1.1 204 No Content\r\n\r\n"), "GET GET", uint16(9))
	f.Fuzz(func(t *testing.T, data []byte, methods string, chunk uint16) {
		newDown := func() downCodec {
			h := newHTTPShared()
			for _, m := range strings.Fields(methods) {
				h.push(httpReq{method: m})
			}
			return newHTTPDown(h)
		}
		fuzzDown(t, newDown, data, chunk)
	})
}
