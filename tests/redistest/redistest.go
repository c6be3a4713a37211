package redistest

import (
	"context"
	"log/slog"
	"os/exec"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pouchdp/pouch/shared/redisserver"
)

const notFound = "redis-server not found: install it (apt-get install redis-server) or run make test"

// Addr starts a private redis-server for tb and returns its 127.0.0.1 address.
// The server is stopped when tb's cleanup runs. It calls tb.Fatalf when
// redis-server is not on PATH or does not start; it never skips.
func Addr(tb testing.TB) string {
	tb.Helper()
	if _, err := exec.LookPath(redisserver.DefaultBinary); err != nil {
		tb.Fatalf(notFound)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv, err := redisserver.Start(ctx, redisserver.Options{
		Dir:        tb.TempDir(),
		AppendOnly: false,
		Log:        slog.New(slog.NewTextHandler(tb.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		tb.Fatalf("redistest: %v", err)
	}
	tb.Cleanup(func() {
		if err := srv.Close(); err != nil {
			tb.Errorf("redistest: stop redis-server: %v", err)
		}
	})
	return srv.Addr
}

// Start starts a private redis-server for tb (see Addr) and returns a go-redis
// client for it; client and server are closed by tb's cleanup.
func Start(tb testing.TB) *redis.Client {
	tb.Helper()
	client := redis.NewClient(&redis.Options{Addr: Addr(tb)})
	tb.Cleanup(func() { _ = client.Close() }) // runs before the server stops
	return client
}
