// Package demo owns chaosload's bundled demo stack: a throwaway PostgreSQL
// cluster, a Redis server and a small "shop" HTTP service that the bundled
// experiments run against.
//
// The three parts start separately so that the runner can put fault proxies
// between them:
//
//	StartPostgres ─┐                           ┌─> StartServiceProcess(Postgres: proxy addr,
//	StartRedis ────┴─> proxies (package proxy) ┘                       Redis: proxy addr)
//
// StartStack wires the three directly, for `chaosload demo`. Each part is a
// process of its own, started and stopped through package supervise: the
// service is the current executable re-executed (StartServiceProcess,
// RunServiceIfChild), so its CPU, memory and garbage collector are not the
// load generator's. NewService runs the same service inside the calling
// process, for tests that serve it themselves. Each part keeps its files in
// a temporary directory that Close removes; a directory left by a chaosload
// that was killed is removed by the next start (supervise.MkdirTemp).
//
// The service has two modes. ModeGraceful uses short timeouts, a bounded
// connection pool, 503 with Retry-After when PostgreSQL is unavailable and
// cached reads from Redis when it can; ModeNaive has none of that, so the
// bundled experiments pass against the first and fail against the second.
//
// The package does not inject faults, generate load or judge results.
package demo
