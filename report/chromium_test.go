package report

import (
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/chaosload/chaosload/internal/headless"
)

// screenshot renders page in headless Chromium at the given window size and
// returns the picture.
func screenshot(t *testing.T, bin, page string, width, height int) image.Image {
	t.Helper()
	dir := t.TempDir()
	file, shot := filepath.Join(dir, "report.html"), filepath.Join(dir, "shot.png")
	if err := os.WriteFile(file, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	out := headless.Run(t, bin, dir, fmt.Sprintf("--window-size=%d,%d", width, height), "--screenshot="+shot, "file://"+file)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v\n%s", err, out)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	return img
}

// colorCounts counts the pixels of each wanted colour ("#rrggbb"), allowing
// a small difference per channel.
func colorCounts(img image.Image, colors []string) map[string]int {
	type rgb struct{ r, g, b int }
	want := make(map[string]rgb, len(colors))
	for _, c := range colors {
		v, _ := strconv.ParseUint(c[1:], 16, 32)
		want[c] = rgb{int(v >> 16), int(v >> 8 & 0xff), int(v & 0xff)}
	}
	counts := map[string]int{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			px := rgb{int(r >> 8), int(g >> 8), int(bl >> 8)}
			for name, w := range want {
				if abs(px.r-w.r) <= 3 && abs(px.g-w.g) <= 3 && abs(px.b-w.b) <= 3 {
					counts[name]++
				}
			}
		}
	}
	return counts
}

func abs(v int) int { return max(v, -v) }

// TestHTMLInChromium renders the report in headless Chromium, takes a
// screenshot and checks that the charts drew: every series' colour covers
// far more pixels than its legend swatch (12×4), the fault windows are
// shaded and the recovery point is drawn. The same check on a report
// without data finds none of it, so it can fail.
func TestHTMLInChromium(t *testing.T) {
	bin := headless.Chromium(t)
	fault, recovered := "#fbe1de", "#00a651"
	series := []string{colP50, colP95, colP99, colOps, colOK, classColors["http_503"], classColors["timeout"], colVUs, colBusy, colArr}
	all := append([]string{fault, recovered}, series...)

	img := screenshot(t, bin, renderHTML(t, passedOutcome()), 1100, 3000)
	got := colorCounts(img, all)
	for _, c := range series {
		if got[c] < 300 {
			t.Errorf("series colour %s: %d pixels, want ≥ 300 (a drawn line, not just the legend)", c, got[c])
		}
	}
	if got[fault] < 20000 {
		t.Errorf("fault shading: %d pixels, want ≥ 20000 (a band in each of 4 charts)", got[fault])
	}
	if got[recovered] < 400 {
		t.Errorf("recovery mark: %d pixels, want ≥ 400 (a line in each of 4 charts)", got[recovered])
	}
	t.Logf("pixels per colour: %v", got)

	empty := passedOutcome()
	empty.Intervals, empty.Phases, empty.Faults, empty.Recovery, empty.Episodes = nil, nil, nil, nil, nil
	none := colorCounts(screenshot(t, bin, renderHTML(t, empty), 1100, 3000), all)
	for _, c := range all {
		if none[c] >= 300 {
			t.Errorf("control without data: colour %s covers %d pixels; the check cannot tell drawn from not drawn", c, none[c])
		}
	}
}
