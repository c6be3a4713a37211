package redisserver_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pouchdp/pouch/tests/logtest"

	"github.com/pouchdp/pouch/shared/redisserver"
)

func TestStartEmbedded(t *testing.T) {
	var logs logtest.Buffer
	e, err := redisserver.StartEmbedded(slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if host, _, _ := net.SplitHostPort(e.Addr()); host != "127.0.0.1" {
		t.Errorf("Addr = %q, want host 127.0.0.1", e.Addr())
	}
	ctx := context.Background()
	c := client(t, e.Addr())
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Get(ctx, "k").Result(); got != "v" {
		t.Errorf("GET = %q, want v", got)
	}
	if out := logs.String(); !strings.Contains(out, "level=WARN") || !strings.Contains(out, "NOT durable") {
		t.Errorf("no loud durability warning in the log:\n%s", out)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if conn, err := net.DialTimeout("tcp", e.Addr(), time.Second); err == nil {
		conn.Close()
		t.Errorf("%s still accepts connections after Close", e.Addr())
	}
	if err := e.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestAuto(t *testing.T) {
	requireRedisServer(t)
	tests := []struct {
		name         string
		binary       string
		wantEmbedded bool
	}{
		{name: "binary missing falls back to embedded", binary: "/nonexistent/redis-server", wantEmbedded: true},
		{name: "redis-server on PATH", binary: "", wantEmbedded: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs logtest.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			addr, closer, err := redisserver.Auto(ctx, redisserver.Options{
				Dir:    t.TempDir(),
				Binary: tt.binary,
				Log:    slog.New(slog.NewTextHandler(&logs, nil)),
			})
			if err != nil {
				t.Fatalf("Auto: %v", err)
			}
			defer closer.Close()
			_, isEmbedded := closer.(*redisserver.Embedded)
			_, isServer := closer.(*redisserver.Server)
			if isEmbedded != tt.wantEmbedded || isServer == tt.wantEmbedded {
				t.Fatalf("Auto returned a %T, want embedded=%v", closer, tt.wantEmbedded)
			}
			warned := strings.Contains(logs.String(), "NOT durable")
			if warned != tt.wantEmbedded {
				t.Errorf("durability warning logged = %v, want %v:\n%s", warned, tt.wantEmbedded, logs.String())
			}
			if err := client(t, addr).Ping(ctx).Err(); err != nil {
				t.Fatalf("PING %s: %v", addr, err)
			}
			var _ io.Closer = closer
		})
	}
}
