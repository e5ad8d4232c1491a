package cluster

import (
	"crypto/sha256"
	"encoding/hex"
)

// Hash returns the identity of an experiment for registration: the SHA-256
// of what the coordinator and every worker must agree on (the experiment
// file as given, and the --set values), hex-encoded.
func Hash(parts ...[]byte) string {
	h := sha256.New()
	for _, p := range parts {
		var n [8]byte
		for i := range n {
			n[i] = byte(len(p) >> (8 * i))
		}
		h.Write(n[:])
		h.Write(p)
	}
	return hex.EncodeToString(h.Sum(nil))
}
