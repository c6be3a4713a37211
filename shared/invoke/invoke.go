package invoke

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	"sync"
	"time"
)

// Func is a function the pool can run. payload is the function's own copy.
type Func func(ctx context.Context, payload []byte) error

// ErrUnknownFunction is returned by Invoke for a name that was never registered.
var ErrUnknownFunction = errors.New("unknown function")

// ErrClosed is returned by Invoke once Close has been called.
var ErrClosed = errors.New("invoker is closed")

type call struct {
	name    string
	fn      Func
	payload []byte
}

// Local runs registered functions on a fixed pool of worker goroutines fed by
// an unbounded FIFO queue. It satisfies the engine's Invoker interface. All
// methods are safe for concurrent use, including from inside a running Func.
type Local struct {
	log    *slog.Logger
	ctx    context.Context // given to every call; cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // workers

	mu      sync.Mutex
	cond    *sync.Cond // signalled when the queue grows or the pool closes
	funcs   map[string]Func
	queue   []call
	running int64
	done    int64
	closed  bool
	idle    chan struct{} // closed while nothing is queued or running
}

// NewLocal starts a pool of workers goroutines (GOMAXPROCS when workers <= 0).
// A nil log discards. Call Close to stop the workers.
func NewLocal(workers int, log *slog.Logger) *Local {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	idle := make(chan struct{})
	close(idle)
	l := &Local{
		log:    log,
		ctx:    ctx,
		cancel: cancel,
		funcs:  make(map[string]Func),
		idle:   idle,
	}
	l.cond = sync.NewCond(&l.mu)
	l.wg.Add(workers)
	for range workers {
		go l.worker()
	}
	return l
}

// Register makes fn callable as name. It panics on an empty name, a nil fn or
// a name registered twice: those are programming errors.
func (l *Local) Register(name string, fn Func) {
	if name == "" {
		panic("invoke: Register with an empty function name")
	}
	if fn == nil {
		panic(fmt.Sprintf("invoke: Register %q with a nil Func", name))
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, dup := l.funcs[name]; dup {
		panic(fmt.Sprintf("invoke: function %q registered twice", name))
	}
	l.funcs[name] = fn
}

// Invoke queues a call of function with a copy of payload and returns at once;
// it never blocks on a busy pool. It fails if function is unknown, if ctx is
// already done or if the pool is closed. The call runs later with a context
// of the pool (not ctx), cancelled by Close. Its error or panic is logged.
func (l *Local) Invoke(ctx context.Context, function string, payload []byte) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("invoke %q: %w", function, err)
	}
	c := call{name: function, payload: bytes.Clone(payload)}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return fmt.Errorf("invoke %q: %w", function, ErrClosed)
	}
	fn, ok := l.funcs[function]
	if !ok {
		return fmt.Errorf("invoke %q: %w", function, ErrUnknownFunction)
	}
	c.fn = fn
	if len(l.queue) == 0 && l.running == 0 {
		l.idle = make(chan struct{}) // busy from now on
	}
	l.queue = append(l.queue, c)
	l.cond.Signal()
	return nil
}

// Wait blocks until no call is queued or running, or until ctx is done. Calls
// queued by running calls are waited for too.
func (l *Local) Wait(ctx context.Context) error {
	l.mu.Lock()
	idle := l.idle
	l.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait for idle invoker: %w", ctx.Err())
	}
}

// Close stops accepting calls, drops the calls still queued (logged), cancels
// the context of the running ones and waits for the workers to return. Call
// Wait first for a graceful drain. Close is idempotent.
func (l *Local) Close() {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		l.wg.Wait()
		return
	}
	l.closed = true
	dropped := len(l.queue)
	l.queue = nil
	l.markIdleLocked()
	l.cond.Broadcast()
	l.mu.Unlock()

	l.cancel()
	l.wg.Wait()
	if dropped > 0 {
		l.log.Warn("invoke: closed with calls still queued; they were dropped", "dropped", dropped)
	}
}

// Stats reports the calls waiting in the queue, the calls running now and the
// calls finished so far (successful, failed or panicked).
func (l *Local) Stats() (queued, running, done int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return int64(len(l.queue)), l.running, l.done
}

// markIdleLocked closes the idle channel when nothing is queued or running.
func (l *Local) markIdleLocked() {
	if len(l.queue) != 0 || l.running != 0 {
		return
	}
	select {
	case <-l.idle:
	default:
		close(l.idle)
	}
}

func (l *Local) worker() {
	defer l.wg.Done()
	for {
		l.mu.Lock()
		for len(l.queue) == 0 && !l.closed {
			l.cond.Wait()
		}
		if l.closed {
			l.mu.Unlock()
			return
		}
		c := l.queue[0]
		l.queue[0] = call{} // let the payload be collected
		l.queue = l.queue[1:]
		l.running++
		l.mu.Unlock()

		l.run(c)

		l.mu.Lock()
		l.running--
		l.done++
		l.markIdleLocked()
		l.mu.Unlock()
	}
}

func (l *Local) run(c call) {
	start := time.Now()
	defer func() {
		if v := recover(); v != nil {
			l.log.Error("invoke: function panicked", "function", c.name, "panic", fmt.Sprint(v),
				"stack", string(debug.Stack()))
		}
	}()
	if err := c.fn(l.ctx, c.payload); err != nil {
		l.log.Error("invoke: function failed", "function", c.name, "err", err,
			"duration", time.Since(start))
		return
	}
	l.log.Debug("invoke: function done", "function", c.name, "duration", time.Since(start))
}
