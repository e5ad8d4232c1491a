package demo

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestUploadCountsTheBody: POST /api/uploads reads a 30 MB body through
// and answers 201 with its size; nothing needs PostgreSQL or Redis.
func TestUploadCountsTheBody(t *testing.T) {
	t.Parallel()
	s := &Service{}
	srv := httptest.NewServer(http.HandlerFunc(s.handleUpload))
	t.Cleanup(srv.Close)
	const size = 30 << 20
	body := io.LimitReader(zeros{}, size)
	resp, err := http.Post(srv.URL, "application/octet-stream", body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got upload
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusCreated || got.Bytes != size {
		t.Fatalf("answered %d with %+v, want 201 and %d bytes", resp.StatusCode, got, size)
	}
}

// zeros reads as an endless run of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
