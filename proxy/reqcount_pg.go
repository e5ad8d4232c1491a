package proxy

import "encoding/binary"

// pgCounter frames PostgreSQL frontend messages: the untyped startup
// messages (SSLRequest, GSSENCRequest, StartupMessage), then typed ones.
type pgCounter struct {
	typed bool
	hdr   [8]byte // the header being read
	got   int     // bytes of it read
	n     int64   // message bytes left to skip
	dead  bool
}

func (p *pgCounter) feed(b []byte) (requests, checks int) {
	count := 0
	for i := 0; i < len(b) && !p.dead; {
		if p.n > 0 {
			k := min(p.n, int64(len(b)-i))
			p.n -= k
			i += int(k)
			continue
		}
		want := 8 // untyped: length, code
		if p.typed {
			want = 5 // type, length
		}
		k := copy(p.hdr[p.got:want], b[i:])
		p.got += k
		i += k
		if p.got == want {
			count += p.header()
			p.got = 0
		}
	}
	return count, 0
}

// header acts on a whole message header and returns 1 when the message is
// a request.
func (p *pgCounter) header() int {
	if !p.typed {
		size := int64(binary.BigEndian.Uint32(p.hdr[0:4]))
		switch code := binary.BigEndian.Uint32(p.hdr[4:8]); {
		case size < 8 || code == pgCancelRequest:
			p.dead = true
		case code == pgSSLRequest || code == pgGSSENCRequest:
			// the server's answer decides; a TLS stream then breaks the
			// framing below and is counted no more
		default:
			p.typed = true
		}
		p.n = size - 8
		return 0
	}
	size := int64(binary.BigEndian.Uint32(p.hdr[1:5]))
	if size < 4 || p.hdr[0] == tlsRecord {
		p.dead = true
		return 0
	}
	p.n = size - 4
	if p.hdr[0] == 'Q' || p.hdr[0] == 'S' {
		return 1
	}
	return 0
}
