package pgload

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/chaosload/chaosload/load"
)

// ClassPrefix starts the class of an error PostgreSQL answered with:
// pg_<SQLSTATE>, such as pg_53300 (too many connections) or pg_57014
// (statement cancelled, e.g. by statement_timeout).
const ClassPrefix = "pg_"

// ClassOf classifies a pgx error: the SQLSTATE of an error the server
// answered with (also while connecting: a full server refuses with 53300),
// else the transport's class (load.ClassOf: conn_refused, conn_reset,
// timeout, error). nil is "".
func ClassOf(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code != "" {
		return ClassPrefix + pgErr.Code
	}
	return load.ClassOf(err)
}

// fail records a failed statement.
func fail(res *load.Result, err error) {
	res.Class, res.Err = ClassOf(err), err
}
