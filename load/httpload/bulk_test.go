package httpload

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chaosload/chaosload/load"
)

// heapWatch samples the heap every few milliseconds until stopped and
// returns the most it grew above where it started.
func heapWatch() (stop func() uint64) {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > base && ms.HeapAlloc-base > peak.Load() {
				peak.Store(ms.HeapAlloc - base)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	return func() uint64 {
		close(done)
		wg.Wait()
		return peak.Load()
	}
}

// TestBulkTransfers moves more than 100 MB each way through a loopback
// server — a generated upload, a file upload and a download — and checks
// every byte is counted on both sides while the process's heap grows by a
// small fraction of that: bodies are streamed, downloads read and dropped.
func TestBulkTransfers(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 400 MB")
	}
	const size = 128 << 20
	file := filepath.Join(t.TempDir(), "upload.bin")
	if err := os.WriteFile(file, make([]byte, 32<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, m := range plainModes {
		t.Run(m.name, func(t *testing.T) {
			srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/download" {
					w.Header().Set("Content-Length", strconv.Itoa(size))
					chunk := pattern[:64<<10]
					for left := size; left > 0; left -= len(chunk) {
						if _, err := w.Write(chunk); err != nil {
							return
						}
					}
					return
				}
				n, _ := io.Copy(io.Discard, r.Body)
				io.WriteString(w, strconv.FormatInt(n, 10))
			})
			d := newDriver(t, Config{NetHTTP: m.netHTTP})
			stop := heapWatch()
			upVU := newVU()
			up := do(d, upVU, &load.Step{Name: "up", HTTP: &load.HTTPRequest{Method: "POST", URL: srv.URL + "/up",
				BodySize: size, Timeout: time.Minute}, Extract: []load.Extract{{Name: "n", Regex: `\d+`}}})
			fileUp := do(d, newVU(), &load.Step{Name: "file", HTTP: &load.HTTPRequest{Method: "PUT", URL: srv.URL + "/file",
				BodyFile: file, Timeout: time.Minute}})
			down := do(d, newVU(), &load.Step{Name: "down", HTTP: &load.HTTPRequest{URL: srv.URL + "/download", Timeout: time.Minute}})
			grew := stop()
			t.Logf("heap grew by at most %.1f MB while moving %d MB", float64(grew)/(1<<20), (2*size+32<<20)>>20)
			if !up.OK() || up.BytesOut != size || !fileUp.OK() || fileUp.BytesOut != 32<<20 || !down.OK() || down.BytesIn != size {
				t.Fatalf("upload %s %d bytes (%v), file %s %d (%v), download %s %d (%v)",
					up.Class, up.BytesOut, up.Err, fileUp.Class, fileUp.BytesOut, fileUp.Err, down.Class, down.BytesIn, down.Err)
			}
			if n, _ := upVU.Var("n"); n != strconv.Itoa(size) {
				t.Errorf("the server received %s bytes of the upload, want %d", n, size)
			}
			if grew > 24<<20 {
				t.Errorf("heap grew by %d MB moving %d MB: a body was held in memory", grew>>20, (2*size)>>20)
			}
		})
	}
}

// TestGeneratedBody: a generated body has exactly bodySize bytes of the
// pattern, and the server receives them all.
func TestGeneratedBody(t *testing.T) {
	t.Parallel()
	eachMode(t, modes, func(t *testing.T, m mode) {
		var got []byte
		var mu sync.Mutex
		srv := m.serve(t, func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			mu.Lock()
			got = b
			mu.Unlock()
		})
		const size = 200_001 // not a multiple of the pattern's length
		r := do(m.driver(t, Config{}, srv), newVU(), &load.Step{Name: "up", HTTP: &load.HTTPRequest{Method: "POST", URL: srv.URL, BodySize: size}})
		mu.Lock()
		defer mu.Unlock()
		if !r.OK() || r.BytesOut != size || len(got) != size {
			t.Fatalf("class %q (%v): sent %d, server got %d; want %d", r.Class, r.Err, r.BytesOut, len(got), size)
		}
		for i := range got {
			if got[i] != pattern[i%len(pattern)] {
				t.Fatalf("byte %d is %q, want the pattern's", i, got[i])
			}
		}
	})
}
