//go:build !unix

package httpload

// alive cannot peek here; a stale connection shows as a failed exchange.
func (c *conn) alive() bool { return c.br.Buffered() == 0 }
