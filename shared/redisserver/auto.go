package redisserver

import (
	"context"
	"fmt"
	"io"
	"log/slog"
)

// Auto starts the real redis-server with opts when opts.Binary (default
// "redis-server") can be found, and otherwise falls back to StartEmbedded,
// which logs a loud warning. A redis-server that is found but fails to start
// is an error, not a fallback. The closer stops whichever server was started.
func Auto(ctx context.Context, opts Options) (addr string, closer io.Closer, err error) {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if _, lookErr := lookBinary(opts.Binary); lookErr != nil {
		log.Warn("redis-server not found, falling back to the embedded in-memory redis", "err", lookErr)
		e, err := StartEmbedded(log)
		if err != nil {
			return "", nil, fmt.Errorf("redisserver: auto: %w", err)
		}
		return e.Addr(), e, nil
	}
	s, err := Start(ctx, opts)
	if err != nil {
		return "", nil, fmt.Errorf("redisserver: auto: %w", err)
	}
	return s.Addr, s, nil
}
