package gameday

import (
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/chaosload/chaosload/faults"
)

// Toxic is a Toxiproxy toxic as its REST API shows it: the JSON shape of
// Toxiproxy v2's `{"attributes":{…},"name","type","stream","toxicity"}`.
// Attributes keep Toxiproxy's names and units (ms, KB/s, µs for the slicer's
// delay); Spec converts them to a chaosload fault spec in one place.
type Toxic struct {
	Name       string         `json:"name"`
	Type       string         `json:"type"`
	Stream     string         `json:"stream"`
	Toxicity   float32        `json:"toxicity"`
	Attributes map[string]any `json:"attributes"`
}

// toxicTypes lists the Toxiproxy toxic types game-day mode carries out, each
// with its attributes and their defaults (Toxiproxy's zero values).
var toxicTypes = map[string][]string{
	"latency":    {"latency", "jitter"},
	"bandwidth":  {"rate"},
	"slow_close": {"delay"},
	"timeout":    {"timeout"},
	"reset_peer": {"timeout"},
	"slicer":     {"average_size", "size_variation", "delay"},
	"limit_data": {"bytes"},
}

// normalise checks the toxic's type and stream, fills in defaults (stream
// downstream, name TYPE_STREAM) and gives every attribute of its type a
// numeric value, as Toxiproxy shows them.
func (t *Toxic) normalise() error {
	attrs, ok := toxicTypes[t.Type]
	if !ok {
		return fmt.Errorf("invalid toxic type: %q", t.Type)
	}
	switch t.Stream {
	case "":
		t.Stream = "downstream"
	case "upstream", "downstream":
	default:
		return fmt.Errorf("stream was invalid: %q", t.Stream)
	}
	if t.Name == "" {
		t.Name = t.Type + "_" + t.Stream
	}
	if err := faults.CheckToxicity(float64(t.Toxicity)); err != nil {
		return fmt.Errorf("toxicity %v: %w", t.Toxicity, err)
	}
	out := make(map[string]any, len(attrs))
	for _, a := range attrs {
		v, err := number(t.Attributes[a])
		if err != nil {
			return fmt.Errorf("attribute %q: %w", a, err)
		}
		if v < 0 {
			return fmt.Errorf("attribute %q: %v must not be negative", a, v)
		}
		out[a] = v
	}
	t.Attributes = out
	return nil
}

// number reads a JSON attribute value as a whole number (absent is 0).
func number(v any) (int64, error) {
	switch n := v.(type) {
	case nil:
		return 0, nil
	case float64:
		return int64(math.Round(n)), nil
	case int64:
		return n, nil
	case int:
		return int64(n), nil
	case json.Number:
		f, err := n.Float64()
		return int64(math.Round(f)), err
	}
	return 0, fmt.Errorf("%v is not a number", v)
}

func (t *Toxic) attr(name string) int64 { n, _ := number(t.Attributes[name]); return n }

func (t *Toxic) ms(name string) time.Duration { return time.Duration(t.attr(name)) * time.Millisecond }

// Spec converts a normalised toxic to the chaosload fault spec that carries
// it out: the one place where Toxiproxy's units become chaosload's.
//
//	latency    latency, jitter ms         → latency (jitter uniform ±, as Toxiproxy); 0 ± 0 is inert
//	bandwidth  rate KB/s (1 KB = 1000 B)  → bandwidth bytes/s; rate 0 (Toxiproxy's stall) → 1 B/s
//	slow_close delay ms                   → slow-close; 0 is inert
//	timeout    timeout ms                 → timeout (black hole both ways; 0 never closes)
//	reset_peer timeout ms                 → reset-peer
//	slicer     average_size, size_variation bytes, delay µs → slicer
//	limit_data bytes                      → limit-data
func (t *Toxic) Spec() faults.Spec {
	dir := faults.Direction(t.Stream)
	switch t.Type {
	case "latency":
		return faults.LatencySpec{Latency: t.ms("latency"), Jitter: t.ms("jitter"), Direction: dir}
	case "bandwidth":
		return faults.BandwidthSpec{Rate: max(1, float64(t.attr("rate"))*1000), Direction: dir}
	case "slow_close":
		return faults.SlowCloseSpec{Delay: t.ms("delay"), Direction: dir}
	case "timeout":
		return faults.TimeoutSpec{Timeout: t.ms("timeout")}
	case "reset_peer":
		return faults.ResetPeerSpec{Timeout: t.ms("timeout")}
	case "slicer":
		return faults.SlicerSpec{
			Size: int(t.attr("average_size")), SizeVariation: int(t.attr("size_variation")),
			Delay: time.Duration(t.attr("delay")) * time.Microsecond, Direction: dir,
		}
	case "limit_data":
		return faults.LimitDataSpec{Bytes: t.attr("bytes"), Direction: dir}
	}
	panic("gameday: Spec of an unnormalised toxic type " + t.Type)
}

// inert reports whether a normalised toxic has no effect in Toxiproxy: a
// latency toxic of 0 ± 0 ms and a slow_close of 0 ms, as Toxiproxy's
// clients create them before setting their attributes.
func (t *Toxic) inert() bool {
	switch t.Type {
	case "latency":
		return t.attr("latency") == 0 && t.attr("jitter") == 0
	case "slow_close":
		return t.attr("delay") == 0
	}
	return false
}

// kind is the chaosload fault kind a toxic maps onto.
func (t *Toxic) kind() faults.Kind { return t.Spec().Kind() }
