// Package proxy owns chaosload's fault proxy runtime: one TCP proxy per
// target with its own listener and accept loop, an upstream dial with a
// timeout done off the accept loop, per-connection links that copy bytes each
// way, the fault stages that run on those links, accept-level faults (reset,
// down), seeded toxicity draws, and live per-proxy metrics.
//
// It does not own the fault timeline, the validation of fault specs (Inject
// applies faults.CheckSpec, the rules an experiment file meets) or the
// faults that act on a dependency directly (pool exhaustion): those are
// package faults, which drives a *Proxy through the faults.Injector interface.
// It does not import load or runner. Toxiproxy's toxics and stream packages
// are reused as the stage mechanism; Toxiproxy's own Proxy, ToxicCollection
// and ToxicLink are not used, because they deadlock when a fault changes while
// one connection is back-pressured (Toxiproxy issue #558).
//
// # Goroutines
//
// Run owns the accept loop and, through a WaitGroup, every goroutine below.
// Per accepted connection:
//
//	fast path (no fault on the link):       2 goroutines, one per link, no buffer while idle
//	fault path (a stage on a link):    +1 per stage +1 writer, on that link only
//
// A link is one direction of a connection: "upstream" copies client → server,
// "downstream" copies server → client. On the fast path the link goroutine
// sits in one syscall.RawConn.Read call on its source: the runtime's poller
// waits for readability with no buffer held, then the callback copies
// through a pooled 32 KiB buffer until the source has nothing more, gives the
// buffer back and returns to waiting. A read that fills the whole buffer means a bulk
// transfer: the link then hands up to 1 MiB at a time to splice(2) (the
// kernel moves the bytes through a pipe from the runtime's pool) and comes
// back to the callback after each.
//
//	src ──(poller: readable)──▶ pooled buf ──▶ dst      one goroutine, no buffer while idle
//	src ──splice──▶ pipe ──splice──▶ dst               after a full read, ≤ 1 MiB per call
//
// A socket whose two ends are loopback addresses is switched to Reno
// congestion control: on loopback nothing is lost, and the usual default
// (BBR) paces every send with a timer, which cost a third of the proxy's CPU
// in bulk transfers. Elsewhere the system's default is kept.
//
// The fast path costs what the kernel charges for one more TCP hop: on
// loopback the proxy's 2 reads and 2 writes per request/response take as
// much CPU as the client's and the server's together (perf: ~88% of it in
// the kernel), and the simplest Go proxy, a Read/Write loop per direction,
// costs the same per request (bench/proxy.sh prints both).
//
// When a fault applies to the link, the same goroutine becomes the reader of a
// pipeline built from Toxiproxy's pipe protocol (stream.StreamChunk values on
// channels between toxics.ToxicStub stages) and a writer goroutine drains it:
//
//	        reader                 stage 1                stage N          writer
//	src ──▶ (link goroutine) ──▶ ToxicStub.Pipe ──▶ … ──▶ ToxicStub.Pipe ──▶ (goroutine) ──▶ dst
//	                       chan          (buffered, e.g. 1024 chunks for latency)   chan
//
// # The sockmap fast path
//
// Where the kernel allows it (Linux with BPF sockmap and BTF, root or CAP_BPF,
// CAP_PERFMON and CAP_NET_ADMIN; Config.NoSockmap turns it off), the copying above is left
// to the kernel: a connection's two sockets join a BPF sockmap and a verdict
// program forwards each direction that no fault touches, while its link
// goroutine waits for the end of the stream or a fault. sockmap.go explains
// how a direction leaves the kernel and comes back without losing,
// duplicating or reordering a byte, how bytes are counted, and what the
// kernel does not do (back-pressure) that the program does itself;
// sockmap_overlap.go, how a retransmitted segment's old bytes are cut off.
// Stats.FastPath says which path the proxy uses.
//
// # How faults reach live connections
//
// Inject and a Revert never wait for any connection. They publish an immutable
// fault set through an atomic pointer and wake the links concerned: a read
// deadline in the past on the link's source (which ends a wait for data at
// once and loses no byte) and a token on the link's wake channel (which ends a
// wait to hand a chunk to the pipeline). The link notices at its next
// boundary, compares the stages it wants with the stages it runs and, if they
// differ, switches:
//
//   - fast → fault path: build the pipeline; the next chunk read goes into it.
//   - fault → fault or fast path: stop reading, ask the stages that are being
//     removed to flush at once (their Interrupt channel is closed: no delay
//     applied any more, every queued chunk handed on in order), close the
//     pipeline's input so the stages that stay drain as they would, wait until
//     the writer has written the last chunk, then build the next pipeline or
//     go back to the fast path. A chunk read but not yet handed on is carried
//     over to whatever comes next, so no byte is lost or reordered.
//
// A link whose destination does not read (its TCP window is full) is blocked
// in a write; only that link waits, and it sees the change when the write
// completes or the connection is closed. This is the difference from
// Toxiproxy, whose ToxicCollection interrupts every link synchronously while
// holding the proxy-wide lock (Toxiproxy's issue #558).
//
// # Fault semantics
//
//   - Latency delays each chunk by latency ± a uniform jitter, measured from
//     the time the chunk was read, in the direction given. Downstream (the
//     default of package faults) adds the delay once per request/response round
//     trip, upstream too, both adds it twice. Reads continue while earlier
//     chunks wait (up to 1024 chunks queued), and order is kept.
//   - Reset sends a real TCP RST (SO_LINGER 0, then close) to both sides of
//     every selected active connection, and while applied accepts new
//     connections and resets them at once. A one-shot reset is Inject followed
//     by the Revert.
//   - Down closes the listener (new connections get ECONNREFUSED) and closes
//     every selected active connection; its Revert listens again on the same
//     address.
//   - A protocol-aware fault's Revert draws no request from then on; a
//     connection still owed something the fault decided (an error waiting
//     behind the server's earlier responses, an extended-protocol batch
//     until its Sync, a Redis transaction it failed until its EXEC, the rest
//     of an answered request's body) keeps the fault's stages until it is
//     owed nothing, however long that takes, then drops them; the others
//     drop them at once (protocol.go).
//   - A watch (Watch, for pool exhaustion, which package faults carries out
//     on the server itself) holds each new connection before its dial until
//     the watcher admits it (at most a second), shows the watcher the
//     server's first bytes (a refusal for lack of slots, or an admission),
//     and reports every connection that may hold a server slot when it
//     closes, synchronously: a reset's closes are reported before Inject
//     returns.
//
// Every fault counts what it did to traffic (FaultStats): connections
// refused, reset, queued or delayed; chunks and requests delayed; requests
// answered with an error; bytes held or dropped; for a watch, the server's
// refusals and admissions.
//
// Toxicity, the share of connections a fault affects, is drawn once per
// connection and fault from Config.Seed, the fault's name and the connection's
// accept sequence number (splitmix64), so the same seed and the same order of
// connections select the same connections. Jitter is drawn from a generator
// seeded the same way per connection and direction: the sequence of delays is
// repeatable, although how the stream is cut into chunks depends on timing.
//
// # Limits
//
//   - Bytes are counted as each write completes; a splice call is counted
//     when it returns, so up to 1 MiB may be moved before it shows.
//   - A link parked in the middle of a splice (a bulk transfer that paused)
//     holds a pipe (two file descriptors) until its next 1 MiB or a fault
//     change wakes it.
//   - The last millisecond of a latency wait is slept precisely (nanosleep,
//     then yielding) and cannot be interrupted; everything before it can.
//   - A latency stage queues up to 1024 chunks (up to 32 MiB) per link when
//     the destination does not read, as Toxiproxy's latency toxic does.
package proxy
