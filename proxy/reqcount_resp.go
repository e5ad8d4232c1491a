package proxy

// redisCounter frames RESP commands: an array of bulk strings
// ("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"), or an inline command line.
type redisCounter struct {
	state  int
	num    int64 // the number being read (array length, bulk length)
	elems  int64 // bulk strings left in the array
	n      int64 // bulk bytes + CRLF left to skip
	dollar bool  // the bulk header's '$' was seen
}

func (r *redisCounter) feed(b []byte) (requests, checks int) {
	count := 0
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch r.state {
		case stDead:
			return count, 0
		case stStart:
			switch c {
			case '\r', '\n':
			case '*':
				count++
				r.state, r.num = stHead, 0
			default:
				count++
				r.state = stInline
			}
		case stInline:
			if c == '\n' {
				r.state = stStart
			}
		case stHead:
			r.arrayLen(c)
		case stBulkHdr:
			r.bulkHdr(c)
		case stBody:
			k := min(r.n, int64(len(b)-i))
			r.n -= k
			i += int(k) - 1
			if r.n == 0 {
				r.endBulk()
			}
		}
	}
	return count, 0
}

// digit adds c to the number being read, or reports that it is none.
func (r *redisCounter) digit(c byte) bool {
	if c < '0' || c > '9' || r.num > 1<<40 {
		return false
	}
	r.num = r.num*10 + int64(c-'0')
	return true
}

func (r *redisCounter) arrayLen(c byte) {
	switch {
	case c == '\r':
	case c == '\n' && r.num > 0:
		r.state, r.elems, r.num, r.dollar = stBulkHdr, r.num, 0, false
	case c == '\n':
		r.state = stStart
	case c == '-' && r.num == 0: // *-1: a null array
	case !r.digit(c):
		r.state = stDead
	}
}

func (r *redisCounter) bulkHdr(c byte) {
	switch {
	case !r.dollar && c == '$':
		r.dollar = true
	case !r.dollar:
		r.state = stDead
	case c == '\r':
	case c == '\n':
		r.state, r.n = stBody, r.num+2
	case !r.digit(c):
		r.state = stDead
	}
}

func (r *redisCounter) endBulk() {
	r.elems--
	if r.elems > 0 {
		r.state, r.num, r.dollar = stBulkHdr, 0, false
		return
	}
	r.state = stStart
}
