package invoketest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Harness is one Invoker under test whose calls of Function reach the sink given to Setup.
type Harness struct {
	Invoker interface {
		Invoke(ctx context.Context, function string, payload []byte) error
	}
	Function string                          // a function name that reaches the sink
	Unknown  string                          // a function name that does not exist; "" if this Invoker cannot tell at invoke time
	Wait     func(ctx context.Context) error // optional: waits until calls made so far have run (nil: the suite polls the sink)
}

// timeout bounds every wait of the suite: calls arriving, Wait, Invoke
// returning while the sink blocks.
const timeout = time.Minute

// Run runs the conformance tests; setup makes a fresh Harness whose Function calls sink(ctx, payload).
func Run(t *testing.T, setup func(t *testing.T, sink func(ctx context.Context, payload []byte) error) Harness) {
	t.Run("PayloadArrivesIntact", func(t *testing.T) { payloadArrivesIntact(t, setup) })
	t.Run("ConcurrentInvokesAllArrive", func(t *testing.T) { concurrentInvokes(t, setup) })
	t.Run("ReturnsWhileSinkIsSlow", func(t *testing.T) { returnsWhileSinkIsSlow(t, setup) })
	t.Run("SinkErrorDoesNotComeBack", func(t *testing.T) { sinkErrorDoesNotComeBack(t, setup) })
	t.Run("CallerMayReuseBuffer", func(t *testing.T) { callerMayReuseBuffer(t, setup) })
	t.Run("CancelledContextIsRefused", func(t *testing.T) { cancelledContext(t, setup) })
	t.Run("UnknownFunctionIsRefused", func(t *testing.T) { unknownFunction(t, setup) })
}

// recorder is a sink that keeps a copy of every payload it gets; then, if
// set, it behaves as then says.
type recorder struct {
	mu    sync.Mutex
	calls [][]byte
	then  func(ctx context.Context, payload []byte) error
}

func (r *recorder) sink(ctx context.Context, payload []byte) error {
	r.mu.Lock()
	r.calls = append(r.calls, bytes.Clone(payload))
	r.mu.Unlock()
	if r.then != nil {
		return r.then(ctx, payload)
	}
	return nil
}

func (r *recorder) received() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

// await waits until ok holds for what the sink received: after h.Wait if
// the harness has one (then it must hold at once), else by polling.
func await(t *testing.T, h Harness, r *recorder, what string, ok func([][]byte) bool) [][]byte {
	t.Helper()
	if h.Wait != nil {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		if err := h.Wait(ctx); err != nil {
			t.Fatalf("Wait: %v", err)
		}
		got := r.received()
		if !ok(got) {
			t.Fatalf("after Wait returned: %s: not so (%d calls received)", what, len(got))
		}
		return got
	}
	deadline := time.Now().Add(timeout)
	for {
		got := r.received()
		if ok(got) {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s: not so (%d calls received)", timeout, what, len(got))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func contains(calls [][]byte, p []byte) bool {
	for _, c := range calls {
		if bytes.Equal(c, p) {
			return true
		}
	}
	return false
}

func describe(p []byte) string {
	if len(p) > 40 {
		return fmt.Sprintf("%d bytes starting %q", len(p), p[:40])
	}
	return fmt.Sprintf("%q", p)
}

func binary(n int) []byte {
	b := make([]byte, n)
	rng := rand.NewChaCha8([32]byte{'p', 'o', 'u', 'c', 'h'})
	_, _ = rng.Read(b)
	for i := range 256 { // every byte value, whatever the stream gave
		b[i] = byte(i)
	}
	return b
}

func payloadArrivesIntact(t *testing.T, setup func(*testing.T, func(context.Context, []byte) error) Harness) {
	tests := []struct {
		name    string
		payload []byte
	}{
		{name: "empty", payload: []byte{}},
		{name: "nil", payload: nil},
		{name: "JSON", payload: []byte(`{"op":"0b9e","task":3,"resource":{"id":"é/ü \"q\"","type":"OS::Nova::Server"},"nested":[1,2.5,null,true]}` + "\n")},
		{name: "binary 256 KiB", payload: binary(256 << 10)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &recorder{}
			h := setup(t, r.sink)
			if err := h.Invoker.Invoke(context.Background(), h.Function, tt.payload); err != nil {
				t.Fatalf("Invoke: %v", err)
			}
			got := await(t, h, r, "the payload arrived", func(c [][]byte) bool { return len(c) > 0 })
			for i, c := range got {
				if !bytes.Equal(c, tt.payload) {
					t.Errorf("call %d got %s, want %s", i, describe(c), describe(tt.payload))
				}
			}
		})
	}
}

func concurrentInvokes(t *testing.T, setup func(*testing.T, func(context.Context, []byte) error) Harness) {
	const n = 200
	r := &recorder{}
	h := setup(t, r.sink)
	want := make(map[string]bool, n)
	for i := range n {
		want[fmt.Sprintf("call-%03d", i)] = true
	}
	var wg sync.WaitGroup
	for p := range want {
		wg.Go(func() {
			if err := h.Invoker.Invoke(context.Background(), h.Function, []byte(p)); err != nil {
				t.Errorf("Invoke(%s): %v", p, err)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	distinct := func(calls [][]byte) map[string]bool {
		m := map[string]bool{}
		for _, c := range calls {
			m[string(c)] = true
		}
		return m
	}
	got := await(t, h, r, fmt.Sprintf("%d distinct payloads arrived", n), func(c [][]byte) bool { return len(distinct(c)) >= n })
	for p := range distinct(got) {
		if !want[p] {
			t.Errorf("the sink got %q, which nobody sent", p)
		}
	}
	if len(got) > n {
		t.Logf("%d calls for %d invokes (duplicates are allowed: at least once)", len(got), n)
	}
}

func returnsWhileSinkIsSlow(t *testing.T, setup func(*testing.T, func(context.Context, []byte) error) Harness) {
	gate := make(chan struct{})
	entered := make(chan struct{}, 1)
	r := &recorder{then: func(ctx context.Context, _ []byte) error {
		select {
		case entered <- struct{}{}:
		default:
		}
		select {
		case <-gate:
		case <-ctx.Done():
		}
		return nil
	}}
	h := setup(t, r.sink)
	var once sync.Once
	release := func() { once.Do(func() { close(gate) }) }
	t.Cleanup(release) // before the harness's own cleanups, which may wait for the sink

	errc := make(chan error, 1)
	start := time.Now()
	go func() { errc <- h.Invoker.Invoke(context.Background(), h.Function, []byte("slow")) }()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("Invoke: %v", err)
		}
		t.Logf("Invoke returned after %s while the sink blocks", time.Since(start))
	case <-time.After(timeout):
		t.Fatalf("Invoke did not return within %s while the sink blocked: it is not asynchronous", timeout)
	}
	select {
	case <-entered:
	case <-time.After(timeout):
		t.Fatalf("the call never reached the sink")
	}
	release()
	await(t, h, r, "the slow call arrived", func(c [][]byte) bool { return contains(c, []byte("slow")) })
}

func sinkErrorDoesNotComeBack(t *testing.T, setup func(*testing.T, func(context.Context, []byte) error) Harness) {
	r := &recorder{then: func(context.Context, []byte) error { return errors.New("the sink failed on purpose") }}
	h := setup(t, r.sink)
	if err := h.Invoker.Invoke(context.Background(), h.Function, []byte("fails")); err != nil {
		t.Fatalf("Invoke returned the function's error (or another): %v", err)
	}
	await(t, h, r, "the failing call arrived", func(c [][]byte) bool { return contains(c, []byte("fails")) })
}

func callerMayReuseBuffer(t *testing.T, setup func(*testing.T, func(context.Context, []byte) error) Harness) {
	r := &recorder{}
	h := setup(t, r.sink)
	const original = "original payload"
	buf := []byte(original)
	if err := h.Invoker.Invoke(context.Background(), h.Function, buf); err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	copy(buf, strings.Repeat("X", len(buf)))
	got := await(t, h, r, "the call arrived", func(c [][]byte) bool { return len(c) > 0 })
	for _, c := range got {
		if string(c) != original {
			t.Errorf("the sink got %q, want %q: the invoker kept the caller's buffer", c, original)
		}
	}
}

func cancelledContext(t *testing.T, setup func(*testing.T, func(context.Context, []byte) error) Harness) {
	r := &recorder{}
	h := setup(t, r.sink)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := h.Invoker.Invoke(ctx, h.Function, []byte("cancelled"))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Invoke with a cancelled context = %v, want an error wrapping context.Canceled", err)
	}
	// A later call still works, and the refused one never arrives.
	if err := h.Invoker.Invoke(context.Background(), h.Function, []byte("after")); err != nil {
		t.Fatalf("Invoke after a refused call: %v", err)
	}
	got := await(t, h, r, "the next call arrived", func(c [][]byte) bool { return contains(c, []byte("after")) })
	if contains(got, []byte("cancelled")) {
		t.Error("the call refused for its cancelled context reached the sink")
	}
}

func unknownFunction(t *testing.T, setup func(*testing.T, func(context.Context, []byte) error) Harness) {
	r := &recorder{}
	h := setup(t, r.sink)
	if h.Unknown == "" {
		t.Skip("this invoker cannot tell an unknown function at invoke time")
	}
	err := h.Invoker.Invoke(context.Background(), h.Unknown, []byte("lost"))
	if err == nil {
		t.Fatalf("Invoke(%q) = nil, want an error", h.Unknown)
	}
	if !strings.Contains(err.Error(), h.Unknown) {
		t.Errorf("error %q does not name the function %q", err, h.Unknown)
	}
	if got := r.received(); len(got) != 0 {
		t.Errorf("the sink got %d calls for an unknown function", len(got))
	}
}
