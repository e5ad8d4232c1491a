package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// product is a row of products, as the API shows it.
type product struct {
	ID         int    `json:"id"`
	Name       string `json:"name"`
	PriceCents int    `json:"price_cents"`
	Stock      int    `json:"stock"`
}

// order is a row of orders, as the API shows it.
type order struct {
	ID        int64     `json:"id"`
	Product   int       `json:"product"`
	Qty       int       `json:"qty"`
	CreatedAt time.Time `json:"created_at"`
}

// loadProducts reads every product and returns the list as JSON, the form
// in which it is cached.
func loadProducts(ctx context.Context, db dbConn) ([]byte, error) {
	rows, err := db.Query(ctx, "SELECT id, name, price_cents, stock FROM products ORDER BY id")
	if err != nil {
		return nil, err
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (product, error) {
		var p product
		err := row.Scan(&p.ID, &p.Name, &p.PriceCents, &p.Stock)
		return p, err
	})
	if err != nil {
		return nil, err
	}
	return json.Marshal(list)
}

// insertOrder inserts an order and returns it once the transaction has
// committed: an id the caller sees is an id in the table.
func insertOrder(ctx context.Context, db dbConn, productID, qty int) (order, error) {
	var o order
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx,
			"INSERT INTO orders (product_id, qty) VALUES ($1, $2) RETURNING id, product_id, qty, created_at",
			productID, qty).Scan(&o.ID, &o.Product, &o.Qty, &o.CreatedAt)
	})
	return o, err
}

// selectOrder reads one order; pgx.ErrNoRows when there is none.
func selectOrder(ctx context.Context, db dbConn, id int64) (order, error) {
	var o order
	err := db.QueryRow(ctx, "SELECT id, product_id, qty, created_at FROM orders WHERE id = $1", id).
		Scan(&o.ID, &o.Product, &o.Qty, &o.CreatedAt)
	return o, err
}

// pingDB checks PostgreSQL through the pool.
func pingDB(ctx context.Context, db *pgxpool.Pool) error {
	if err := db.Ping(ctx); err != nil {
		return fmt.Errorf("ping postgres: %w", err)
	}
	return nil
}

// isClientError reports a PostgreSQL error caused by the request's data
// (class 22 data exception, class 23 integrity violation, such as an
// unknown product), not by the database's health.
func isClientError(err error) bool {
	class := pgClass(err)
	return class == "22" || class == "23"
}

// unavailable reports whether err means PostgreSQL could not serve the
// request (so graceful mode answers 503): a refused, reset or timed-out
// connection, a full server (53300), a terminated session (57P01), a
// statement timeout (57014), an empty pool. Only errors in the request
// (classes 22, 23) or in the service's own SQL (42 syntax or access, 0A
// feature not supported) are not.
func unavailable(err error) bool {
	switch pgClass(err) {
	case "22", "23", "42", "0A":
		return false
	}
	return true
}

// brokenConn reports whether err is the failure of a connection the pool
// handed out (reset or terminated while idle), which a retry on another
// connection may avoid; not a failure to connect, not a timeout, not an
// error PostgreSQL answered with on a live connection.
func brokenConn(err error) bool {
	var pgErr *pgconn.PgError
	var connErr *pgconn.ConnectError
	switch {
	case errors.As(err, &pgErr):
		return pgErr.Code == "57P01" // admin_shutdown: this session was terminated
	case errors.As(err, &connErr), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return false
	}
	return !pgconn.Timeout(err)
}

// pgClass is the two-character class of a PostgreSQL error's SQLSTATE, or
// "" when err carries none (network errors, timeouts, pool errors).
func pgClass(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && len(pgErr.Code) >= 2 {
		return pgErr.Code[:2]
	}
	return ""
}
