package proxy

import (
	"hash/fnv"
	"math/rand/v2"

	"github.com/Shopify/toxiproxy/v2/stream"
)

// splitmix64 is the finaliser of Steele, Lea and Flood's SplitMix64: a
// bijective mix of 64 bits, good enough to turn (key, sequence number) into
// an independent-looking uniform draw without any shared state.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// faultKey derives the key of one fault's draws from the experiment seed and
// the fault's name, so two faults draw independently and the same fault
// draws the same way in every run with the same seed.
func faultKey(seed int64, name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return splitmix64(uint64(seed) ^ h.Sum64())
}

// selects reports whether a fault with the given key and toxicity affects
// the connection with accept sequence number seq:
//
//	u = splitmix64(key ⊕ splitmix64(seq)) / 2⁶⁴ ∈ [0, 1);  selected ⇔ u < toxicity
//
// It is a pure function, so the draw is "once per connection" by
// construction and can be recomputed anywhere with the same answer.
func selects(key, seq uint64, toxicity float64) bool {
	switch {
	case toxicity >= 1:
		return true
	case toxicity <= 0:
		return false
	}
	u := float64(splitmix64(key^splitmix64(seq))>>11) / (1 << 53)
	return u < toxicity
}

// stageRand returns the generator of one stage's random draws (jitter) on one
// link: seeded from the fault's key, the connection and the direction, so the
// sequence of draws repeats with the seed.
func stageRand(key, seq uint64, dir stream.Direction) *rand.Rand {
	return rand.New(rand.NewPCG(splitmix64(key), splitmix64(seq<<1|uint64(dir))))
}
