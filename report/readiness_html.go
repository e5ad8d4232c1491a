package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"

	"github.com/chaosload/chaosload/readiness"
)

//go:embed readiness.tmpl
var readinessSource string

var readinessPage = template.Must(template.New("readiness").Parse(readinessSource))

// ReadinessHTML writes the readiness report as one self-contained HTML
// page, readable offline: styles inlined, no script, nothing fetched. The
// verdict carries id="verdict" and the criteria table id="criteria", one
// row per criterion with class met, not-met or not-measured.
func ReadinessHTML(w io.Writer, a *readiness.Assessment) error {
	if err := readinessPage.Execute(w, newRDView(a)); err != nil {
		return fmt.Errorf("readiness html: %w", err)
	}
	return nil
}
