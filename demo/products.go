package demo

import (
	"context"
	"errors"
	"net/http"

	"github.com/redis/go-redis/v9"
)

// handleProducts serves GET /api/products, cache-aside over Redis. The
// X-Cache header says where the list came from: hit (fresh copy in Redis),
// miss (PostgreSQL, then cached), stale (graceful fallback while PostgreSQL
// fails) or stale-local (the copy this process last read, when PostgreSQL
// and Redis both fail: on a loaded host Redis calls miss their 200 ms bound
// and its breaker opens, and a read must not fail for that).
func (s *Service) handleProducts(w http.ResponseWriter, r *http.Request) {
	if s.mode == ModeNaive {
		s.productsNaive(w, r)
		return
	}
	ctx := r.Context()
	if body, err := s.cache.get(ctx, productsKey); err == nil {
		s.lastProducts.Store(&body)
		writeProducts(w, body, "hit")
		return
	} else if !errors.Is(err, redis.Nil) {
		s.logger.Debug().Err(err).Msg("demo service: read product cache; using postgres")
	}
	var body []byte
	err := s.withDB(r, true, func(ctx context.Context, conn dbConn) (err error) {
		body, err = loadProducts(ctx, conn)
		return err
	})
	if err == nil {
		s.lastProducts.Store(&body)
		if err := s.cache.put(ctx, body); err != nil {
			s.logger.Debug().Err(err).Msg("demo service: write product cache")
		}
		writeProducts(w, body, "miss")
		return
	}
	if stale, cerr := s.cache.get(ctx, productsStaleKey); cerr == nil {
		s.logger.Debug().Err(err).Msg("demo service: postgres failed; serving stale products")
		writeProducts(w, stale, "stale")
		return
	}
	if last := s.lastProducts.Load(); last != nil {
		s.logger.Debug().Err(err).Msg("demo service: postgres and redis failed; serving this process's last copy")
		writeProducts(w, *last, "stale-local")
		return
	}
	s.dbFailed(w, "list products", err)
}

// productsNaive is cache-aside with every error fatal to the request.
func (s *Service) productsNaive(w http.ResponseWriter, r *http.Request) {
	body, err := s.cache.get(s.life, productsKey)
	switch {
	case err == nil:
		writeProducts(w, body, "hit")
		return
	case !errors.Is(err, redis.Nil):
		writeError(w, http.StatusInternalServerError, "read product cache: "+err.Error())
		return
	}
	err = s.withDB(r, true, func(ctx context.Context, conn dbConn) (err error) {
		body, err = loadProducts(ctx, conn)
		return err
	})
	if err != nil {
		s.dbFailed(w, "list products", err)
		return
	}
	if err := s.cache.put(s.life, body); err != nil {
		writeError(w, http.StatusInternalServerError, "write product cache: "+err.Error())
		return
	}
	writeProducts(w, body, "miss")
}

func writeProducts(w http.ResponseWriter, body []byte, source string) {
	w.Header().Set("X-Cache", source)
	writeBody(w, http.StatusOK, body)
}
