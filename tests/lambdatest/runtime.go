package lambdatest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Runtime API paths and headers (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html).
const (
	runtimePrefix         = "/2018-06-01/runtime"
	HeaderRequestID       = "Lambda-Runtime-Aws-Request-Id"
	HeaderDeadlineMs      = "Lambda-Runtime-Deadline-Ms"
	HeaderFunctionArn     = "Lambda-Runtime-Invoked-Function-Arn"
	HeaderTraceID         = "Lambda-Runtime-Trace-Id"
	HeaderFunctionErrType = "Lambda-Runtime-Function-Error-Type"
)

// Account and Region are those of the fakes' ARNs.
const (
	Account = "123456789012"
	Region  = "us-east-1"
)

// ARN is the ARN of the function called name in the fakes' account.
func ARN(name string) string {
	return "arn:aws:lambda:" + Region + ":" + Account + ":function:" + name
}

// FunctionError is what a runtime posts to /error or /init/error.
type FunctionError struct {
	Message    string          `json:"errorMessage"`
	Type       string          `json:"errorType"`
	StackTrace json.RawMessage `json:"stackTrace,omitempty"`
	// Header is the Lambda-Runtime-Function-Error-Type header, if sent.
	Header string `json:"-"`
	// Raw is the body as posted.
	Raw []byte `json:"-"`
}

// Result is how an invocation ended: Response, what the runtime posted to
// /response, or Error, what it posted to /error.
type Result struct {
	Response []byte
	Error    *FunctionError
}

// Invocation is one event handed to the runtime.
type Invocation struct {
	ID    string
	Event []byte

	done   chan struct{}
	result Result
	// taken and ended are when the runtime got the event and answered it.
	taken, ended time.Time
}

// Wait waits until the runtime has answered the invocation, or ctx is done.
func (inv *Invocation) Wait(ctx context.Context) (Result, error) {
	select {
	case <-inv.done:
		return inv.result, nil
	case <-ctx.Done():
		return Result{}, fmt.Errorf("invocation %s not answered: %w", inv.ID, ctx.Err())
	}
}

// Times are when the runtime took the invocation from /next and when it
// answered it (zero until then).
func (inv *Invocation) Times() (taken, ended time.Time) {
	select {
	case <-inv.done:
		return inv.taken, inv.ended
	default:
		return time.Time{}, time.Time{}
	}
}

// RuntimeAPIFake is a fake of the AWS Lambda Runtime API of one function,
// served on 127.0.0.1. Events are handed to /next callers in the order they
// were queued; a /next call waits for one.
type RuntimeAPIFake struct {
	Function string        // the function's name, in the ARN header
	Timeout  time.Duration // the function's timeout (deadline = now + Timeout); set it before the first event

	srv       *httptest.Server
	queue     chan *Invocation
	closed    chan struct{}
	closeOnce sync.Once
	seq       atomic.Int64
	polls     atomic.Int64
	served    atomic.Int64

	mu       sync.Mutex
	inflight map[string]*Invocation
	initErrs []*FunctionError
	initErr  chan struct{} // closed at the first init error
}

// NewRuntimeAPIFake starts a Runtime API fake for the function called name,
// with a timeout of 60 s. It stops when tb ends.
func NewRuntimeAPIFake(tb testing.TB, name string) *RuntimeAPIFake {
	tb.Helper()
	f := &RuntimeAPIFake{
		Function: name,
		Timeout:  time.Minute,
		queue:    make(chan *Invocation, 4096),
		closed:   make(chan struct{}),
		inflight: map[string]*Invocation{},
		initErr:  make(chan struct{}),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+runtimePrefix+"/invocation/next", f.next)
	mux.HandleFunc("POST "+runtimePrefix+"/invocation/{id}/response", f.response)
	mux.HandleFunc("POST "+runtimePrefix+"/invocation/{id}/error", f.error)
	mux.HandleFunc("POST "+runtimePrefix+"/init/error", f.initError)
	f.srv = httptest.NewServer(mux) // httptest listens on 127.0.0.1
	tb.Cleanup(f.Close)
	return f
}

// Addr is the host:port to give a runtime in AWS_LAMBDA_RUNTIME_API.
func (f *RuntimeAPIFake) Addr() string { return strings.TrimPrefix(f.srv.URL, "http://") }

// Close stops the fake; pending /next calls return 500.
func (f *RuntimeAPIFake) Close() {
	f.closeOnce.Do(func() {
		close(f.closed)
		f.srv.Close()
	})
}

// Polls is how many /next calls the runtime has made.
func (f *RuntimeAPIFake) Polls() int64 { return f.polls.Load() }

// Served is how many events the runtime has taken from /next.
func (f *RuntimeAPIFake) Served() int64 { return f.served.Load() }

// Enqueue queues event for the runtime and returns at once.
func (f *RuntimeAPIFake) Enqueue(event []byte) *Invocation {
	inv := &Invocation{
		ID:    fmt.Sprintf("%08d-fake-%s", f.seq.Add(1), f.Function),
		Event: append([]byte(nil), event...),
		done:  make(chan struct{}),
	}
	f.queue <- inv
	return inv
}

// Invoke queues event and waits for the runtime's answer.
func (f *RuntimeAPIFake) Invoke(ctx context.Context, event []byte) (Result, error) {
	return f.Enqueue(event).Wait(ctx)
}

// InitError waits until the runtime reports an init error, or ctx is done.
func (f *RuntimeAPIFake) InitError(ctx context.Context) (*FunctionError, error) {
	select {
	case <-f.initErr:
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.initErrs[0], nil
	case <-ctx.Done():
		return nil, fmt.Errorf("no init error reported: %w", ctx.Err())
	}
}

func (f *RuntimeAPIFake) next(w http.ResponseWriter, r *http.Request) {
	f.polls.Add(1)
	var inv *Invocation
	select {
	case inv = <-f.queue:
	case <-r.Context().Done():
		return
	case <-f.closed:
		http.Error(w, "runtime API fake closed", http.StatusInternalServerError)
		return
	}
	inv.taken = time.Now()
	f.served.Add(1)
	f.mu.Lock()
	f.inflight[inv.ID] = inv
	f.mu.Unlock()
	deadline := inv.taken.Add(f.Timeout)
	h := w.Header()
	h.Set(HeaderRequestID, inv.ID)
	h.Set(HeaderDeadlineMs, strconv.FormatInt(deadline.UnixMilli(), 10))
	h.Set(HeaderFunctionArn, ARN(f.Function))
	h.Set(HeaderTraceID, fmt.Sprintf("Root=1-%08x-%024d;Parent=%016d;Sampled=0", inv.taken.Unix(), f.seq.Load(), 1))
	h.Set("Content-Type", "application/json")
	_, _ = w.Write(inv.Event)
}

// finish records how the invocation id ended; false if it is not in flight.
func (f *RuntimeAPIFake) finish(id string, res Result) bool {
	f.mu.Lock()
	inv, ok := f.inflight[id]
	delete(f.inflight, id)
	f.mu.Unlock()
	if !ok {
		return false
	}
	inv.result, inv.ended = res, time.Now()
	close(inv.done)
	return true
}

func (f *RuntimeAPIFake) response(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		runtimeError(w, http.StatusBadRequest, "InvalidRequest", err.Error())
		return
	}
	if !f.finish(r.PathValue("id"), Result{Response: body}) {
		runtimeError(w, http.StatusBadRequest, "InvalidRequestID", "no invocation "+r.PathValue("id")+" in flight")
		return
	}
	accepted(w)
}

func (f *RuntimeAPIFake) error(w http.ResponseWriter, r *http.Request) {
	fe, err := readFunctionError(r)
	if err != nil {
		runtimeError(w, http.StatusBadRequest, "InvalidRequest", err.Error())
		return
	}
	if !f.finish(r.PathValue("id"), Result{Error: fe}) {
		runtimeError(w, http.StatusBadRequest, "InvalidRequestID", "no invocation "+r.PathValue("id")+" in flight")
		return
	}
	accepted(w)
}

func (f *RuntimeAPIFake) initError(w http.ResponseWriter, r *http.Request) {
	fe, err := readFunctionError(r)
	if err != nil {
		runtimeError(w, http.StatusBadRequest, "InvalidRequest", err.Error())
		return
	}
	f.mu.Lock()
	f.initErrs = append(f.initErrs, fe)
	if len(f.initErrs) == 1 {
		close(f.initErr)
	}
	f.mu.Unlock()
	accepted(w)
}

// readFunctionError reads an error body; it must be Lambda's error JSON.
func readFunctionError(r *http.Request) (*FunctionError, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	fe := &FunctionError{Raw: body}
	if err := json.Unmarshal(body, fe); err != nil {
		return nil, fmt.Errorf("error body is not {\"errorMessage\", \"errorType\"}: %w: %s", err, body)
	}
	// aws-lambda-go sends the type as a trailer when it fails to read the body.
	fe.Header = r.Header.Get(HeaderFunctionErrType)
	if fe.Header == "" {
		fe.Header = r.Trailer.Get(HeaderFunctionErrType)
	}
	return fe, nil
}

func accepted(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"status":"OK"}`)
}

func runtimeError(w http.ResponseWriter, code int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"errorType": typ, "errorMessage": msg})
}
