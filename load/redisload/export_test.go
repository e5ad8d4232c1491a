package redisload

// ErrForTest is an error reply with message msg, as go-redis returns one.
func ErrForTest(msg string) error { return replyError(msg) }

// replyError is an error reply (it implements redis.Error).
type replyError string

func (e replyError) Error() string { return string(e) }
func (replyError) RedisError()     {}
