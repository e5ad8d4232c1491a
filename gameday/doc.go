// Package gameday owns chaosload's long-running game-day mode: a Session
// keeps an experiment file's proxies (and bundled stack) up until it is
// closed, and serves on one address a control API compatible with
// Toxiproxy's REST API (so Toxiproxy's clients and CLI work unchanged),
// chaosload's own endpoints (catalogue faults for a duration, the file's
// timeline, background load, revert everything), a live dashboard pushed
// over WebSocket, Prometheus metrics and an audit log of every change.
//
// Toxiproxy toxics map onto chaosload's fault kinds, and their attributes
// keep Toxiproxy's units, converted in one place (Toxic.Spec). The proxies
// are package proxy's, never Toxiproxy's own runtime.
//
// gameday does not parse flags, read the environment or decide whether a
// token is needed (that is cmd/chaosload), and does not render reports
// beyond handing package report an Outcome of the session.
package gameday
