package faults

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// pgTooManyConnections is SQLSTATE 53300, what PostgreSQL answers when no
// connection slot is left for the role ("sorry, too many clients already",
// or "remaining connection slots are reserved for ..." for a role that may
// not use the reserved ones).
const pgTooManyConnections = "53300"

// pgSlots is the PostgreSQL side of a slot hold: connections from the
// target's dsn (bypassing the proxy), named by application_name so that the
// revert can see them gone.
type pgSlots struct {
	dsn  string
	app  string // application_name of the hold's connections
	spec PoolExhaustionSpec

	mu  sync.Mutex
	cfg *pgconn.Config // parsed once; narrowed to plaintext when TLS was declined
}

func newPGSlots(name, dsn string, spec PoolExhaustionSpec) *pgSlots {
	return &pgSlots{dsn: dsn, app: "chaosload pool-exhaustion " + name, spec: spec}
}

func (s *pgSlots) String() string {
	cfg, err := s.config()
	if err != nil {
		return "postgres (bad dsn)"
	}
	return "postgres at " + net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port)))
}

// config returns the parsed dsn with the hold's application_name.
func (s *pgSlots) config() (*pgconn.Config, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cfg == nil {
		cfg, err := pgconn.ParseConfig(s.dsn)
		if err != nil {
			return nil, fmt.Errorf("parse dsn: %w", err)
		}
		cfg.RuntimeParams["application_name"] = s.app
		s.cfg = cfg
	}
	return s.cfg, nil
}

// connect opens one pgconn connection; errNoSlot when refused with 53300.
func (s *pgSlots) connect(ctx context.Context) (*pgconn.PgConn, error) {
	cfg, err := s.config()
	if err != nil {
		return nil, err
	}
	c, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == pgTooManyConnections {
			return nil, fmt.Errorf("%w: %s", errNoSlot, pe.Message)
		}
		return nil, err
	}
	s.narrow(c)
	return c, nil
}

// narrow makes later connections skip TLS when the server declined it: with
// sslmode=prefer pgconn would otherwise open two connections per attempt
// (a backend forked for each).
func (s *pgSlots) narrow(c *pgconn.PgConn) {
	if _, isTLS := c.Conn().(*tls.Conn); isTLS {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cfg.TLSConfig != nil || len(s.cfg.Fallbacks) > 0 {
		cfg := s.cfg.Copy()
		cfg.TLSConfig, cfg.Fallbacks = nil, nil
		s.cfg = cfg
	}
}

func (s *pgSlots) dial(ctx context.Context) (net.Conn, error) {
	c, err := s.connect(ctx)
	if err != nil {
		return nil, err
	}
	if err := c.SyncConn(ctx); err != nil {
		c.Close(context.Background())
		return nil, err
	}
	hj, err := c.Hijack()
	if err != nil {
		c.Close(context.Background())
		return nil, err
	}
	return hj.Conn, nil
}

// pgTerminate is the frontend's Terminate message: the backend exits
// without logging an unexpected end of file.
var pgTerminate = []byte{'X', 0, 0, 0, 4}

func (s *pgSlots) hangUp(c net.Conn) {
	c.SetWriteDeadline(time.Now().Add(time.Second))
	_, _ = c.Write(pgTerminate)
	c.Close()
}

func (s *pgSlots) openProbe(ctx context.Context) (slotProbe, error) {
	c, err := s.connect(ctx)
	if err != nil {
		return nil, err
	}
	p := &pgProbe{c: c}
	if err := p.limits(ctx, s.spec); err != nil {
		c.Close(context.Background())
		return nil, err
	}
	return p, nil
}

// released polls pg_stat_activity, over a new connection, until no session
// of the hold remains.
func (s *pgSlots) released(ctx context.Context) error {
	c, err := s.connect(ctx)
	if err != nil {
		return fmt.Errorf("check released connections: %w", err)
	}
	defer c.Close(context.Background())
	return pollUntil(ctx, 10*time.Millisecond, "sessions still open on the server after release", func() (bool, error) {
		rows, err := pgQuery(ctx, c, "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()", s.app)
		return err == nil && len(rows) == 1 && string(rows[0][0]) == "0", err
	})
}

// answer reads the first backend messages of a proxied connection: an
// ErrorResponse with 53300 is NoSlot, any other error Unknown, the
// messages of a started session (ParameterStatus, BackendKeyData,
// ReadyForQuery) Admitted; authentication requests come before a
// reserved-slot refusal, so they do not decide. A lone 'N' first is the
// answer to an SSLRequest; 'S' or 'G' starts TLS or GSS, which hides the
// rest (Unknown).
func (s *pgSlots) answer(b []byte) ServerAnswer {
	if len(b) > 0 {
		switch b[0] {
		case 'N':
			b = b[1:]
		case 'S', 'G':
			return Unknown
		}
	}
	for len(b) >= 5 {
		n := int(binary.BigEndian.Uint32(b[1:5]))
		if n < 4 || n > 1<<16 {
			return Unknown
		}
		switch b[0] {
		case 'S', 'K', 'Z':
			return Admitted
		case 'E', 'R', 'N':
		default:
			return Unknown
		}
		if len(b) < 1+n {
			return Undecided
		}
		if b[0] == 'E' {
			if pgErrorCode(b[5:1+n]) == pgTooManyConnections {
				return NoSlot
			}
			return Unknown
		}
		b = b[1+n:]
	}
	return Undecided
}

// pgErrorCode returns the SQLSTATE ('C' field) of an ErrorResponse body.
func pgErrorCode(body []byte) string {
	for len(body) > 0 && body[0] != 0 {
		typ := body[0]
		end := bytes.IndexByte(body[1:], 0)
		if end < 0 {
			return ""
		}
		if typ == 'C' {
			return string(body[1 : 1+end])
		}
		body = body[2+end:]
	}
	return ""
}

// pgProbe asks PostgreSQL about its slots over a connection of the hold.
type pgProbe struct {
	c     *pgconn.PgConn
	total int // max_connections
	floor int // slots the hold leaves free
}

// limits reads the server's slots and what the hold leaves free: leaveFree
// plus the reserved slots (reserved, or superuser_reserved_connections and
// reserved_connections); a role that is not a superuser cannot take the
// reserved slots whatever reserved says.
func (p *pgProbe) limits(ctx context.Context, spec PoolExhaustionSpec) error {
	rows, err := pgQuery(ctx, p.c, `SELECT current_setting('max_connections'),
		current_setting('superuser_reserved_connections'),
		coalesce(current_setting('reserved_connections', true), '0'),
		current_setting('is_superuser')`)
	if err != nil {
		return fmt.Errorf("read connection settings: %w", err)
	}
	if len(rows) != 1 || len(rows[0]) != 4 {
		return errors.New("read connection settings: no row")
	}
	var n [3]int
	for i := range n {
		if n[i], err = strconv.Atoi(string(rows[0][i])); err != nil {
			return fmt.Errorf("read connection settings: %w", err)
		}
	}
	serverReserved := n[1] + n[2]
	reserved := serverReserved
	if spec.Reserved != nil {
		reserved = *spec.Reserved
	}
	p.total, p.floor = n[0], spec.LeaveFree+reserved
	if string(rows[0][3]) != "on" {
		p.floor = max(p.floor, serverReserved)
	}
	return nil
}

func (p *pgProbe) free(ctx context.Context) (int, bool, error) {
	rows, err := pgQuery(ctx, p.c, "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'")
	if err != nil {
		return 0, false, err
	}
	if len(rows) != 1 || len(rows[0]) != 1 {
		return 0, false, errors.New("count client backends: no row")
	}
	used, err := strconv.Atoi(string(rows[0][0]))
	if err != nil {
		return 0, false, err
	}
	return p.total - used - p.floor, true, nil
}

func (p *pgProbe) listed(ctx context.Context, addrs []string) ([]string, error) {
	rows, err := pgQuery(ctx, p.c, `SELECT host(client_addr), client_port FROM pg_stat_activity
		WHERE backend_type = 'client backend' AND client_port IS NOT NULL`)
	if err != nil {
		return nil, err
	}
	clients := map[string]bool{}
	for _, r := range rows {
		clients[net.JoinHostPort(string(r[0]), string(r[1]))] = true
	}
	var still []string
	for _, a := range addrs {
		if clients[a] {
			still = append(still, a)
		}
	}
	return still, nil
}

func (p *pgProbe) close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	p.c.Close(ctx)
}

// pgQuery runs one query with text parameters and returns its rows.
func pgQuery(ctx context.Context, c *pgconn.PgConn, sql string, args ...string) ([][][]byte, error) {
	params := make([][]byte, len(args))
	for i, a := range args {
		params[i] = []byte(a)
	}
	res := c.ExecParams(ctx, sql, params, nil, nil, nil).Read()
	if res.Err != nil {
		return nil, res.Err
	}
	if len(res.Rows) == 0 {
		return nil, errors.New("no rows")
	}
	return res.Rows, nil
}
