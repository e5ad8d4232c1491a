package faults

import "context"

// ConnWatch follows the connections a proxy carries to its server while a
// fault that acts on the server directly is in effect (pool exhaustion).
// The proxy calls it (Injector.Watch); the fault decides. Every method may be
// called from many goroutines at once and must not block beyond what its
// documentation allows: the proxy calls Closed with its locks held.
type ConnWatch interface {
	// Admit is called for each new connection before the proxy dials the
	// server. It returns when the connection may go on, or when ctx ends
	// (the proxy bounds it to about a second).
	Admit(ctx context.Context)
	// Answer is given the first bytes the server sent on a connection the
	// proxy accepted while the watch was on, as they accumulate (the same
	// prefix, longer each time), and says what they mean. The proxy stops
	// asking once the answer is not Undecided.
	Answer(first []byte) ServerAnswer
	// Closed is called when a connection that may hold a server slot ends
	// (one opened before the watch, or one the server admitted); upstream is
	// the local address of the proxy's socket to the server, as the server
	// sees its client. It must not block.
	Closed(upstream string)
}

// ServerAnswer is what the first bytes from a server say about a new
// connection.
type ServerAnswer int

// The answers.
const (
	// Undecided: not enough bytes yet.
	Undecided ServerAnswer = iota
	// NoSlot: the server refused the connection for lack of connection
	// slots (PostgreSQL's 53300, Redis's "max number of clients reached").
	NoSlot
	// Admitted: the server took the connection.
	Admitted
	// Unknown: something else (another error, TLS): neither.
	Unknown
)
