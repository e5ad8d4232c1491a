package metrics

import (
	"encoding/json"
	"testing"
	"time"
)

// TestCellsRoundTrip: a recorder shipped interval by interval as CellData
// (through JSON, as frames travel) and added to an empty recorder equals
// the original in every window, raw cells and packed ones alike.
func TestCellsRoundTrip(t *testing.T) {
	t.Parallel()
	src := NewRecorder(Config{})
	for _, res := range randomResults(3, 5000) {
		src.Record(res)
	}
	for _, res := range randomResults(4, 2000) { // one busy interval: its cells outgrow raw
		res.End -= res.Intended
		res.Dispatched -= res.Intended
		res.Start -= res.Intended
		res.Intended = 0
		src.Record(res)
	}
	dst := NewRecorder(Config{})
	packed := 0
	for k := 0; k <= src.Last(); k++ {
		cells, err := src.Cells(k)
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(cells)
		if err != nil {
			t.Fatal(err)
		}
		var back []CellData
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		for _, c := range back {
			if len(c.Hist) > 0 {
				packed++
			}
		}
		if err := dst.AddCells(k, back); err != nil {
			t.Fatal(err)
		}
	}
	if packed == 0 {
		t.Fatal("no packed cell was shipped: the test does not cover histograms")
	}
	for _, w := range []struct{ from, to time.Duration }{{0, MaxInterval}, {0, time.Minute}, {10 * time.Second, 20 * time.Second}} {
		assertAggregateEqual(t, dst.Window(w.from, w.to, Selector{}), src.Window(w.from, w.to, Selector{}))
		assertAggregateEqual(t, dst.WithoutLateness().Window(w.from, w.to, Selector{}),
			src.WithoutLateness().Window(w.from, w.to, Selector{}))
	}
}

func TestAddCellsRefusesBadHistograms(t *testing.T) {
	t.Parallel()
	r := NewRecorder(Config{})
	tests := []struct {
		name string
		cell CellData
	}{
		// fewer histograms than timings
		{"two histograms", CellData{Ops: 1, Hist: []string{"", ""}}},
		// not an HdrHistogram encoding
		{"garbage", CellData{Ops: 1, Hist: []string{"x", "x", "x", "x", "x"}}},
	}
	for _, tt := range tests {
		if err := r.AddCells(0, []CellData{tt.cell}); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
}
