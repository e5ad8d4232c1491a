package load

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// DataOrder is how the iterations of a scenario take the rows of its data.
type DataOrder string

// The data orders.
const (
	// RoundRobin gives each iteration the next row, shared by every VU of
	// the scenario, and starts over after the last (Gatling's circular
	// feeder).
	RoundRobin DataOrder = "round-robin"
	// Random gives each iteration a row drawn from the VU's seeded random
	// source (Gatling's random feeder).
	Random DataOrder = "random"
)

// DataOrders lists the data orders; the first is the default.
var DataOrders = []DataOrder{RoundRobin, Random}

// DataSet is the rows of a CSV file, read once and shared read-only by every
// VU (k6's SharedArray): iterations read a row as ${data.COLUMN}.
type DataSet struct {
	columns map[string]int
	names   []string
	rows    [][]string
}

// ReadDataFile reads the CSV file at path (see ReadData).
func ReadDataFile(path string) (*DataSet, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read data: %w", err)
	}
	defer f.Close()
	ds, err := ReadData(f)
	if err != nil {
		return nil, fmt.Errorf("read data %s: %w", path, err)
	}
	return ds, nil
}

// ReadData reads CSV (RFC 4180): a header row naming the columns, then at
// least one record with as many fields. Column names are trimmed and must
// be unique, non-empty identifiers (letters, digits, _ and -).
func ReadData(r io.Reader) (*DataSet, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = false
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("the file is empty; want a header row naming the columns, then rows")
	}
	if err != nil {
		return nil, err
	}
	ds := &DataSet{columns: map[string]int{}}
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		if !isIdent(h) {
			return nil, fmt.Errorf("column %d of the header is %q; want a name of letters, digits, _ and -", i+1, h)
		}
		if _, dup := ds.columns[h]; dup {
			return nil, fmt.Errorf("column %q is named twice in the header", h)
		}
		ds.columns[h] = i
		ds.names = append(ds.names, h)
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		ds.rows = append(ds.rows, rec)
	}
	if len(ds.rows) == 0 {
		return nil, errors.New("the file has a header but no rows")
	}
	return ds, nil
}

// Columns returns the column names, in file order.
func (d *DataSet) Columns() []string { return slices.Clone(d.names) }

// Len returns the number of rows.
func (d *DataSet) Len() int { return len(d.rows) }

// Column returns the index of a column, false when there is none.
func (d *DataSet) Column(name string) (int, bool) {
	i, ok := d.columns[name]
	return i, ok
}

// isIdent reports whether s is a non-empty name of letters, digits, _ and -.
func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}
