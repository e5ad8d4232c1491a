package wsload

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/chaosload/chaosload/load"
)

// plan is a ws step worked out once: where to connect, what to send and
// how often, and how replies are recognised. Its fields are only read after
// it is built, so sessions share it.
type plan struct {
	url            string
	header         http.Header
	connectTimeout time.Duration
	hold           time.Duration

	send    bool          // a message is sent (once, or at period)
	period  time.Duration // between messages sent at a rate; 0: once
	payload []byte        // the message, or (correlating) what precedes the number
	suffix  []byte        // (correlating) what follows the number

	match        matchMode
	text         []byte   // matchText: the reply's text
	field        []string // matchEquals, matchCorrelate: the path of the field
	equals       []byte   // matchEquals: the field's value, canonical JSON
	replyTimeout time.Duration
}

// matchMode is how a received frame is recognised as a reply.
type matchMode int

const (
	matchNone      matchMode = iota // no reply expected
	matchText                       // text equal to plan.text, in order
	matchEquals                     // JSON field equal to plan.equals, in order
	matchCorrelate                  // JSON field carrying a message's number back
)

// plan returns step's plan, building it on first use.
func (d *Driver) plan(step *load.Step) (*plan, error) {
	if p, ok := d.plans.Load(step); ok {
		return p.(*plan), nil
	}
	p, err := newPlan(step)
	if err != nil {
		return nil, err
	}
	actual, _ := d.plans.LoadOrStore(step, p)
	return actual.(*plan), nil
}

// newPlan works out step's plan.
func newPlan(step *load.Step) (*plan, error) {
	w := step.WS
	if w == nil {
		return nil, fmt.Errorf("step %q has no ws session", step.Name)
	}
	u, err := url.Parse(w.URL)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		return nil, fmt.Errorf("step %q: url %q: want ws://host/path or wss://host/path", step.Name, w.URL)
	}
	p := &plan{url: w.URL, header: http.Header{}, connectTimeout: w.ConnectTimeout, hold: w.Hold}
	if p.connectTimeout <= 0 {
		p.connectTimeout = load.DefaultWSConnectTimeout
	}
	for k, v := range w.Headers {
		p.header.Set(k, v)
	}
	if err := p.expect(w.Expect); err != nil {
		return nil, fmt.Errorf("step %q: expect: %w", step.Name, err)
	}
	if err := p.message(w.Send); err != nil {
		return nil, fmt.Errorf("step %q: send: %w", step.Name, err)
	}
	if p.match != matchNone && !p.send {
		return nil, fmt.Errorf("step %q: expect without send: a reply needs a message", step.Name)
	}
	return p, nil
}

// expect compiles how replies are recognised.
func (p *plan) expect(e *load.WSExpect) error {
	if e == nil {
		return nil
	}
	p.replyTimeout = e.Timeout
	if p.replyTimeout <= 0 {
		p.replyTimeout = load.DefaultWSReplyTimeout
	}
	switch {
	case e.JSON != nil && e.Text != "":
		return errors.New("text and json are both set; a reply is matched one way")
	case e.Text != "":
		p.match, p.text = matchText, []byte(e.Text)
	case e.JSON != nil && e.JSON.Field == "":
		return errors.New("json needs a field")
	case e.JSON != nil && e.JSON.Equals != nil:
		b, err := json.Marshal(e.JSON.Equals)
		if err != nil {
			return fmt.Errorf("json equals: %w", err)
		}
		p.match, p.field, p.equals = matchEquals, strings.Split(e.JSON.Field, "."), b
	case e.JSON != nil:
		p.match, p.field = matchCorrelate, strings.Split(e.JSON.Field, ".")
	default:
		return errors.New("want text or json")
	}
	return nil
}

// sentinel stands for the message number while a correlated message is
// encoded once; it cannot occur in YAML-decoded data.
const sentinel = "\x00chaosload-seq\x00"

// message compiles what is sent: the bytes of one message, or, when
// correlating, the bytes around the number written into each.
func (p *plan) message(s *load.WSSend) error {
	if s == nil {
		return nil
	}
	p.send = true
	if s.Rate < 0 {
		return fmt.Errorf("rate %v is negative", s.Rate)
	}
	if s.Rate > 0 {
		p.period = time.Duration(float64(time.Second) / s.Rate)
		if p.period <= 0 || p.hold <= 0 {
			return fmt.Errorf("rate %v/s needs a hold to send over (and at most 1e9/s)", s.Rate)
		}
	}
	switch {
	case s.JSON != nil && s.Text != "":
		return errors.New("text and json are both set; a message has one body")
	case p.match == matchCorrelate && s.JSON == nil:
		return errors.New("expect json by field without equals correlates replies: send must be json")
	case p.match == matchCorrelate:
		v, err := setPath(s.JSON, p.field, sentinel)
		if err != nil {
			return err
		}
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("encode json: %w", err)
		}
		quoted, _ := json.Marshal(sentinel)
		before, after, _ := bytes.Cut(b, quoted)
		p.payload, p.suffix = before, after
	case s.JSON != nil:
		b, err := json.Marshal(s.JSON)
		if err != nil {
			return fmt.Errorf("encode json: %w", err)
		}
		p.payload = b
	default:
		p.payload = []byte(s.Text)
	}
	return nil
}

// appendMessage appends message number seq to dst.
func (p *plan) appendMessage(dst []byte, seq int64) []byte {
	dst = append(dst, p.payload...)
	if p.match == matchCorrelate {
		dst = strconv.AppendInt(dst, seq, 10)
		dst = append(dst, p.suffix...)
	}
	return dst
}

// setPath returns a copy of v (decoded YAML or JSON: maps with string keys)
// with the field at path set to val, making the objects on the way.
func setPath(v any, path []string, val any) (any, error) {
	if len(path) == 0 {
		return val, nil
	}
	var obj map[string]any
	switch m := v.(type) {
	case nil:
		obj = map[string]any{}
	case map[string]any:
		obj = make(map[string]any, len(m)+1)
		for k, x := range m {
			obj[k] = x
		}
	default:
		return nil, fmt.Errorf("the message holds no object for field %q", strings.Join(path, "."))
	}
	inner, err := setPath(obj[path[0]], path[1:], val)
	if err != nil {
		return nil, err
	}
	obj[path[0]] = inner
	return obj, nil
}
