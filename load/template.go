package load

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Template is a string of a step (a URL, a header value, a body) with
// run-time variables, compiled once per step and rendered per operation
// without parsing anything:
//
//	${vu.id}            the VU's id
//	${vu.NAME}          the VU's variable NAME, set by an extract of an earlier step
//	${iteration}        the VU's iteration number (VU.Iteration)
//	${data.COLUMN}      COLUMN of the iteration's row of the scenario's data
//	${random.uuid}      a random UUID (version 4) from the VU's seeded source
//	${random.int(A,B)}  a random integer in [A, B] from the same source
//	$${                 a literal "${"
//
// Any other ${...} is literal text: package config resolves addresses and
// environment variables before the run and refuses names it does not know,
// so what reaches a template is either one of these or text that was
// escaped in the file.
type Template struct {
	parts  []tmplPart
	static string // the whole text when there is no variable
	json   bool
}

// TemplateRef is one variable of a template, for validation.
type TemplateRef struct {
	// Offset is the byte offset of "${" in the template's text.
	Offset int
	// Raw is the variable as written: "${vu.token}".
	Raw string
	// Kind is "vu", "iteration", "data" or "random"; Name is what follows
	// the dot ("token", "id", a column, "uuid", "int").
	Kind, Name string
}

type tmplKind uint8

const (
	tmplLit tmplKind = iota
	tmplVUID
	tmplVar
	tmplIteration
	tmplData
	tmplUUID
	tmplInt
)

// tmplPart is a literal or a variable.
type tmplPart struct {
	kind tmplKind
	text string // the literal, or the variable's name (NAME, COLUMN)
	lo   int64  // random.int bounds
	hi   int64
	ref  TemplateRef
}

// ParseTemplate compiles s. A malformed variable (${random.int(x)}, a
// ${vu.} without a name) is an error naming it.
func ParseTemplate(s string) (*Template, error) { return parseTemplate(s, false) }

// ParseJSONTemplate compiles encoded JSON whose strings may hold
// variables. Values are escaped as JSON string content; a string that is
// exactly one numeric variable (${vu.id}, ${iteration}, ${random.int(A,B)})
// becomes a JSON number: {"qty": "${random.int(1,5)}"} sends {"qty": 3}.
func ParseJSONTemplate(encoded string) (*Template, error) { return parseTemplate(encoded, true) }

func parseTemplate(s string, json bool) (*Template, error) {
	t := &Template{json: json}
	var lit strings.Builder
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "$${"):
			lit.WriteString("${")
			i += 3
		case strings.HasPrefix(s[i:], "${"):
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				lit.WriteString(s[i:])
				i = len(s)
				continue
			}
			raw := s[i : i+end+1]
			p, ok, err := parseVar(raw, i)
			if err != nil {
				return nil, err
			}
			if !ok {
				lit.WriteString(raw)
			} else {
				t.parts = append(t.parts, tmplPart{text: lit.String()}, p)
				lit.Reset()
			}
			i += len(raw)
		default:
			lit.WriteByte(s[i])
			i++
		}
	}
	t.parts = append(t.parts, tmplPart{text: lit.String()})
	if len(t.parts) == 1 {
		t.static, t.parts = t.parts[0].text, nil
	}
	if json {
		t.unquoteNumbers()
	}
	return t, nil
}

// parseVar reads one "${...}" at offset off; ok is false when it is not a
// run-time variable (literal text).
func parseVar(raw string, off int) (tmplPart, bool, error) {
	name := strings.TrimSpace(raw[2 : len(raw)-1])
	kind, rest, _ := strings.Cut(name, ".")
	ref := TemplateRef{Offset: off, Raw: raw, Kind: kind, Name: rest}
	p := tmplPart{ref: ref, text: rest}
	switch {
	case name == "iteration":
		p.kind, p.ref.Name = tmplIteration, ""
	case kind == "vu" && rest == "id":
		p.kind = tmplVUID
	case kind == "vu" || kind == "data":
		if !isIdent(rest) {
			return p, false, fmt.Errorf("%s: want ${%s.NAME} with a name of letters, digits, _ and -", raw, kind)
		}
		p.kind = map[string]tmplKind{"vu": tmplVar, "data": tmplData}[kind]
	case kind == "random":
		return parseRandom(p, raw)
	default:
		return p, false, nil
	}
	return p, true, nil
}

// parseRandom reads ${random.uuid} and ${random.int(A,B)}.
func parseRandom(p tmplPart, raw string) (tmplPart, bool, error) {
	fn := p.text
	if fn == "uuid" {
		p.kind = tmplUUID
		return p, true, nil
	}
	args, ok := strings.CutPrefix(fn, "int(")
	if args, ok2 := strings.CutSuffix(args, ")"); ok && ok2 {
		a, b, _ := strings.Cut(args, ",")
		lo, err1 := strconv.ParseInt(strings.TrimSpace(a), 10, 64)
		hi, err2 := strconv.ParseInt(strings.TrimSpace(b), 10, 64)
		if err1 != nil || err2 != nil || hi < lo || hi-lo < 0 || hi-lo == math.MaxInt64 {
			return p, false, fmt.Errorf("%s: want ${random.int(A,B)} with whole numbers A <= B", raw)
		}
		p.kind, p.text, p.lo, p.hi = tmplInt, "int", lo, hi
		p.ref.Name = "int"
		return p, true, nil
	}
	return p, false, fmt.Errorf("%s: unknown random function; valid: ${random.uuid}, ${random.int(A,B)}", raw)
}

// unquoteNumbers drops the quotes around a JSON string that is exactly one
// numeric variable (and not an object key).
func (t *Template) unquoteNumbers() {
	for i := 1; i+1 < len(t.parts); i += 2 {
		k := t.parts[i].kind
		if k != tmplVUID && k != tmplIteration && k != tmplInt {
			continue
		}
		before, after := &t.parts[i-1].text, &t.parts[i+1].text
		if strings.HasSuffix(*before, `"`) && !strings.HasSuffix(*before, `\"`) &&
			strings.HasPrefix(*after, `"`) && !strings.HasPrefix(strings.TrimLeft((*after)[1:], " "), ":") {
			*before, *after = strings.TrimSuffix(*before, `"`), (*after)[1:]
		}
	}
}

// Static returns the text of a template without variables.
func (t *Template) Static() (string, bool) { return t.static, t.parts == nil }

// Refs lists the template's variables.
func (t *Template) Refs() []TemplateRef {
	var refs []TemplateRef
	for _, p := range t.parts {
		if p.kind != tmplLit {
			refs = append(refs, p.ref)
		}
	}
	return refs
}

// Append renders the template for vu onto dst. A ${vu.NAME} no step has
// set on this VU yet, or a ${data.COLUMN} without data, is an error.
func (t *Template) Append(dst []byte, vu *VU) ([]byte, error) {
	if t.parts == nil {
		return append(dst, t.static...), nil
	}
	for _, p := range t.parts {
		var err error
		if dst, err = t.appendPart(dst, p, vu); err != nil {
			return dst, err
		}
	}
	return dst, nil
}

// String renders the template for vu.
func (t *Template) String(vu *VU) (string, error) {
	if t.parts == nil {
		return t.static, nil
	}
	b, err := t.Append(make([]byte, 0, 64), vu)
	return string(b), err
}

// appendPart renders one part.
func (t *Template) appendPart(dst []byte, p tmplPart, vu *VU) ([]byte, error) {
	switch p.kind {
	case tmplLit:
		return append(dst, p.text...), nil
	case tmplVUID:
		return strconv.AppendInt(dst, int64(vu.ID), 10), nil
	case tmplIteration:
		return strconv.AppendInt(dst, vu.Iteration, 10), nil
	case tmplInt:
		return strconv.AppendInt(dst, p.lo+vu.Rand.Int64N(p.hi-p.lo+1), 10), nil
	case tmplUUID:
		return appendUUID(dst, vu.Rand.Uint64(), vu.Rand.Uint64()), nil
	case tmplVar:
		v, ok := vu.Var(p.text)
		if !ok {
			return dst, fmt.Errorf("%s is not set: no earlier step of this VU extracted %q", p.ref.Raw, p.text)
		}
		return t.appendValue(dst, v), nil
	}
	v, ok := vu.Row(p.text)
	if !ok {
		return dst, fmt.Errorf("%s: %w", p.ref.Raw, errNoData)
	}
	return t.appendValue(dst, v), nil
}

var errNoData = errors.New("the scenario has no data (data: FILE.csv) or no such column")

// appendValue appends a string value, escaped inside JSON.
func (t *Template) appendValue(dst []byte, v string) []byte {
	if !t.json {
		return append(dst, v...)
	}
	const hex = "0123456789abcdef"
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// appendUUID appends a version-4 UUID made of hi and lo.
func appendUUID(dst []byte, hi, lo uint64) []byte {
	const hex = "0123456789abcdef"
	hi = hi&^(0xf<<12) | 4<<12 // version 4
	lo = lo&^(3<<62) | 2<<62   // variant 10
	var b [16]byte
	for i := range 8 {
		b[i], b[8+i] = byte(hi>>(56-8*i)), byte(lo>>(56-8*i))
	}
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst = append(dst, '-')
		}
		dst = append(dst, hex[c>>4], hex[c&0xf])
	}
	return dst
}
