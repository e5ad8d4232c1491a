package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net"
	"os/exec"
	"regexp"
	"strconv"
	"strings"

	"github.com/chaosload/chaosload/demo"
)

// redisBenchmark runs redis-benchmark -t get,set against addr and returns
// requests/s by test name ("SET", "GET").
func redisBenchmark(ctx context.Context, addr string, n, clients int) (map[string]float64, error) {
	host, port, _ := net.SplitHostPort(addr)
	cmd := exec.CommandContext(ctx, "redis-benchmark", "-h", host, "-p", port, "-t", "get,set",
		"-n", strconv.Itoa(n), "-c", strconv.Itoa(clients), "--csv")
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("redis-benchmark: %w", err)
	}
	rows, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("redis-benchmark: read its CSV: %w", err)
	}
	rps := map[string]float64{}
	for _, row := range rows {
		if len(row) < 2 || row[0] == "test" {
			continue
		}
		v, err := strconv.ParseFloat(row[1], 64)
		if err != nil {
			return nil, fmt.Errorf("redis-benchmark: %q is not a rate: %w", row[1], err)
		}
		rps["redis "+row[0]] = v
	}
	if len(rps) != 2 {
		return nil, fmt.Errorf("redis-benchmark: want SET and GET in %q", out)
	}
	return rps, nil
}

// pgbenchInit creates pgbench's tables (scale 1) directly on the server.
func pgbenchInit(ctx context.Context, addr string) error {
	host, port, _ := net.SplitHostPort(addr)
	cmd := exec.CommandContext(ctx, "pgbench", "-i", "-q", "-s", "1", "-h", host, "-p", port, "-U", demo.Superuser, "postgres")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("pgbench -i: %w: %s", err, out)
	}
	return nil
}

var (
	tpsRe  = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)
	txnsRe = regexp.MustCompile(`number of transactions actually processed: ([0-9]+)`)
)

// pgbench runs pgbench -S for seconds with clients connections (2 threads)
// and returns transactions/s and the transactions done.
func pgbench(ctx context.Context, addr string, seconds, clients int) (float64, int, error) {
	host, port, _ := net.SplitHostPort(addr)
	cmd := exec.CommandContext(ctx, "pgbench", "-S", "-n", "-c", strconv.Itoa(clients), "-j", "2",
		"-T", strconv.Itoa(seconds), "-h", host, "-p", port, "-U", demo.Superuser, "postgres")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, 0, fmt.Errorf("pgbench -S: %w: %s", err, lastLines(out, 5))
	}
	tps, tm := tpsRe.FindSubmatch(out), txnsRe.FindSubmatch(out)
	if tps == nil || tm == nil {
		return 0, 0, fmt.Errorf("pgbench -S: no tps in %s", lastLines(out, 10))
	}
	v, _ := strconv.ParseFloat(string(tps[1]), 64)
	txns, _ := strconv.Atoi(string(tm[1]))
	return v, txns, nil
}

// lastLines is the end of a tool's output, for an error message.
func lastLines(out []byte, n int) string {
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
