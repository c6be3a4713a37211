package invoke_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pouchdp/pouch/tests/logtest"

	"github.com/pouchdp/pouch/shared/invoke"
)

// The engine declares this interface; Local must satisfy it.
type invoker interface {
	Invoke(ctx context.Context, function string, payload []byte) error
}

var _ invoker = (*invoke.Local)(nil)

func newLocal(t *testing.T, workers int) (*invoke.Local, *logtest.Buffer) {
	t.Helper()
	log, buf := logtest.New()
	l := invoke.NewLocal(workers, log)
	t.Cleanup(l.Close)
	return l, buf
}

func wait(t *testing.T, l *invoke.Local) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := l.Wait(ctx); err != nil {
		t.Fatalf("Wait: %v", err)
	}
}

func u64(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

func TestInvokeErrors(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name     string
		function string
		ctx      context.Context
		close    bool
		want     error
	}{
		{name: "unknown function", function: "nope", ctx: context.Background(), want: invoke.ErrUnknownFunction},
		{name: "caller context already done", function: "noop", ctx: cancelled, want: context.Canceled},
		{name: "after close", function: "noop", ctx: context.Background(), close: true, want: invoke.ErrClosed},
		{name: "known function", function: "noop", ctx: context.Background(), want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, _ := newLocal(t, 1)
			l.Register("noop", func(context.Context, []byte) error { return nil })
			if tt.close {
				l.Close()
			}
			err := l.Invoke(tt.ctx, tt.function, nil)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Invoke(%q) = %v, want %v", tt.function, err, tt.want)
			}
			if err != nil && !strings.Contains(err.Error(), tt.function) {
				t.Errorf("error %q does not name the function %q", err, tt.function)
			}
		})
	}
}

func TestRegisterPanics(t *testing.T) {
	noop := func(context.Context, []byte) error { return nil }
	tests := []struct {
		name  string
		fname string
		fn    invoke.Func
	}{
		{name: "empty name", fname: "", fn: noop},
		{name: "nil func", fname: "f", fn: nil},
		{name: "duplicate", fname: "dup", fn: noop},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, _ := newLocal(t, 1)
			l.Register("dup", noop)
			defer func() {
				if recover() == nil {
					t.Fatalf("Register(%q) did not panic", tt.fname)
				}
			}()
			l.Register(tt.fname, tt.fn)
		})
	}
}

func TestConcurrentInvokesRunExactlyOnce(t *testing.T) {
	tests := []struct {
		workers, callers, perCaller int
	}{
		{workers: 1, callers: 8, perCaller: 500},
		{workers: 4, callers: 32, perCaller: 500},
		{workers: 16, callers: 64, perCaller: 200},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("workers=%d", tt.workers), func(t *testing.T) {
			l, _ := newLocal(t, tt.workers)
			total := tt.callers * tt.perCaller
			counts := make([]atomic.Int32, total)
			l.Register("count", func(_ context.Context, p []byte) error {
				counts[binary.BigEndian.Uint64(p)].Add(1)
				return nil
			})
			var wg sync.WaitGroup
			for c := range tt.callers {
				wg.Go(func() {
					for i := range tt.perCaller {
						if err := l.Invoke(context.Background(), "count", u64(uint64(c*tt.perCaller+i))); err != nil {
							t.Errorf("Invoke: %v", err)
							return
						}
					}
				})
			}
			wg.Wait()
			wait(t, l)
			for i := range counts {
				if n := counts[i].Load(); n != 1 {
					t.Fatalf("call %d ran %d times, want 1", i, n)
				}
			}
			if q, r, d := l.Stats(); q != 0 || r != 0 || d != int64(total) {
				t.Errorf("Stats() = (%d, %d, %d), want (0, 0, %d)", q, r, d, total)
			}
		})
	}
}

// A function that invokes its successors from inside the only worker must
// not deadlock: the queue is unbounded and Invoke never blocks.
func TestNestedInvokesDoNotDeadlock(t *testing.T) {
	tests := []struct {
		name    string
		calls   uint64
		fanout  uint64
		workers int
	}{
		{name: "chain of 10000, one worker", calls: 10000, fanout: 1, workers: 1},
		{name: "binary tree of 10000, one worker", calls: 10000, fanout: 2, workers: 1},
		{name: "wide tree of 10000, four workers", calls: 10000, fanout: 50, workers: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, _ := newLocal(t, tt.workers)
			var ran atomic.Int64
			var failures atomic.Int64
			l.Register("node", func(ctx context.Context, p []byte) error {
				ran.Add(1)
				n := binary.BigEndian.Uint64(p)
				for k := uint64(1); k <= tt.fanout; k++ {
					child := n*tt.fanout + k
					if child >= tt.calls {
						break
					}
					if err := l.Invoke(ctx, "node", u64(child)); err != nil {
						failures.Add(1)
						return err
					}
				}
				return nil
			})
			if err := l.Invoke(context.Background(), "node", u64(0)); err != nil {
				t.Fatal(err)
			}
			wait(t, l)
			if got := ran.Load(); got != int64(tt.calls) {
				t.Errorf("ran %d calls, want %d", got, tt.calls)
			}
			if f := failures.Load(); f != 0 {
				t.Errorf("%d nested Invoke calls failed", f)
			}
		})
	}
}

func TestPanicIsRecoveredAndLogged(t *testing.T) {
	l, logs := newLocal(t, 1)
	l.Register("explode", func(context.Context, []byte) error { panic("boom-42") })
	var after atomic.Bool
	l.Register("after", func(context.Context, []byte) error { after.Store(true); return nil })

	for _, fn := range []string{"explode", "explode", "after"} {
		if err := l.Invoke(context.Background(), fn, nil); err != nil {
			t.Fatal(err)
		}
	}
	wait(t, l)
	if !after.Load() {
		t.Fatal("the worker did not survive the panic: the next call never ran")
	}
	out := logs.String()
	for _, want := range []string{"function panicked", "function=explode", "boom-42"} {
		if !strings.Contains(out, want) {
			t.Errorf("log does not contain %q:\n%s", want, out)
		}
	}
	if _, _, done := l.Stats(); done != 3 {
		t.Errorf("done = %d, want 3", done)
	}
}

func TestErrorIsLogged(t *testing.T) {
	l, logs := newLocal(t, 1)
	l.Register("fail", func(context.Context, []byte) error { return errors.New("disk on fire") })
	if err := l.Invoke(context.Background(), "fail", nil); err != nil {
		t.Fatal(err)
	}
	wait(t, l)
	out := logs.String()
	for _, want := range []string{"level=ERROR", "function=fail", "disk on fire"} {
		if !strings.Contains(out, want) {
			t.Errorf("log does not contain %q:\n%s", want, out)
		}
	}
}

// The caller may return (and cancel its context) before the call runs.
func TestCallDoesNotUseCallerContext(t *testing.T) {
	l, _ := newLocal(t, 1)
	type key struct{}
	gate := make(chan struct{})
	l.Register("block", func(context.Context, []byte) error { <-gate; return nil })
	var gotErr atomic.Value
	var sawValue atomic.Bool
	l.Register("check", func(ctx context.Context, _ []byte) error {
		gotErr.Store(fmt.Sprint(ctx.Err()))
		sawValue.Store(ctx.Value(key{}) != nil)
		return nil
	})

	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, "v"))
	if err := l.Invoke(ctx, "block", nil); err != nil {
		t.Fatal(err)
	}
	if err := l.Invoke(ctx, "check", nil); err != nil {
		t.Fatal(err)
	}
	cancel() // the caller is gone before "check" runs
	close(gate)
	wait(t, l)
	if got := gotErr.Load(); got != "<nil>" {
		t.Errorf("call saw ctx.Err() = %v, want <nil>", got)
	}
	if sawValue.Load() {
		t.Error("call saw a value of the caller's context")
	}
}

func TestPayloadIsCopied(t *testing.T) {
	l, _ := newLocal(t, 1)
	gate := make(chan struct{})
	var got atomic.Value
	l.Register("read", func(_ context.Context, p []byte) error { <-gate; got.Store(string(p)); return nil })
	buf := []byte("original")
	if err := l.Invoke(context.Background(), "read", buf); err != nil {
		t.Fatal(err)
	}
	copy(buf, "mutated!")
	close(gate)
	wait(t, l)
	if got.Load() != "original" {
		t.Errorf("call saw payload %q, want %q", got.Load(), "original")
	}
}

func TestCloseCancelsRunningCalls(t *testing.T) {
	log, logs := logtest.New()
	l := invoke.NewLocal(2, log)
	started := make(chan struct{}, 2)
	results := make(chan error, 2)
	l.Register("block", func(ctx context.Context, _ []byte) error {
		started <- struct{}{}
		select {
		case <-ctx.Done():
			results <- ctx.Err()
			return ctx.Err()
		case <-time.After(20 * time.Second):
			results <- errors.New("context was never cancelled")
			return nil
		}
	})
	var queuedRan atomic.Bool
	l.Register("queued", func(context.Context, []byte) error { queuedRan.Store(true); return nil })

	for range 2 {
		if err := l.Invoke(context.Background(), "block", nil); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		<-started
	}
	// Both workers are busy: this one stays queued and is dropped by Close.
	if err := l.Invoke(context.Background(), "queued", nil); err != nil {
		t.Fatal(err)
	}

	closed := make(chan struct{})
	go func() { l.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return")
	}
	for range 2 {
		if err := <-results; !errors.Is(err, context.Canceled) {
			t.Errorf("running call ended with %v, want context.Canceled", err)
		}
	}
	if queuedRan.Load() {
		t.Error("a call still queued at Close ran")
	}
	if !strings.Contains(logs.String(), "dropped=1") {
		t.Errorf("Close did not log the dropped call:\n%s", logs.String())
	}
	if err := l.Wait(context.Background()); err != nil {
		t.Errorf("Wait after Close: %v", err)
	}
	l.Close() // idempotent
}

func TestWorkersRunInParallel(t *testing.T) {
	const workers = 4
	l, _ := newLocal(t, workers)
	var arrived sync.WaitGroup
	arrived.Add(workers)
	all := make(chan struct{})
	go func() { arrived.Wait(); close(all) }()
	var passed, timedOut atomic.Int32
	l.Register("barrier", func(context.Context, []byte) error {
		arrived.Done()
		select {
		case <-all:
			passed.Add(1)
		case <-time.After(10 * time.Second):
			timedOut.Add(1)
		}
		return nil
	})
	for range workers {
		if err := l.Invoke(context.Background(), "barrier", nil); err != nil {
			t.Fatal(err)
		}
	}
	wait(t, l)
	if passed.Load() != workers || timedOut.Load() != 0 {
		t.Fatalf("%d calls passed the barrier, %d timed out: want %d concurrent calls", passed.Load(), timedOut.Load(), workers)
	}
}

func TestWaitHonoursContext(t *testing.T) {
	l, _ := newLocal(t, 1)
	gate := make(chan struct{})
	defer close(gate)
	l.Register("block", func(context.Context, []byte) error { <-gate; return nil })
	if err := l.Invoke(context.Background(), "block", nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := l.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait = %v, want DeadlineExceeded", err)
	}
	if q, r, _ := l.Stats(); q != 0 || r != 1 {
		t.Errorf("Stats() queued=%d running=%d, want 0, 1", q, r)
	}
}

func BenchmarkInvoke(b *testing.B) {
	for _, workers := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			l := invoke.NewLocal(workers, nil)
			defer l.Close()
			var n atomic.Int64
			l.Register("noop", func(context.Context, []byte) error { n.Add(1); return nil })
			payload := []byte(`{"task":"x"}`)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			// Timed: enqueue b.N calls and wait until all of them have run.
			for range b.N {
				if err := l.Invoke(ctx, "noop", payload); err != nil {
					b.Fatal(err)
				}
			}
			if err := l.Wait(ctx); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			if n.Load() != int64(b.N) {
				b.Fatalf("ran %d calls, want %d", n.Load(), b.N)
			}
		})
	}
}
