package demo

import (
	"io"
	"net/http"
	"time"
)

// upload is the answer to POST /api/uploads.
type upload struct {
	// Bytes is how many bytes of the body were read.
	Bytes int64 `json:"bytes"`
	// MS is how long reading them took.
	MS float64 `json:"ms"`
}

// handleUpload reads a request body of any size, streaming it (nothing is
// kept), and answers 201 with how many bytes it read: the bulk transfer
// endpoint (a load step with bodySize: 120MB). A body that breaks off is a
// 400.
func (s *Service) handleUpload(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	n, err := io.Copy(io.Discard, r.Body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "read body: "+err.Error())
		return
	}
	writeJSON(w, http.StatusCreated, upload{Bytes: n, MS: ms(time.Since(start))})
}
