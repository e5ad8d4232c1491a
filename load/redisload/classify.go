package redisload

import (
	"errors"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/chaosload/chaosload/load"
)

// ClassPrefix starts the class of an error reply: redis_<PREFIX>, the
// reply's first word (redis_ERR, redis_WRONGTYPE, redis_LOADING,
// redis_NOAUTH, redis_OOM, redis_BUSY, redis_READONLY, ...).
const ClassPrefix = "redis_"

// ClassOf classifies a go-redis error: an error reply by its prefix; a
// wait for a pooled connection that ran out as timeout; anything else by
// load.ClassOf. nil and a nil reply (redis.Nil) are "".
func ClassOf(err error) string {
	var reply redis.Error
	switch {
	case err == nil, errors.Is(err, redis.Nil):
		return ""
	case errors.Is(err, redis.ErrPoolTimeout):
		return load.ClassTimeout
	case errors.As(err, &reply):
		if p := prefix(reply.Error()); p != "" {
			return ClassPrefix + p
		}
	}
	return load.ClassOf(err)
}

// prefix returns the first word of an error reply when it is an error
// code (upper-case letters), "" otherwise.
func prefix(msg string) string {
	word, _, _ := strings.Cut(msg, " ")
	if word == "" {
		return ""
	}
	for _, r := range word {
		if r < 'A' || r > 'Z' {
			return ""
		}
	}
	return word
}
