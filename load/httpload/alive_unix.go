//go:build unix

package httpload

import (
	"errors"
	"syscall"
)

// alive reports whether an idle connection still looks usable: the peer
// has neither closed nor reset it, nor sent anything unasked. It peeks
// without blocking (one recv with MSG_PEEK|MSG_DONTWAIT); net/http learns
// the same from a reader goroutine per connection, which this client does
// not have.
func (c *conn) alive() bool {
	if c.br.Buffered() > 0 {
		return false // bytes nobody asked for
	}
	sc, ok := c.nc.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	ok = false
	var b [1]byte
	err = rc.Read(func(fd uintptr) bool {
		_, _, rerr := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		ok = errors.Is(rerr, syscall.EAGAIN) // nothing to read: open and quiet
		return true
	})
	return err == nil && ok
}
