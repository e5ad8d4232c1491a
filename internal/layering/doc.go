// Package layering holds no code: its test reads the module's import graph
// (go list) and fails on an import that runs against the dependency
// direction docs/architecture.md describes. It lives in a package of its own
// so that `go test ./...` runs it once, and so that no package under test has
// to import the whole tree to check it.
package layering
