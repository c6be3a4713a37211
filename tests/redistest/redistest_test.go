package redistest_test

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/pouchdp/pouch/tests/redistest"
)

func TestStart(t *testing.T) {
	ctx := context.Background()
	a, b := redistest.Start(t), redistest.Start(t)
	if a.Options().Addr == b.Options().Addr {
		t.Fatalf("two Start calls share server %s", a.Options().Addr)
	}
	if host, _, _ := net.SplitHostPort(a.Options().Addr); host != "127.0.0.1" {
		t.Errorf("Addr = %q, want host 127.0.0.1", a.Options().Addr)
	}
	if err := a.Set(ctx, "k", "a", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := b.Exists(ctx, "k").Result(); err != nil || n != 0 {
		t.Errorf("second server sees the first one's key: EXISTS = %d, %v", n, err)
	}
	// Real redis-server, not miniredis: FUNCTION exists.
	if err := a.Do(ctx, "FUNCTION", "LIST").Err(); err != nil {
		t.Errorf("FUNCTION LIST: %v", err)
	}
}

func TestCountingHook(t *testing.T) {
	ctx := context.Background()
	c := redistest.Start(t)
	h := &redistest.CountingHook{}
	c.AddHook(h)

	tests := []struct {
		name                     string
		run                      func(t *testing.T)
		wantRoundTrips, wantCmds int64
	}{
		{
			name: "single commands",
			run: func(t *testing.T) {
				must(t, c.Set(ctx, "a", 1, 0).Err(), c.Get(ctx, "a").Err(), c.Incr(ctx, "a").Err())
			},
			wantRoundTrips: 3, wantCmds: 3,
		},
		{
			name: "pipeline of five",
			run: func(t *testing.T) {
				_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
					for range 5 {
						p.Incr(ctx, "n")
					}
					return nil
				})
				must(t, err)
			},
			wantRoundTrips: 1, wantCmds: 5,
		},
		{
			name: "transaction of two",
			run: func(t *testing.T) {
				_, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
					p.Set(ctx, "x", 1, 0)
					p.Incr(ctx, "x")
					return nil
				})
				must(t, err)
			},
			wantRoundTrips: 1, wantCmds: 4, // MULTI, SET, INCR, EXEC
		},
		{
			name: "concurrent commands open new connections",
			run: func(t *testing.T) {
				var wg sync.WaitGroup
				for range 8 {
					wg.Go(func() {
						for range 50 {
							if err := c.Incr(ctx, "c").Err(); err != nil {
								t.Error(err)
							}
						}
					})
				}
				wg.Wait()
			},
			wantRoundTrips: 400, wantCmds: 400,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.Reset()
			tt.run(t)
			t.Log(h)
			if h.RoundTrips() != tt.wantRoundTrips || h.Commands() != tt.wantCmds {
				t.Errorf("got %v; want round trips %d, commands %d", h, tt.wantRoundTrips, tt.wantCmds)
			}
			if h.Dials() > 0 && h.Handshakes() == 0 {
				t.Errorf("%v: new connections but no handshake counted", h)
			}
		})
	}

	h.Reset()
	if h.RoundTrips() != 0 || h.Commands() != 0 || h.Handshakes() != 0 || h.Dials() != 0 {
		t.Errorf("after Reset: %v", h)
	}
}

func must(t *testing.T, errs ...error) {
	t.Helper()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// fakeTB records how Start gives up. Fatalf and the Skip family stop the
// caller with a panic that the test recovers.
type fakeTB struct {
	testing.TB
	fatal, skip string
}

type stopped struct{}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.fatal = fmt.Sprintf(format, args...)
	panic(stopped{})
}
func (f *fakeTB) Fatal(args ...any) { f.fatal = fmt.Sprint(args...); panic(stopped{}) }
func (f *fakeTB) Skip(args ...any)  { f.skip = fmt.Sprint(args...); panic(stopped{}) }
func (f *fakeTB) Skipf(format string, args ...any) {
	f.skip = fmt.Sprintf(format, args...)
	panic(stopped{})
}
func (f *fakeTB) SkipNow() { f.skip = "SkipNow"; panic(stopped{}) }

func TestStartWithoutRedisServerFailsLoudly(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // no redis-server anywhere on PATH
	for _, start := range []struct {
		name string
		fn   func(testing.TB)
	}{
		{name: "Start", fn: func(tb testing.TB) { redistest.Start(tb) }},
		{name: "Addr", fn: func(tb testing.TB) { redistest.Addr(tb) }},
	} {
		t.Run(start.name, func(t *testing.T) {
			f := &fakeTB{TB: t}
			func() {
				defer func() {
					if v := recover(); v != nil {
						if _, ok := v.(stopped); !ok {
							panic(v)
						}
					}
				}()
				start.fn(f)
			}()
			const want = "redis-server not found: install it (apt-get install redis-server) or run make test"
			if f.fatal != want {
				t.Errorf("Fatalf message = %q, want %q", f.fatal, want)
			}
			if f.skip != "" {
				t.Errorf("skipped (%q): must never skip", f.skip)
			}
		})
	}
}
