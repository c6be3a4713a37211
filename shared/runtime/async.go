package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/openfaas/faas-provider/types"

	"github.com/pouchdp/pouch/shared/invoke"
)

// maxAsyncBody bounds the body of an asynchronous call, which waits in memory.
const maxAsyncBody = 16 << 20

// queueWorker is the name of the queue's only function.
const queueWorker = "queue-worker"

// errClosed answers asynchronous calls once Close has been called.
var errClosed = errors.New("the provider is closed")

// startQueue returns the queue of asynchronous calls, started on first use.
func (p *Provider) startQueue() (*invoke.Local, error) {
	p.queueMu.Lock()
	defer p.queueMu.Unlock()
	if p.closed {
		return nil, errClosed
	}
	if p.queue == nil {
		p.queue = invoke.NewLocal(p.queueWorkers, p.log)
		p.queue.Register(queueWorker, p.work)
	}
	return p.queue, nil
}

// Wait blocks until no asynchronous call is queued or running (calls queued
// by running calls included), or until ctx is done.
func (p *Provider) Wait(ctx context.Context) error {
	p.queueMu.Lock()
	q := p.queue
	p.queueMu.Unlock()
	if q == nil {
		return nil
	}
	return q.Wait(ctx)
}

// Close stops the queue: later asynchronous calls are refused (503), calls
// still queued are dropped (logged) and running ones see their context
// cancelled. Call Wait first to drain it. Close is idempotent.
func (p *Provider) Close() {
	p.queueMu.Lock()
	p.closed = true
	q := p.queue
	p.queueMu.Unlock()
	if q != nil {
		q.Close()
	}
}

// enqueue is POST /async-function/{name}[/{path}]: the call is queued and
// answered 202 with its X-Call-Id; a worker later runs the function and, if
// the request had an X-Callback-Url, POSTs the result there (see work).
func (p *Provider) enqueue(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	d, ok := p.lookup(name)
	if !ok {
		http.Error(w, fmt.Sprintf("function %q not found", name), http.StatusNotFound)
		return
	}
	var callback *url.URL
	if cb := r.Header.Get(HeaderCallbackURL); cb != "" {
		u, err := url.Parse(cb)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			http.Error(w, fmt.Sprintf("%s %q is not an absolute http(s) URL", HeaderCallbackURL, cb), http.StatusBadRequest)
			return
		}
		callback = u
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAsyncBody))
	if err != nil {
		code := http.StatusBadRequest
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			code = http.StatusRequestEntityTooLarge
		}
		http.Error(w, fmt.Sprintf("read request body: %v", err), code)
		return
	}
	callID := r.Header.Get(HeaderCallID)
	if callID == "" {
		callID = uuid.NewString()
	}
	header := r.Header.Clone()
	header.Set(HeaderCallID, callID)
	header.Del(HeaderCallbackURL)
	req := types.QueueRequest{
		Header:      header,
		Host:        r.Host,
		Body:        body,
		Method:      http.MethodPost,
		Path:        stripAsync(r.URL.EscapedPath()),
		QueryString: r.URL.RawQuery,
		Function:    d.spec.Service,
		CallbackURL: callback,
	}
	msg, err := json.Marshal(req)
	if err == nil {
		var q *invoke.Local
		if q, err = p.startQueue(); err == nil {
			err = q.Invoke(r.Context(), queueWorker, msg)
		}
	}
	if err != nil {
		p.log.Error("queue asynchronous call", "function", d.spec.Service, "err", err)
		http.Error(w, fmt.Sprintf("queue the call: %v", err), http.StatusServiceUnavailable)
		return
	}
	p.log.Debug("queued asynchronous call", "function", d.spec.Service, "call_id", callID, "bytes", len(body))
	w.Header().Set(HeaderCallID, callID)
	w.WriteHeader(http.StatusAccepted)
}

// stripAsync turns "/async-function/NAME/rest" into "/rest" and
// "/async-function/NAME" into "/".
func stripAsync(path string) string {
	return stripFunction("/function/" + path[len("/async-function/"):])
}

// work runs one queued call as OpenFaaS's queue worker does: a POST to the
// function with the queued headers, path, query and body; then, with a
// callback URL, a POST of the function's response (its headers, body,
// X-Function-Status, X-Duration-Seconds, X-Function-Name and the call's
// X-Call-Id) to it. A failed callback is logged, not retried.
func (p *Provider) work(ctx context.Context, msg []byte) error {
	var q types.QueueRequest
	if err := json.Unmarshal(msg, &q); err != nil {
		return fmt.Errorf("queued call: %w", err)
	}
	target := q.Path
	if q.QueryString != "" {
		target += "?" + q.QueryString
	}
	req, err := http.NewRequestWithContext(ctx, q.Method, target, bytes.NewReader(q.Body))
	if err != nil {
		return fmt.Errorf("queued call of %s: %w", q.Function, err)
	}
	req.Header = q.Header
	req.Host = q.Host
	req.RequestURI = req.URL.RequestURI()
	req.RemoteAddr = "127.0.0.1:0" // the queue worker, in this process

	start := time.Now()
	res := p.record(req, q.Function)
	took := time.Since(start)
	callID := q.Header.Get(HeaderCallID)
	p.log.Debug("ran asynchronous call", "function", q.Function, "call_id", callID, "status", res.code, "duration", took)
	if q.CallbackURL == nil {
		if res.code >= http.StatusInternalServerError {
			return fmt.Errorf("asynchronous call %s of %s: status %d: %s", callID, q.Function, res.code, bytes.TrimSpace(res.body.Bytes()))
		}
		return nil
	}
	return p.postResult(ctx, q, res, took)
}

// result is a function's buffered response.
type result struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (r *result) Header() http.Header { return r.header }

func (r *result) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
}

func (r *result) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}

// record calls the function and buffers its response; a panic answers 500.
func (p *Provider) record(req *http.Request, name string) (res *result) {
	res = &result{header: http.Header{}}
	defer func() {
		if v := recover(); v != nil {
			p.log.Error("function panicked", "function", name, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			res = &result{header: http.Header{}, code: http.StatusInternalServerError}
			res.body.WriteString("function panicked\n")
		}
	}()
	p.call(res, req, name)
	if res.code == 0 {
		res.code = http.StatusOK
	}
	return res
}

func (p *Provider) postResult(ctx context.Context, q types.QueueRequest, res *result, took time.Duration) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, q.CallbackURL.String(), bytes.NewReader(res.body.Bytes()))
	if err != nil {
		return fmt.Errorf("callback of %s: %w", q.Function, err)
	}
	for k, v := range res.header {
		req.Header[k] = v
	}
	req.Header.Set(HeaderDuration, seconds(took))
	req.Header.Set(HeaderStatus, strconv.Itoa(res.code))
	req.Header.Set(HeaderName, q.Function)
	req.Header.Set(HeaderCallID, q.Header.Get(HeaderCallID))
	resp, err := p.callbacks.Do(req)
	if err != nil {
		return fmt.Errorf("callback of %s to %s: %w", q.Function, q.CallbackURL.Redacted(), err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("callback of %s to %s: %s", q.Function, q.CallbackURL.Redacted(), resp.Status)
	}
	return nil
}
