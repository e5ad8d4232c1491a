//go:build !unix

package main

import "io"

// terminalWidth returns 0: the width is not known on this platform, and the
// status line is not cut.
func terminalWidth(io.Writer) int { return 0 }
