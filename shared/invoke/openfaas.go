package invoke

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Modes of the OpenFaaS invoker (POUCH_INVOKE_MODE).
const (
	ModeAsync = "async" // POST /async-function/{name}: the gateway queues the call (default)
	ModeSync  = "sync"  // POST /function/{name} from a goroutine of this process
)

// OpenFaaSConfig configures an OpenFaaS invoker. Zero values take the defaults.
type OpenFaaSConfig struct {
	Gateway     string // base URL of the gateway, e.g. http://gateway.openfaas:8080 (required)
	Mode        string // ModeAsync (default) or ModeSync
	CallbackURL string // async: sent as X-Callback-Url, where the queue worker POSTs each result
	User        string // basic auth user, if the gateway wants one
	Password    string // and its password

	Client      *http.Client  // default: a client with a 5-minute timeout
	Attempts    int           // tries of one call on a connection error, 429 or 5xx (5)
	RetryBase   time.Duration // first backoff (100ms), doubled each try
	RetryMax    time.Duration // backoff cap (5s)
	MaxInflight int           // sync: calls running at once (64); more wait their turn
}

// OpenFaaS invokes functions through an OpenFaaS gateway (or the local
// runtime, which serves the same routes).
//
// In async mode Invoke POSTs the payload to /async-function/{name} and
// returns once the gateway answered 202: the call is queued there, and
// the gateway's queue worker runs it. In sync mode Invoke hands the call to
// a goroutine that POSTs it to /function/{name} and returns at once; the
// function's answer is logged. Either way a call is retried with backoff on
// connection errors, 429 and 5xx, a bounded number of times; 404 is
// ErrUnknownFunction (async; sync logs it).
type OpenFaaS struct {
	cfg      OpenFaaSConfig
	gateway  *url.URL
	log      *slog.Logger
	ctx      context.Context // of sync calls; cancelled by Close
	cancel   context.CancelFunc
	inflight chan struct{} // sync: a slot per running call

	mu      sync.Mutex
	closed  bool
	running int           // sync calls handed to goroutines and not ended
	idle    chan struct{} // closed while running is 0
}

// NewOpenFaaS checks cfg and returns an invoker. A nil log discards.
func NewOpenFaaS(cfg OpenFaaSConfig, log *slog.Logger) (*OpenFaaS, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Gateway == "" {
		return nil, errors.New("invoke: OpenFaaS needs a gateway URL (POUCH_GATEWAY)")
	}
	gw, err := httpURL(cfg.Gateway)
	if err != nil {
		return nil, fmt.Errorf("invoke: OpenFaaS gateway: %w", err)
	}
	gw.Path = strings.TrimRight(gw.Path, "/")
	switch cfg.Mode {
	case "":
		cfg.Mode = ModeAsync
	case ModeAsync, ModeSync:
	default:
		return nil, fmt.Errorf("invoke: OpenFaaS mode %q: want %s or %s", cfg.Mode, ModeAsync, ModeSync)
	}
	if cfg.CallbackURL != "" {
		if _, err := httpURL(cfg.CallbackURL); err != nil {
			return nil, fmt.Errorf("invoke: callback URL: %w", err)
		}
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 5 * time.Minute}
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = 5
	}
	if cfg.RetryBase <= 0 {
		cfg.RetryBase = 100 * time.Millisecond
	}
	if cfg.RetryMax <= 0 {
		cfg.RetryMax = 5 * time.Second
	}
	if cfg.MaxInflight <= 0 {
		cfg.MaxInflight = 64
	}
	ctx, cancel := context.WithCancel(context.Background())
	idle := make(chan struct{})
	close(idle)
	return &OpenFaaS{cfg: cfg, gateway: gw, log: log, ctx: ctx, cancel: cancel,
		inflight: make(chan struct{}, cfg.MaxInflight), idle: idle}, nil
}

// httpURL parses an absolute http(s) URL.
func httpURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%q is not an absolute http(s) URL", s)
	}
	return u, nil
}

// Mode is the invoker's mode, ModeAsync or ModeSync.
func (o *OpenFaaS) Mode() string { return o.cfg.Mode }

// Invoke sends payload to function. It fails if ctx is already done or the
// invoker is closed; in async mode also if the gateway did not accept the
// call (after the retries). The caller may reuse payload once it returns.
func (o *OpenFaaS) Invoke(ctx context.Context, function string, payload []byte) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("invoke %q: %w", function, err)
	}
	if o.cfg.Mode == ModeAsync {
		o.mu.Lock()
		closed := o.closed
		o.mu.Unlock()
		if closed {
			return fmt.Errorf("invoke %q: %w", function, ErrClosed)
		}
		_, err := o.send(ctx, "/async-function/", function, payload)
		return err
	}

	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return fmt.Errorf("invoke %q: %w", function, ErrClosed)
	}
	if o.running == 0 {
		o.idle = make(chan struct{}) // busy from now on
	}
	o.running++
	go o.runSync(function, bytes.Clone(payload))
	return nil
}

func (o *OpenFaaS) runSync(function string, payload []byte) {
	defer func() {
		o.mu.Lock()
		defer o.mu.Unlock()
		if o.running--; o.running == 0 {
			close(o.idle)
		}
	}()
	select {
	case o.inflight <- struct{}{}:
		defer func() { <-o.inflight }()
	case <-o.ctx.Done():
		o.log.Warn("invoke: closed before the call ran; dropped", "function", function)
		return
	}
	start := time.Now()
	code, err := o.send(o.ctx, "/function/", function, payload)
	if err != nil {
		o.log.Error("invoke: function failed", "function", function, "status", code, "err", err, "duration", time.Since(start))
		return
	}
	o.log.Debug("invoke: function done", "function", function, "status", code, "duration", time.Since(start))
}

// send POSTs payload to route+function with retries and returns the last
// status. A 2xx is success (async: only 202).
func (o *OpenFaaS) send(ctx context.Context, route, function string, payload []byte) (int, error) {
	u := *o.gateway
	u.Path += route + function
	var last error
	code := 0
	for attempt := 1; ; attempt++ {
		var retry bool
		code, retry, last = o.post(ctx, u.String(), payload)
		if last == nil {
			return code, nil
		}
		last = fmt.Errorf("invoke %q: %w", function, last)
		if !retry || attempt >= o.cfg.Attempts {
			if retry {
				last = fmt.Errorf("%w (gave up after %d attempts)", last, attempt)
			}
			return code, last
		}
		wait := backoff(o.cfg.RetryBase, o.cfg.RetryMax, attempt)
		o.log.Debug("invoke: retrying", "function", function, "attempt", attempt, "wait", wait, "err", last)
		select {
		case <-ctx.Done():
			return code, fmt.Errorf("%w (while retrying: %w)", ctx.Err(), last)
		case <-time.After(wait):
		}
	}
}

// post makes one attempt. retry tells whether another attempt may succeed.
func (o *OpenFaaS) post(ctx context.Context, target string, payload []byte) (code int, retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(payload))
	if err != nil {
		return 0, false, err
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	if o.cfg.CallbackURL != "" && o.cfg.Mode == ModeAsync {
		req.Header.Set("X-Callback-Url", o.cfg.CallbackURL)
	}
	if o.cfg.User != "" || o.cfg.Password != "" {
		req.SetBasicAuth(o.cfg.User, o.cfg.Password)
	}
	resp, err := o.cfg.Client.Do(req)
	if err != nil {
		// The caller's context ending is final; anything else on the way
		// (refused, reset, timeout) may pass.
		return 0, ctx.Err() == nil, err
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	code = resp.StatusCode
	msg := strings.TrimSpace(string(body))
	switch {
	case o.cfg.Mode == ModeAsync && code == http.StatusAccepted:
		return code, false, nil
	case o.cfg.Mode == ModeSync && code >= 200 && code < 300:
		return code, false, nil
	case code == http.StatusNotFound:
		return code, false, fmt.Errorf("%w: %s: %s", ErrUnknownFunction, resp.Status, msg)
	case code == http.StatusTooManyRequests || code >= 500:
		return code, true, fmt.Errorf("%s: %s", resp.Status, msg)
	default:
		return code, false, fmt.Errorf("unexpected %s: %s", resp.Status, msg)
	}
}

// backoff is the wait after attempt: exponential from base, capped, with
// jitter so that many retrying calls spread out.
func backoff(base, limit time.Duration, attempt int) time.Duration {
	d := base << min(attempt-1, 20)
	if d > limit || d <= 0 {
		d = limit
	}
	return d/2 + rand.N(d/2+1)
}

// Wait blocks until the sync calls handed to goroutines so far have ended,
// or until ctx is done. In async mode there is nothing to wait for here:
// the gateway holds the calls.
func (o *OpenFaaS) Wait(ctx context.Context) error {
	o.mu.Lock()
	idle := o.idle
	o.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait for the invoker's calls: %w", ctx.Err())
	}
}

// Close refuses further calls, cancels the sync calls still running or
// waiting and waits for their goroutines. Call Wait first to let them end.
// Close is idempotent.
func (o *OpenFaaS) Close() {
	o.mu.Lock()
	o.closed = true
	idle := o.idle
	o.mu.Unlock()
	o.cancel()
	<-idle
}
