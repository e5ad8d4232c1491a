package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/chaosload/chaosload/config"
	"github.com/chaosload/chaosload/gameday"
	"github.com/chaosload/chaosload/report"
	"github.com/spf13/cobra"
)

func (a *app) gamedayCommand() *cobra.Command {
	var sets []string
	cmd := &cobra.Command{
		Use:   "gameday FILE",
		Short: "Long-running proxies, a Toxiproxy-compatible control API and a live dashboard",
		Long: `gameday starts the targets' proxies of FILE (and the bundled stack when it has
stack:) and stays up until Ctrl-C. On --listen (default 127.0.0.1:8474) it
serves a control API compatible with Toxiproxy's REST API (so Toxiproxy's
clients and CLI work unchanged), chaosload's own endpoints under /chaosload/
(catalogue faults for a duration, the file's fault timeline, background load
from its scenarios, revert everything), a live dashboard at / and Prometheus
metrics at /metrics.

On exit every fault, every toxic, the timeline, the background load, every
proxy and the stack are stopped and reverted. Every fault change is appended
to the audit log (JSON lines); --out DIR writes the session's HTML and JSON
report and audit.jsonl there.

Binding to a non-loopback address requires --token (or CHAOSLOAD_TOKEN):
every API call and the dashboard must then present it (Authorization: Bearer
TOKEN, or the password of http://user:TOKEN@host:8474 for Toxiproxy clients,
or /?token=TOKEN to open the dashboard). --token NAME=TOKEN names the token
in the audit log.

Exit codes: 0 ended and everything reverted, 2 invalid file or flags,
4 infrastructure error (a port taken, a target unreachable, a revert failed).`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, files []string) error {
			a.code = a.gameday(cmd.Context(), files[0], sets)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&sets, "set", nil, "override a field: --set path=value; repeatable")
	f.String("listen", "127.0.0.1:8474", "address of the control API, dashboard and /metrics")
	f.StringSlice("token", nil, "API token, TOKEN or NAME=TOKEN; repeatable (env CHAOSLOAD_TOKEN)")
	f.String("out", "", "write the session's report (HTML, JSON) and audit.jsonl into this directory on exit")
	f.String("audit", "", "append the audit log to this file (default DIR/audit.jsonl with --out)")
	f.Bool("load", false, "start the file's scenarios as background load at once")
	f.Duration("load-duration", 24*time.Hour, "stretch constant scenarios of the background load to this length")
	f.Bool("timeline", false, "start the file's fault timeline at once")
	return cmd
}

// gamedaySettings are the command's settings, checked.
type gamedaySettings struct {
	listen, out, audit string
	tokens             map[string]string
	load, timeline     bool
	loadDuration       time.Duration
}

func (a *app) gamedaySettings() (gamedaySettings, error) {
	st := gamedaySettings{
		listen: a.v.GetString("listen"), out: a.v.GetString("out"), audit: a.v.GetString("audit"),
		load: a.v.GetBool("load"), timeline: a.v.GetBool("timeline"), loadDuration: a.v.GetDuration("load-duration"),
		tokens: map[string]string{},
	}
	for i, t := range a.v.GetStringSlice("token") {
		name, tok, ok := strings.Cut(t, "=")
		if !ok {
			name, tok = fmt.Sprintf("token%d", i+1), t
		}
		if tok == "" {
			return st, fmt.Errorf("--token %q: empty token", t)
		}
		st.tokens[tok] = name
	}
	if len(st.tokens) == 0 && !loopback(st.listen) {
		return st, fmt.Errorf("--listen %s is not a loopback address: set --token (or CHAOSLOAD_TOKEN) so only holders of the token can inject faults", st.listen)
	}
	if st.audit == "" && st.out != "" {
		st.audit = filepath.Join(st.out, "audit.jsonl")
	}
	return st, nil
}

// loopback reports whether addr's host is a loopback address or localhost.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// gameday runs one game day until ctx ends and returns the exit code.
func (a *app) gameday(ctx context.Context, file string, sets []string) int {
	st, err := a.gamedaySettings()
	if err != nil {
		fmt.Fprintf(a.stderr, "chaosload: %v\n", err)
		return exitInvalid
	}
	exp, err := config.Load(file, config.Options{Sets: sets, LookupEnv: os.LookupEnv, NoScenariosOK: true})
	if err != nil {
		fmt.Fprintln(a.stderr, err)
		return exitInvalid
	}
	auditFile, err := openAudit(st.audit)
	if err != nil {
		fmt.Fprintf(a.stderr, "chaosload: %v\n", err)
		return exitInfra
	}
	if auditFile != nil {
		defer auditFile.Close()
	}
	cfg := gameday.Config{Logger: a.log, Stack: demoStack(a.log), Tokens: st.tokens, Version: version, LoadDuration: st.loadDuration,
		NoSockmap: a.v.GetString("fast-path") == "copy"}
	if auditFile != nil {
		cfg.Audit = auditFile
	}
	s, err := gameday.Start(ctx, exp, cfg)
	if err != nil {
		fmt.Fprintf(a.stderr, "chaosload: %v\n", err)
		return exitInfra
	}
	code := a.serveGameday(ctx, s, st)
	return worse(code, a.endGameday(s, st))
}

func openAudit(path string) (*os.File, error) {
	if path == "" {
		return nil, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	return f, nil
}

// serveGameday serves the session's handler until ctx ends.
func (a *app) serveGameday(ctx context.Context, s *gameday.Session, st gamedaySettings) int {
	l, err := net.Listen("tcp", st.listen)
	if err != nil {
		fmt.Fprintf(a.stderr, "chaosload: control API: %v\n", err)
		return exitInfra
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 15 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	a.printGameday(s, l.Addr().String())
	if st.load {
		if err := s.StartLoad("cli", 1); err != nil {
			fmt.Fprintf(a.stderr, "chaosload: background load: %v\n", err)
		}
	}
	if st.timeline {
		if err := s.StartTimeline("cli"); err != nil {
			fmt.Fprintf(a.stderr, "chaosload: timeline: %v\n", err)
		}
	}
	code := exitOK
	select {
	case <-ctx.Done():
	case err := <-served:
		fmt.Fprintf(a.stderr, "chaosload: control API: %v\n", err)
		code = exitInfra
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	_ = srv.Close() // WebSocket connections are hijacked: Close ends them
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		code = exitInfra
	}
	return code
}

func (a *app) printGameday(s *gameday.Session, addr string) {
	fmt.Fprintf(a.stdout, "game day: control API (Toxiproxy-compatible) and dashboard on http://%s/\n", addr)
	for name, p := range s.Proxies() {
		fmt.Fprintf(a.stdout, "  target %-12s %s → %s\n", name, p.Listen, p.Upstream)
	}
	fmt.Fprintln(a.stdout, "Ctrl-C ends the game day and reverts every fault")
}

// endGameday reverts everything and writes the session's report.
func (a *app) endGameday(s *gameday.Session, st gamedaySettings) int {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code := exitOK
	if err := s.Close(ctx); err != nil {
		fmt.Fprintf(a.stderr, "chaosload: NOT REVERTED: %v\n", err)
		code = exitInfra
	}
	fmt.Fprintln(a.stdout, "game day ended: every fault reverted, proxies stopped")
	if st.out == "" {
		return code
	}
	out := s.Outcome()
	base := filepath.Join(st.out, "gameday")
	if err := report.WriteFile(base+".html", out, report.HTML); err != nil {
		fmt.Fprintf(a.stderr, "chaosload: %v\n", err)
		return exitInfra
	}
	if err := report.WriteFile(base+".json", out, report.JSON); err != nil {
		fmt.Fprintf(a.stderr, "chaosload: %v\n", err)
		return exitInfra
	}
	fmt.Fprintf(a.stdout, "report: %s.html, audit log: %s\n", base, st.audit)
	return code
}
