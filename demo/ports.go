package demo

import (
	"fmt"
	"net"
)

// freePort returns a loopback TCP port that was free a moment ago. Another
// process may take it before the caller binds it; callers retry on a bind
// failure.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free loopback port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
