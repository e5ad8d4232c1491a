package demo

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// The Redis keys of the product list: a fresh copy that expires after
// CacheTTL, and a stale copy that graceful mode keeps for StaleTTL to serve
// while PostgreSQL is failing.
const (
	productsKey      = "shop:products"
	productsStaleKey = "shop:products:stale"
)

// errCacheSkipped is returned while the breaker keeps calls away from a
// failing Redis.
var errCacheSkipped = errors.New("redis skipped: recent calls failed")

// productCache keeps the product list (JSON) in Redis. In graceful mode every
// call is bounded and a breaker skips Redis for a moment after consecutive
// failures; in naive mode calls are plain.
type productCache struct {
	rdb     *redis.Client
	fresh   time.Duration
	stale   time.Duration // 0: no stale copy (naive mode)
	timeout time.Duration // 0: no per-call deadline (naive mode)
	breaker *breaker      // nil: never skip (naive mode)
}

func newProductCache(rdb *redis.Client, cfg ServiceConfig) *productCache {
	c := &productCache{rdb: rdb, fresh: cfg.CacheTTL}
	if cfg.Mode == ModeGraceful {
		c.stale = cfg.StaleTTL
		c.timeout = gracefulRedisTimeout
		c.breaker = &breaker{threshold: 3, cooldown: time.Second}
	}
	return c
}

// get reads key; redis.Nil when it is absent.
func (c *productCache) get(ctx context.Context, key string) ([]byte, error) {
	if !c.breaker.allow() {
		return nil, errCacheSkipped
	}
	ctx, cancel := c.bound(ctx)
	defer cancel()
	b, err := c.rdb.Get(ctx, key).Bytes()
	c.breaker.record(err == nil || errors.Is(err, redis.Nil))
	return b, err
}

// put stores the list as the fresh copy and, in graceful mode, the stale one.
func (c *productCache) put(ctx context.Context, body []byte) error {
	if !c.breaker.allow() {
		return errCacheSkipped
	}
	ctx, cancel := c.bound(ctx)
	defer cancel()
	_, err := c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, productsKey, body, c.fresh)
		if c.stale > 0 {
			p.Set(ctx, productsStaleKey, body, c.stale)
		}
		return nil
	})
	c.breaker.record(err == nil)
	return err
}

func (c *productCache) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if c.timeout == 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, c.timeout)
}
