// Command chaosload proves whether a service survives its dependencies
// failing under real load. See `chaosload help`.
package main

import (
	"context"
	"io"
	"os"

	"github.com/chaosload/chaosload/demo"
	"github.com/chaosload/chaosload/host"
)

func main() {
	demo.RunServiceIfChild() // the demo stack's service is this binary re-executed
	host.RunHogIfChild()     // so are cpu-hog's and memory-hog's hogs
	ctx, stop := interruptContext(os.Stderr)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole program: parse args, do the work, return the exit code.
// Tests call it in-process.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return newApp(stdout, stderr).execute(ctx, args)
}
