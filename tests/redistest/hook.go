package redistest

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// CountingHook is a redis.Hook that counts round trips and commands: one
// round trip per Process call (one command) and one per pipeline or
// transaction (all its commands, MULTI and EXEC included). It is safe for
// concurrent use. Add it with client.AddHook(h).
//
// go-redis sends its connection handshake through the hooks too (HELLO,
// CLIENT MAINT_NOTIFICATIONS, a pipeline of CLIENT SETINFO and, when
// configured, SELECT / CLIENT SETNAME), 3 or 4 round trips per new
// connection, and it opens connections lazily, including a separate one for
// pipelines. Those would make "round trips per task" depend on the pool's
// history, so they are counted apart in Handshakes and left out of RoundTrips
// and Commands. Dials counts new connections.
type CountingHook struct {
	roundTrips atomic.Int64
	commands   atomic.Int64
	handshakes atomic.Int64
	dials      atomic.Int64
}

var _ redis.Hook = (*CountingHook)(nil)

// DialHook counts dials.
func (h *CountingHook) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		h.dials.Add(1)
		return next(ctx, network, addr)
	}
}

// ProcessHook counts one round trip and one command (or one handshake round trip).
func (h *CountingHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if isHandshake(cmd) {
			h.handshakes.Add(1)
		} else {
			h.roundTrips.Add(1)
			h.commands.Add(1)
		}
		return next(ctx, cmd)
	}
}

// ProcessPipelineHook counts one round trip and every command of the pipeline
// (or one handshake round trip when the pipeline is go-redis's connection setup).
func (h *CountingHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		switch {
		case len(cmds) == 0:
		case allHandshake(cmds):
			h.handshakes.Add(1)
		default:
			h.roundTrips.Add(1)
			h.commands.Add(int64(len(cmds)))
		}
		return next(ctx, cmds)
	}
}

// RoundTrips is the number of round trips, handshakes excluded, since creation
// or the last Reset.
func (h *CountingHook) RoundTrips() int64 { return h.roundTrips.Load() }

// Commands is the number of commands, handshakes excluded, since creation or
// the last Reset.
func (h *CountingHook) Commands() int64 { return h.commands.Load() }

// Handshakes is the number of connection-setup round trips since creation or
// the last Reset.
func (h *CountingHook) Handshakes() int64 { return h.handshakes.Load() }

// Dials is the number of connections dialled since creation or the last Reset.
func (h *CountingHook) Dials() int64 { return h.dials.Load() }

// Reset sets every counter to zero.
func (h *CountingHook) Reset() {
	h.roundTrips.Store(0)
	h.commands.Store(0)
	h.handshakes.Store(0)
	h.dials.Store(0)
}

// String summarises the counters, for test failure messages.
func (h *CountingHook) String() string {
	return fmt.Sprintf("round trips %d, commands %d, handshakes %d, dials %d",
		h.RoundTrips(), h.Commands(), h.Handshakes(), h.Dials())
}

// isHandshake reports whether cmd is one go-redis sends on its own when it
// sets up a connection (baseClient.initConn) rather than one of the caller's.
func isHandshake(cmd redis.Cmder) bool {
	switch cmd.Name() {
	case "hello", "auth":
		return true
	case "client":
		sub := subcommand(cmd)
		return sub == "maint_notifications"
	}
	return false
}

// allHandshake reports whether a pipeline is go-redis's init pipeline.
func allHandshake(cmds []redis.Cmder) bool {
	for _, cmd := range cmds {
		switch cmd.Name() {
		case "select", "readonly":
		case "client":
			switch subcommand(cmd) {
			case "setinfo", "setname", "tracking":
			default:
				return false
			}
		default:
			return false
		}
	}
	return true
}

func subcommand(cmd redis.Cmder) string {
	args := cmd.Args()
	if len(args) < 2 {
		return ""
	}
	s, _ := args[1].(string)
	return strings.ToLower(s)
}
