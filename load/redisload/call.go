package redisload

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/chaosload/chaosload/load"
)

// call is a redis step worked out once: its commands, how many times they
// are queued, and the timeout. Its fields are only read after it is built,
// so VUs share it.
type call struct {
	cmds    [][]any
	repeat  int
	timeout time.Duration
	bytes   int64 // the arguments' bytes per operation, roughly what goes out
}

// call returns step's call, building it on first use.
func (d *Driver) call(step *load.Step) (*call, error) {
	if c, ok := d.calls.Load(step); ok {
		return c.(*call), nil
	}
	c, err := newCall(step)
	if err != nil {
		return nil, err
	}
	actual, _ := d.calls.LoadOrStore(step, c)
	return actual.(*call), nil
}

// newCall works out step's call.
func newCall(step *load.Step) (*call, error) {
	rc := step.Redis
	if rc == nil {
		return nil, fmt.Errorf("step %q has no redis command", step.Name)
	}
	c := &call{repeat: max(rc.Repeat, 1), timeout: rc.Timeout}
	if c.timeout <= 0 {
		c.timeout = load.DefaultRedisTimeout
	}
	switch {
	case len(rc.Command) > 0 && len(rc.Pipeline) > 0:
		return nil, fmt.Errorf("step %q: command and pipeline are both set; want one", step.Name)
	case len(rc.Command) > 0:
		c.cmds = [][]any{rc.Command}
	case len(rc.Pipeline) > 0:
		c.cmds = rc.Pipeline
	default:
		return nil, fmt.Errorf("step %q: want a command, e.g. command: [GET, key]", step.Name)
	}
	for i, cmd := range c.cmds {
		if len(cmd) == 0 {
			return nil, fmt.Errorf("step %q: command %d is empty", step.Name, i)
		}
		for _, a := range cmd {
			c.bytes += int64(len(fmt.Sprint(a)))
		}
	}
	c.bytes *= int64(c.repeat)
	return c, nil
}

// run sends the call: a single command on its own, anything more in one
// pipeline. It returns the first error among the replies (a nil reply,
// redis.Nil, is none).
func (c *call) run(ctx context.Context, rdb *redis.Client) error {
	if len(c.cmds) == 1 && c.repeat == 1 {
		return replyErr(rdb.Do(ctx, c.cmds[0]...).Err())
	}
	pipe := rdb.Pipeline()
	for range c.repeat {
		for _, cmd := range c.cmds {
			pipe.Do(ctx, cmd...)
		}
	}
	cmds, err := pipe.Exec(ctx)
	for _, cmd := range cmds {
		if e := replyErr(cmd.Err()); e != nil {
			return e
		}
	}
	return replyErr(err)
}

// replyErr is err, except that a nil reply is no error.
func replyErr(err error) error {
	if errors.Is(err, redis.Nil) {
		return nil
	}
	return err
}
