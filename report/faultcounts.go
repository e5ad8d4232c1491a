package report

import (
	"fmt"
	"strings"

	"github.com/chaosload/chaosload/runner"
)

// faultCounts describes what a protocol-aware fault did, e.g. "412 errors
// injected", "" for a fault without counts.
func faultCounts(f runner.FaultResult) string {
	var parts []string
	if f.Injected > 0 {
		parts = append(parts, fmt.Sprintf("%d errors injected", f.Injected))
	}
	if f.Delayed > 0 {
		parts = append(parts, fmt.Sprintf("%d requests delayed", f.Delayed))
	}
	if f.Uninspectable > 0 {
		parts = append(parts, fmt.Sprintf("%d connections not inspectable", f.Uninspectable))
	}
	return strings.Join(parts, ", ")
}
