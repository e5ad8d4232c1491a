package faults_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/chaosload/chaosload/demo"
	"github.com/chaosload/chaosload/faults"
)

// TestProofPGErrorRevertInFlight: a pg-error fault reverted while one of
// its errors waits for its place (the server is still busy with the query
// before the dropped COMMIT) still delivers that error: the client sees
// 40001 and its transaction ended (ReadyForQuery idle, from the server,
// which ran the ROLLBACK standing for the COMMIT), not a COMMIT answered by
// nothing, which a client takes for success although nothing was committed.
func TestProofPGErrorRevertInFlight(t *testing.T) {
	pg, _ := servers(t)
	p := startProxy(t, "pg", pg.Addr())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	revert := inject(t, p, "commit", faults.PGErrorSpec{Match: faults.Match{SQL: `(?i)^commit`}, Probability: 1,
		SQLState: "40001", Message: "could not serialize access"})
	c, err := pgconn.Connect(ctx, demo.PostgresDSN(p.Addr(), demo.ShopRole, demo.ShopDatabase))
	if err != nil {
		t.Fatal(err)
	}
	hj, err := c.Hijack()
	if err != nil {
		t.Fatal(err)
	}
	defer hj.Conn.Close()
	if err := hj.Conn.SetDeadline(time.Now().Add(15 * time.Second)); err != nil {
		t.Fatal(err)
	}
	fe := hj.Frontend
	send := func(queries ...string) {
		for _, q := range queries {
			fe.Send(&pgproto3.Query{String: q})
		}
		if err := fe.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	send("BEGIN")
	readResponse(t, fe)
	send("SELECT pg_sleep(0.5)", "COMMIT") // one write: the COMMIT's error waits behind the sleep
	time.Sleep(100 * time.Millisecond)
	revert()
	readResponse(t, fe) // the sleep's
	code, status := readResponse(t, fe)
	if code != "40001" || status != 'I' {
		t.Errorf("COMMIT after the revert: SQLSTATE %q, ReadyForQuery %q; want 40001 and I", code, status)
	}
	if got := p.Stats().Faults["commit"].RequestsErrored; got != 1 {
		t.Errorf("Injected = %d, want 1", got)
	}
}

// readResponse reads one query's messages up to its ReadyForQuery and
// returns the SQLSTATE of its ErrorResponse ("" if none) and its status.
func readResponse(t *testing.T, fe *pgproto3.Frontend) (string, byte) {
	t.Helper()
	code := ""
	for {
		msg, err := fe.Receive()
		if err != nil {
			t.Fatalf("receive: %v", err)
		}
		switch m := msg.(type) {
		case *pgproto3.ErrorResponse:
			code = m.Code
		case *pgproto3.ReadyForQuery:
			return code, m.TxStatus
		}
	}
}
