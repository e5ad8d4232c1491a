package wsload

import (
	"bytes"
	"encoding/json"
	"io"
	"strconv"
	"time"

	"github.com/chaosload/chaosload/load"
)

// read is the session's reader goroutine: it reads every frame until the
// connection ends, records it as received, and answers the message it is a
// reply to. It answers pings (gorilla's default handler) and, once the
// server sends a close frame, the close. It stops at the first read error
// and closes readDone.
func (s *session) read() {
	defer close(s.readDone)
	var buf bytes.Buffer
	for {
		_, r, err := s.conn.NextReader()
		if err != nil {
			s.readErr = err
			return
		}
		buf.Reset()
		n, err := s.frame(&buf, r)
		s.bytesIn.Add(n)
		if err != nil {
			s.readErr = err
			return
		}
		now := s.clock.Now()
		s.recordReceived(now)
		s.answer(buf.Bytes(), now)
	}
}

// frame reads one frame into buf when replies are matched (their content
// matters), else counts and discards it.
func (s *session) frame(buf *bytes.Buffer, r io.Reader) (int64, error) {
	if s.p.match == matchNone {
		return io.Copy(io.Discard, r)
	}
	return buf.ReadFrom(r)
}

// recordReceived records one frame received, untimed.
func (s *session) recordReceived(now time.Duration) {
	res := s.tags
	res.Direction, res.Untimed = load.DirectionReceived, true
	res.Intended, res.Dispatched, res.Start, res.End = now, now, now, now
	s.sink.Record(&res)
}

// answer records the message frame b replies to, if it is a reply.
func (s *session) answer(b []byte, now time.Duration) {
	var o outstanding
	var ok bool
	switch s.p.match {
	case matchText:
		if bytes.Equal(b, s.p.text) {
			o, ok = s.pend.answerFirst()
		}
	case matchEquals:
		if v, found := jsonField(b, s.p.field); found && bytes.Equal(v, s.p.equals) {
			o, ok = s.pend.answerFirst()
		}
	case matchCorrelate:
		if v, found := jsonField(b, s.p.field); found {
			if seq, err := strconv.ParseInt(string(bytes.Trim(v, `"`)), 10, 64); err == nil {
				o, ok = s.pend.answerSeq(seq)
			}
		}
	}
	if ok {
		s.recordSent(o, now, "")
	}
}

// jsonField returns the field at path of JSON document b, re-encoded
// canonically (numbers as written, strings quoted), and whether it is there.
func jsonField(b []byte, path []string) ([]byte, bool) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if dec.Decode(&v) != nil {
		return nil, false
	}
	for _, key := range path {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = obj[key]; !ok {
			return nil, false
		}
	}
	out, err := json.Marshal(v)
	return out, err == nil
}
