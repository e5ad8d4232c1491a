// Package pgload is chaosload's PostgreSQL client side: the single importer
// of pgx among the load packages. Its Driver performs `pg:` steps
// (load.PGStatement) on a pgx pool per scenario and DSN, classifying
// failures by SQLSTATE (pg_53300, pg_57014, ...) or, for transport
// failures, with load.ClassOf; Missing checks acknowledged writes after a
// run.
package pgload

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// batchSize bounds the queries sent in one pipelined batch.
const batchSize = 500

// Missing runs query (which must return a row when the id given as $1
// exists) for every id and returns the ids that returned no row. The queries
// are pipelined in batches over one connection.
func Missing(ctx context.Context, dsn, query string, ids []string) ([]string, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("connect for verify: %w", err)
	}
	defer conn.Close(context.Background())
	var missing []string
	for start := 0; start < len(ids); start += batchSize {
		chunk := ids[start:min(start+batchSize, len(ids))]
		lost, err := missingIn(ctx, conn, query, chunk)
		if err != nil {
			return nil, err
		}
		missing = append(missing, lost...)
	}
	return missing, nil
}

func missingIn(ctx context.Context, conn *pgx.Conn, query string, ids []string) ([]string, error) {
	b := &pgx.Batch{}
	for _, id := range ids {
		b.Queue(query, id)
	}
	br := conn.SendBatch(ctx, b)
	defer br.Close()
	var missing []string
	for _, id := range ids {
		rows, err := br.Query()
		if err != nil {
			return nil, fmt.Errorf("verify %q with id %s: %w", query, id, err)
		}
		found := rows.Next()
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("verify %q with id %s: %w", query, id, err)
		}
		if !found {
			missing = append(missing, id)
		}
	}
	return missing, nil
}
