package report

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/chaosload/chaosload/runner"
)

// JSON writes o in its versioned JSON form (see docs/outcome.md).
func JSON(w io.Writer, o *runner.Outcome) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(o)
}

// ReadJSON reads an Outcome written by JSON, refusing a newer schema.
func ReadJSON(r io.Reader) (*runner.Outcome, error) {
	var o runner.Outcome
	if err := json.NewDecoder(r).Decode(&o); err != nil {
		return nil, fmt.Errorf("read result: %w", err)
	}
	if o.SchemaVersion > runner.SchemaVersion {
		return nil, fmt.Errorf("read result: schema version %d is newer than this chaosload reads (%d)", o.SchemaVersion, runner.SchemaVersion)
	}
	return &o, nil
}

// WriteFile renders o into path with render, creating or truncating it.
func WriteFile(path string, o *runner.Outcome, render func(io.Writer, *runner.Outcome) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := render(f, o); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
