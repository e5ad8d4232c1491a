package demo

import (
	"errors"
	"fmt"
	"net"

	"github.com/rs/zerolog"
)

// freePort returns a loopback TCP port that was free a moment ago. Another
// process may take it before the caller binds it; onFreePort retries.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free loopback port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// errPortTaken reports that a server could not bind the port it was given.
var errPortTaken = errors.New("port taken")

// portAttempts is how many free ports onFreePort tries.
const portAttempts = 5

// onFreePort starts a server of the stack (PostgreSQL, Redis, the demo
// service) on a free loopback port: start starts it on port and waits
// until it is ready, and returns an error wrapping errPortTaken when the
// server could not bind the port, taken between freePort and the bind;
// then another port is tried.
func onFreePort(name string, log zerolog.Logger, start func(port int) error) error {
	var err error
	for range portAttempts {
		port, perr := freePort()
		if perr != nil {
			return perr
		}
		if err = start(port); !errors.Is(err, errPortTaken) {
			return err
		}
		log.Debug().Int("port", port).Msg(name + ": port taken, retrying")
	}
	return fmt.Errorf("%d attempts: %w", portAttempts, err)
}
