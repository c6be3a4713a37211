package redisserver

import (
	"fmt"
	"log/slog"
	"sync"

	"github.com/alicebob/miniredis/v2"
)

// Embedded is an in-process miniredis server on 127.0.0.1. Its state lives in
// memory only and is lost when the process exits; it has no FUNCTION/FCALL.
type Embedded struct {
	mr        *miniredis.Miniredis
	addr      string // kept: miniredis.Addr panics after Close
	closeOnce sync.Once
}

// StartEmbedded starts miniredis on a free port of 127.0.0.1 and logs a loud
// warning that its state is not durable. A nil log discards.
func StartEmbedded(log *slog.Logger) (*Embedded, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	mr, err := miniredis.Run() // binds 127.0.0.1:0
	if err != nil {
		return nil, fmt.Errorf("redisserver: start embedded miniredis: %w", err)
	}
	log.Warn("USING THE EMBEDDED IN-MEMORY REDIS (miniredis): state is NOT durable and is LOST AT EXIT; "+
		"no FUNCTION/FCALL. Install redis-server (apt-get install redis-server) for anything that matters",
		"redis_addr", mr.Addr())
	return &Embedded{mr: mr, addr: mr.Addr()}, nil
}

// Addr is the server's host:port on 127.0.0.1.
func (e *Embedded) Addr() string { return e.addr }

// Close stops the server and drops its data. It always returns nil and may
// be called more than once.
func (e *Embedded) Close() error {
	e.closeOnce.Do(e.mr.Close)
	return nil
}
