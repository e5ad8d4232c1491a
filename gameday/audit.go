package gameday

import (
	"encoding/json"
	"io"
	"sync"
	"time"
)

// AuditEntry is one change made during the game day: who made it (an API
// token's name, "dashboard", "api" on an unauthenticated loopback API,
// "timeline", "duration-ended" or "shutdown"), what, and when.
type AuditEntry struct {
	Time   time.Time      `json:"time"`
	Who    string         `json:"who"`
	Action string         `json:"action"`
	Target string         `json:"target,omitempty"`
	Fault  string         `json:"fault,omitempty"`
	Detail map[string]any `json:"detail,omitempty"`
}

// auditLog appends entries as JSON lines to a writer and keeps them for the
// final report.
type auditLog struct {
	mu      sync.Mutex
	w       io.Writer
	entries []AuditEntry
}

func newAuditLog(w io.Writer) *auditLog { return &auditLog{w: w} }

func (a *auditLog) add(e AuditEntry) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.entries = append(a.entries, e)
	if a.w == nil {
		return
	}
	b, err := json.Marshal(e)
	if err != nil {
		return
	}
	_, _ = a.w.Write(append(b, '\n'))
}

func (a *auditLog) list() []AuditEntry {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]AuditEntry(nil), a.entries...)
}

func (s *Session) auditf(who, action, target, fault string, detail map[string]any) {
	s.audit.add(AuditEntry{Time: time.Now().UTC(), Who: who, Action: action, Target: target, Fault: fault, Detail: detail})
}

// Audit returns every audit entry so far, oldest first.
func (s *Session) Audit() []AuditEntry { return s.audit.list() }
