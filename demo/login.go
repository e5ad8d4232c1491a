package demo

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"sync"
	"time"
)

// The demo's one account, its password's hash cost, and the login limit of
// the graceful mode.
const (
	DemoUser        = "shopper"
	DemoPassword    = "correct horse battery staple"
	LoginIterations = 100_000 // PBKDF2-SHA256 rounds: tens of milliseconds of CPU per login
	LoginRate       = 20      // logins per second the graceful service admits
	LoginBurst      = 20
)

// logins serves POST /api/login {"user", "password"}: 200 with a token for
// the demo account's password, 401 otherwise. Every attempt costs a real
// password hash. The graceful service admits LoginRate logins per second
// (a token bucket of LoginBurst) and answers the rest 429 with Retry-After
// before hashing anything; the naive one hashes every attempt, and the CPU
// they need starves everything else under load.
type logins struct {
	salt, hash []byte
	iterations int
	limit      *tokenBucket // nil: no limit (naive)
}

func newLogins(mode Mode, iterations int, now func() time.Time) *logins {
	l := &logins{salt: []byte("chaosload-demo-salt"), iterations: iterations}
	l.hash = l.derive(DemoPassword)
	if mode == ModeGraceful {
		l.limit = &tokenBucket{rate: LoginRate, burst: LoginBurst, tokens: LoginBurst, now: now, last: now()}
	}
	return l
}

func (l *logins) derive(password string) []byte {
	k, _ := pbkdf2.Key(sha256.New, password, l.salt, l.iterations, 32) // fails only for FIPS-forbidden lengths
	return k
}

func (l *logins) serve(w http.ResponseWriter, r *http.Request) {
	if l.limit != nil && !l.limit.allow() {
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusTooManyRequests, "too many logins; retry in a second")
		return
	}
	var req struct{ User, Password string }
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "want {\"user\": ..., \"password\": ...}: "+err.Error())
		return
	}
	ok := subtle.ConstantTimeCompare(l.derive(req.Password), l.hash) == 1 // hashed whoever the user is
	if !ok || req.User != DemoUser {
		writeError(w, http.StatusUnauthorized, "wrong user or password")
		return
	}
	token := make([]byte, 16)
	_, _ = rand.Read(token)
	writeJSON(w, http.StatusOK, map[string]string{"token": hex.EncodeToString(token)})
}

// tokenBucket admits rate events per second on average, burst at once.
type tokenBucket struct {
	mu          sync.Mutex
	rate, burst float64
	tokens      float64
	last        time.Time
	now         func() time.Time
}

// allow takes a token if there is one.
func (b *tokenBucket) allow() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	t := b.now()
	b.tokens = min(b.burst, b.tokens+t.Sub(b.last).Seconds()*b.rate)
	b.last = t
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
