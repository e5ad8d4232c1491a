// Package doccheck holds no code: its tests check the documentation a user
// reads against the repository and the code. Every relative link of
// README.md and docs/ resolves to a file (and heading) of the repository and
// no link leaves it but for a public http(s) page; every fault kind package
// faults accepts has its section in docs/faults.md, and every example there
// validates with package config.
package doccheck
