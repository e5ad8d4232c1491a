package httpload

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/chaosload/chaosload/load"
)

// body is where a step's request body comes from.
type body struct {
	kind  bodyKind
	fixed []byte         // bodyBytes
	tmpl  *load.Template // bodyTemplate
	file  string         // bodyFile
	size  int64          // bodyGenerated
}

type bodyKind uint8

const (
	bodyNone bodyKind = iota
	bodyBytes
	bodyTemplate
	bodyFile
	bodyGenerated
)

// newBody works out the body of h: json (a JSON template), body (a
// template), bodyFile or bodySize; at most one may be set.
func newBody(h *load.HTTPRequest) (body, error) {
	set := 0
	for _, ok := range []bool{h.JSON != nil, h.Body != "", h.BodyFile != "", h.BodySize > 0} {
		if ok {
			set++
		}
	}
	if set > 1 {
		return body{}, errors.New("set at most one of json, body, bodyFile, bodySize")
	}
	switch {
	case h.JSON != nil:
		enc, err := encodeJSON(h.JSON)
		if err != nil {
			return body{}, fmt.Errorf("encode json body: %w", err)
		}
		t, err := load.ParseJSONTemplate(string(enc))
		if err != nil {
			return body{}, fmt.Errorf("json body: %w", err)
		}
		return templateBody(t), nil
	case h.Body != "":
		t, err := load.ParseTemplate(h.Body)
		if err != nil {
			return body{}, fmt.Errorf("body: %w", err)
		}
		return templateBody(t), nil
	case h.BodyFile != "":
		if _, err := os.Stat(h.BodyFile); err != nil {
			return body{}, fmt.Errorf("bodyFile: %w", err)
		}
		return body{kind: bodyFile, file: h.BodyFile}, nil
	case h.BodySize > 0:
		return body{kind: bodyGenerated, size: int64(h.BodySize)}, nil
	}
	return body{}, nil
}

// templateBody is a body of fixed bytes when t has no variable.
func templateBody(t *load.Template) body {
	if s, ok := t.Static(); ok {
		return body{kind: bodyBytes, fixed: []byte(s)}
	}
	return body{kind: bodyTemplate, tmpl: t}
}

// length returns the body's size when it is the same for every operation.
func (b body) length() (int64, bool) {
	switch b.kind {
	case bodyNone:
		return 0, true
	case bodyBytes:
		return int64(len(b.fixed)), true
	case bodyGenerated:
		return b.size, true
	}
	return 0, false
}

// payload is the body of one operation: bytes in memory, or a stream of n
// bytes (a file, or generated) never held whole.
type payload struct {
	bytes []byte
	file  *os.File
	n     int64
}

// streamed reports whether the payload is a stream rather than bytes.
func (p payload) streamed() bool { return p.file != nil || p.n > int64(len(p.bytes)) }

// close releases the payload's file.
func (p payload) close() {
	if p.file != nil {
		p.file.Close()
	}
}

// open makes the body of one operation, rendering a template into buf.
func (b body) open(vu *load.VU, buf []byte) (payload, []byte, error) {
	switch b.kind {
	case bodyBytes:
		return payload{bytes: b.fixed, n: int64(len(b.fixed))}, buf, nil
	case bodyTemplate:
		out, err := b.tmpl.Append(buf[:0], vu)
		return payload{bytes: out, n: int64(len(out))}, out, err
	case bodyFile:
		f, err := os.Open(b.file)
		if err != nil {
			return payload{}, buf, fmt.Errorf("bodyFile: %w", err)
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return payload{}, buf, fmt.Errorf("bodyFile: %w", err)
		}
		return payload{file: f, n: fi.Size()}, buf, nil
	case bodyGenerated:
		return payload{n: b.size}, buf, nil
	}
	return payload{}, buf, nil
}

// reader returns the payload as a reader (for net/http), nil when empty.
func (p payload) reader() io.Reader {
	switch {
	case p.file != nil:
		return p.file
	case p.n > int64(len(p.bytes)):
		return &patternReader{left: p.n}
	case p.n > 0:
		return &bytesReader{b: p.bytes}
	}
	return nil
}

// pattern is what generated bodies repeat: printable, not all one byte.
var pattern = func() []byte {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"
	b := make([]byte, 64<<10)
	for i := range b {
		b[i] = alphabet[(i*7+i/len(alphabet))%len(alphabet)]
	}
	return b
}()

// patternReader reads left bytes of the pattern.
type patternReader struct {
	left int64
	off  int
}

func (r *patternReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(int64(len(p)), r.left)], pattern[r.off:])
	r.off = (r.off + n) % len(pattern)
	r.left -= int64(n)
	return n, nil
}

// bytesReader is bytes.Reader without its allocation per use being
// escaped through an interface twice.
type bytesReader struct {
	b []byte
}

func (r *bytesReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}
