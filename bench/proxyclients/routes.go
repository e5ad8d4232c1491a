package main

import (
	"context"
	"fmt"
	"sync"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/rs/zerolog"

	"github.com/chaosload/chaosload/proxy"
)

// routeNames are the routes, in table order: the client connected to the
// server directly, through chaosload's proxy on the sockmap fast path (the
// kernel forwards; where the kernel does not allow it, this is the copy
// path too), through chaosload's proxy copying in user space, through
// Toxiproxy's.
var routeNames = []string{"direct", "sockmap", "copy", "toxiproxy"}

// nRoutes is len(routeNames).
const nRoutes = 4

// routes is one server with two chaosload proxies and a Toxiproxy proxy in
// front; addrs is what a client dials for each route, by routeNames index.
type routes struct {
	addrs  [nRoutes]string
	cancel context.CancelFunc
	wg     sync.WaitGroup
	toxi   *toxiproxy.Proxy
}

func startRoutes(ctx context.Context, upstream string, log zerolog.Logger) (*routes, error) {
	p, err := proxy.Listen(proxy.Config{Name: "bench", Upstream: upstream, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("start chaosload proxy to %s: %w", upstream, err)
	}
	if fp := p.Stats().FastPath; fp != proxy.FastPathSockmap {
		log.Warn().Str("fast_path", fp).Msg("the sockmap route copies too: the kernel's sockmap is not available here")
	}
	pc, err := proxy.Listen(proxy.Config{Name: "bench-copy", Upstream: upstream, Logger: log, NoSockmap: true})
	if err != nil {
		return nil, fmt.Errorf("start chaosload proxy to %s: %w", upstream, err)
	}
	srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop())
	tp := toxiproxy.NewProxy(srv, "bench", "127.0.0.1:0", upstream)
	if err := tp.Start(); err != nil {
		return nil, fmt.Errorf("start toxiproxy to %s: %w", upstream, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	r := &routes{addrs: [nRoutes]string{upstream, p.Addr(), pc.Addr(), tp.Listen}, cancel: cancel, toxi: tp}
	for _, p := range []*proxy.Proxy{p, pc} {
		r.wg.Go(func() {
			if err := p.Run(ctx); err != nil {
				log.Error().Err(err).Msg("chaosload proxy")
			}
		})
	}
	return r, nil
}

// close stops the proxies and waits for chaosload's.
func (r *routes) close() {
	r.cancel()
	r.wg.Wait()
	r.toxi.Stop()
}
