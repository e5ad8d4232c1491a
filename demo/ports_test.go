package demo

import (
	"errors"
	"fmt"
	"testing"

	"github.com/rs/zerolog"
)

// TestOnFreePort: a port taken between freePort and the bind is retried
// on another free port, up to portAttempts; any other failure is returned
// at once.
func TestOnFreePort(t *testing.T) {
	t.Parallel()
	other := errors.New("initdb failed")
	tests := []struct {
		name      string
		taken     int   // how many first attempts find their port taken
		fail      error // what the attempt after those returns
		wantCalls int
		wantErr   error
	}{
		// the first port free: one attempt
		{"free", 0, nil, 1, nil},
		// two ports taken in the meantime: the third is used
		{"taken twice", 2, nil, 3, nil},
		// every port taken: gives up after portAttempts, saying why
		{"always taken", portAttempts, nil, portAttempts, errPortTaken},
		// a failure that is not the port's: no retry
		{"other failure", 0, other, 1, other},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			calls := 0
			err := onFreePort("test", zerolog.Nop(), func(port int) error {
				calls++
				if port <= 0 {
					return fmt.Errorf("port %d", port)
				}
				if calls <= tc.taken {
					return fmt.Errorf("%w: bind: address already in use", errPortTaken)
				}
				return tc.fail
			})
			if calls != tc.wantCalls || !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("%d attempts, %v; want %d attempts, %v", calls, err, tc.wantCalls, tc.wantErr)
			}
		})
	}
}
