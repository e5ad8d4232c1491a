package demo

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/chaosload/chaosload/balancer"
)

// query sends one command to haproxy's stats socket and returns the answer.
func (h *HAProxy) query(ctx context.Context, cmd string) (string, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", h.statsSock)
	if err != nil {
		return "", fmt.Errorf("haproxy stats socket: %w", err)
	}
	defer conn.Close()
	deadline := time.Now().Add(5 * time.Second)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = conn.SetDeadline(deadline)
	if _, err := io.WriteString(conn, cmd+"\n"); err != nil {
		return "", fmt.Errorf("haproxy stats socket: %s: %w", cmd, err)
	}
	b, err := io.ReadAll(conn)
	if err != nil {
		return "", fmt.Errorf("haproxy stats socket: %s: %w", cmd, err)
	}
	return string(b), nil
}

// Stats returns each server's counters from the stats socket (`show
// stat`), in the order of the backends, and the state changes logged so
// far.
func (h *HAProxy) Stats(ctx context.Context) (balancer.Stats, error) {
	out, err := h.query(ctx, "show stat")
	if err != nil {
		return balancer.Stats{}, err
	}
	servers, err := parseShowStat(out, haproxyBackend)
	if err != nil {
		return balancer.Stats{}, fmt.Errorf("haproxy show stat: %w", err)
	}
	return balancer.Stats{Servers: servers, Events: h.Events()}, nil
}

// parseShowStat reads `show stat`'s CSV (a header line "# pxname,svname,
// ..." then one line per frontend, server and backend) and returns the
// servers of backend.
func parseShowStat(out, backend string) ([]balancer.Server, error) {
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(out, "# ")))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("empty answer")
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	for _, need := range []string{"pxname", "svname", "stot", "status"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("no %s column in %q", need, strings.Join(rows[0], ","))
		}
	}
	var servers []balancer.Server
	for _, row := range rows[1:] {
		f := func(name string) string {
			if i, ok := col[name]; ok && i < len(row) {
				return row[i]
			}
			return ""
		}
		if f("pxname") != backend || f("svname") == "FRONTEND" || f("svname") == "BACKEND" {
			continue
		}
		servers = append(servers, statServer(f))
	}
	return servers, nil
}

// statServer reads one server's row through f (a column's value by name).
func statServer(f func(string) string) balancer.Server {
	n := func(name string) int64 {
		v, _ := strconv.ParseInt(f(name), 10, 64)
		return v
	}
	s := balancer.Server{
		Name: f("svname"), Addr: f("addr"), Status: f("status"),
		Sessions: n("stot"), Requests: n("req_tot"), CheckStatus: f("check_status"),
		LastChange: time.Duration(n("lastchg")) * time.Second,
		Downtime:   time.Duration(n("downtime")) * time.Second,
		Responses:  map[string]int64{},
	}
	for _, class := range []string{"1xx", "2xx", "3xx", "4xx", "5xx", "other"} {
		if v := n("hrsp_" + class); v != 0 {
			s.Responses[class] = v
		}
	}
	return s
}
