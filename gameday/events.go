package gameday

import (
	"sync"
	"time"
)

// Event is one entry of the game day's timeline, as the dashboard shows it.
type Event struct {
	// AtS is the session offset in seconds.
	AtS float64 `json:"at_s"`
	// Kind is "session", "fault", "revert", "recovery", "timeline", "load",
	// "proxy" or "error".
	Kind    string `json:"kind"`
	Message string `json:"message"`
}

// maxEvents bounds the event timeline kept in memory.
const maxEvents = 10000

type eventLog struct {
	mu     sync.Mutex
	events []Event
}

func newEventLog() *eventLog { return &eventLog{} }

func (l *eventLog) add(e Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.events) >= maxEvents {
		l.events = l.events[1:]
	}
	l.events = append(l.events, e)
}

func (l *eventLog) since(n int) []Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n >= len(l.events) {
		return nil
	}
	return append([]Event(nil), l.events[n:]...)
}

func (l *eventLog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.events)
}

func (s *Session) event(kind, msg string) {
	s.events.add(Event{AtS: s.Now().Round(time.Millisecond).Seconds(), Kind: kind, Message: msg})
	s.log.Info().Str("kind", kind).Msg(msg)
	if s.live != nil {
		s.live.poke()
	}
}

// Events returns the event timeline so far.
func (s *Session) Events() []Event { return s.events.since(0) }
