package load

import "time"

// WSSession is the operation of a `ws:` step: one WebSocket session.
//
//	ws:
//	  url: "ws://${targets.api}/ws/feed"
//	  send: {json: {type: chat, text: hi}, rate: 10}   # 10 messages/s over the hold
//	  expect: {json: {field: seq}, timeout: 5s}         # each message's reply carries its seq back
//	  hold: 30s
//
// The step dials a new connection (dial and handshake are the ws_connect
// metric; the connection counts in conn_rate), sends Send once or at its
// Rate for the whole Hold, matches replies as Expect says, keeps the
// connection open for Hold, then closes it and waits for what is still
// outstanding (each message for at most Expect.Timeout). Every frame sent
// and received is a ws_msgs event; a sent message with an expected reply is
// timed from its intended send time to the reply (ws_rtt), so a slow
// connection or a stalled server shows as round trip, not as fewer
// messages.
//
// The step's own result is the session: from its intended start to the
// close. It counts in ops, errors and conn_rate but not in latency (its
// length is the hold, not a measurement; ws_connect and ws_rtt are the
// timings). It fails with the connect's class (conn_refused, timeout,
// http_4xx or http_429 when the handshake is refused, ...), else ws_closed when the
// server ended the connection before the step did, else timeout when an
// expected reply never came.
type WSSession struct {
	// URL is a ws:// or wss:// URL.
	URL string `yaml:"url"`
	// Headers are sent with the handshake.
	Headers map[string]string `yaml:"headers"`
	// Send is what the session sends; nil sends nothing.
	Send *WSSend `yaml:"send"`
	// Expect says which received frames are replies to sent messages; nil
	// expects none (messages are counted, not timed).
	Expect *WSExpect `yaml:"expect"`
	// Hold keeps the connection open this long once established (0: close
	// as soon as the message sent once has its reply).
	Hold time.Duration `yaml:"hold"`
	// ConnectTimeout bounds dial and handshake (default 10s).
	ConnectTimeout time.Duration `yaml:"connectTimeout"`
}

// WSSend is what a WebSocket session sends: a text frame, Text or JSON
// encoded (exactly one), once or at Rate.
type WSSend struct {
	Text string `yaml:"text"`
	JSON any    `yaml:"json"`
	// Rate sends that many messages per second over the whole hold, each
	// at its place in an absolute schedule from the moment the connection
	// was established; zero sends one message once connected.
	Rate float64 `yaml:"rate"`
}

// WSExpect says which received frames are replies to the messages sent,
// by text or by a JSON field (exactly one), and how long a message waits
// for its reply.
type WSExpect struct {
	// Text: a reply is a frame whose text is exactly this; replies are
	// matched to messages in order.
	Text string `yaml:"text"`
	// JSON matches by a field of a JSON frame.
	JSON *WSJSONMatch `yaml:"json"`
	// Timeout is how long a message waits for its reply (default 5s):
	// then it is recorded as a timeout, its round trip the time waited.
	Timeout time.Duration `yaml:"timeout"`
}

// WSJSONMatch matches replies by a field of a JSON frame.
type WSJSONMatch struct {
	// Field is the field's path: a key, or keys joined by dots ("data.id").
	Field string `yaml:"field"`
	// Equals: a reply is a JSON frame whose Field equals this; replies
	// are matched to messages in order. Without it the session correlates:
	// it writes a unique number at Field of every message it sends (Send
	// must be JSON), and a reply is the frame carrying that number back, so
	// each round trip is exact even when replies come out of order.
	Equals any `yaml:"equals"`
}

// PGStatement is the operation of a `pg:` step: one SQL statement on the
// scenario's pool for DSN.
//
//	pg: {dsn: "postgres://shop@${targets.postgres}/shop", query: "SELECT * FROM products WHERE id = $1", args: [1]}
//
// Every step of a scenario naming the same DSN shares one pool. A query's
// rows are all read (and counted, not kept); an exec runs a statement
// without rows. A failure's class is pg_<SQLSTATE> when PostgreSQL answered
// with an error (pg_53300: too many connections, pg_57014: statement
// cancelled), else the transport's (conn_refused, conn_reset, timeout).
type PGStatement struct {
	// DSN is a postgres:// URL or a key=value connection string.
	DSN string `yaml:"dsn"`
	// Query runs a statement that returns rows; Exec one that does not.
	// Exactly one is set.
	Query string `yaml:"query"`
	Exec  string `yaml:"exec"`
	// Args are the statement's parameters, $1 onwards.
	Args []any `yaml:"args"`
	// Timeout bounds the statement, waiting for a connection included
	// (default 10s).
	Timeout time.Duration `yaml:"timeout"`
	// PoolSize caps the connections of the scenario's pool for DSN
	// (default 10; when steps sharing the pool differ, the largest).
	PoolSize int `yaml:"poolSize"`
}

// RedisCall is the operation of a `redis:` step: one command, or a
// pipeline of commands sent in one round trip.
//
//	redis: {addr: "${targets.redis}", command: [GET, "product:1"]}
//	redis: {addr: "${targets.redis}", command: [LPUSH, jobs, x], repeat: 1000}   # a bulk queue
//
// Every step of a scenario naming the same address (and DB) shares one
// client. A failure's class is redis_<PREFIX> for an error reply (the
// reply's first word: redis_ERR, redis_WRONGTYPE, redis_LOADING, redis_OOM,
// ...), else the transport's (conn_refused, conn_reset, timeout). A nil
// reply (a missing key) is a success.
type RedisCall struct {
	// Addr is host:port.
	Addr string `yaml:"addr"`
	// DB is the database number (default 0).
	DB int `yaml:"db"`
	// Username and Password authenticate (AUTH), when set.
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// Command is one command and its arguments: [SET, key, value].
	Command []any `yaml:"command"`
	// Pipeline is several commands sent together; exactly one of Command
	// and Pipeline is set.
	Pipeline [][]any `yaml:"pipeline"`
	// Repeat queues the command (or the whole pipeline) this many times in
	// one pipeline (default 1): 1,000 queued commands in one operation.
	Repeat int `yaml:"repeat"`
	// Timeout bounds the operation, waiting for a connection included
	// (default 10s).
	Timeout time.Duration `yaml:"timeout"`
	// PoolSize caps the connections of the scenario's client for Addr
	// (default 10; when steps sharing the client differ, the largest).
	PoolSize int `yaml:"poolSize"`
}

// Defaults of the protocol steps.
const (
	DefaultWSConnectTimeout = 10 * time.Second
	DefaultWSReplyTimeout   = 5 * time.Second
	DefaultPGTimeout        = 10 * time.Second
	DefaultRedisTimeout     = 10 * time.Second
	DefaultPoolSize         = 10
)
