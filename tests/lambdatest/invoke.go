package lambdatest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"unicode/utf8"
)

// InvokeAPIFake is a fake of the Lambda Invoke API
// (POST /2015-03-31/functions/{name}/invocations), served on 127.0.0.1, that
// hands events to the RuntimeAPIFake of each function added with Add.
type InvokeAPIFake struct {
	srv *httptest.Server

	mu        sync.Mutex
	functions map[string]*RuntimeAPIFake
	throttle  int // the next calls to answer 429
	calls     map[string]int
	events    atomic.Int64
}

// NewInvokeAPIFake starts an Invoke API fake; it stops when tb ends.
func NewInvokeAPIFake(tb testing.TB) *InvokeAPIFake {
	tb.Helper()
	f := &InvokeAPIFake{functions: map[string]*RuntimeAPIFake{}, calls: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /2015-03-31/functions/{name}/invocations", f.invoke)
	f.srv = httptest.NewServer(mux)
	tb.Cleanup(f.srv.Close)
	return f
}

// URL is the endpoint to give a Lambda client (POUCH_LAMBDA_ENDPOINT).
func (f *InvokeAPIFake) URL() string { return f.srv.URL }

// Add makes rt the function called rt.Function.
func (f *InvokeAPIFake) Add(rt *RuntimeAPIFake) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.functions[rt.Function] = rt
}

// Throttle makes the next n calls fail with 429 TooManyRequestsException,
// as Lambda does when a function's concurrency is exhausted.
func (f *InvokeAPIFake) Throttle(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.throttle = n
}

// Calls is how many calls named function (accepted or not), by the name in
// the URL.
func (f *InvokeAPIFake) Calls(function string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[function]
}

// Events is how many asynchronous invocations were accepted.
func (f *InvokeAPIFake) Events() int64 { return f.events.Load() }

// functionName is the function a {name} of the Invoke API names: a name, a
// name:qualifier, a partial ARN (123456789012:function:name) or a full ARN.
func functionName(s string) string {
	if i := strings.Index(s, ":function:"); i >= 0 {
		s = s[i+len(":function:"):]
	}
	name, _, _ := strings.Cut(s, ":")
	return name
}

func (f *InvokeAPIFake) invoke(w http.ResponseWriter, r *http.Request) {
	raw := r.PathValue("name")
	f.mu.Lock()
	f.calls[raw]++
	throttled := f.throttle > 0
	if throttled {
		f.throttle--
	}
	rt := f.functions[functionName(raw)]
	f.mu.Unlock()

	// Lambda checks the signature; the fake only checks there is one.
	if auth := r.Header.Get("Authorization"); !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=") ||
		!strings.Contains(auth, "/"+Region+"/lambda/aws4_request") {
		apiError(w, http.StatusForbidden, "UnrecognizedClientException", "missing or foreign SigV4 signature: "+auth)
		return
	}
	if throttled {
		apiError(w, http.StatusTooManyRequests, "TooManyRequestsException", "Rate Exceeded.")
		return
	}
	if rt == nil {
		apiError(w, http.StatusNotFound, "ResourceNotFoundException", "Function not found: "+ARN(functionName(raw)))
		return
	}
	payload, err := io.ReadAll(r.Body)
	if err != nil {
		apiError(w, http.StatusBadRequest, "InvalidRequestContentException", err.Error())
		return
	}
	if len(payload) == 0 {
		payload = []byte("{}") // Lambda's event for an empty payload
	}
	if !json.Valid(payload) || !utf8.Valid(payload) {
		apiError(w, http.StatusBadRequest, "InvalidRequestContentException", "Could not parse request body into json")
		return
	}
	typ := r.Header.Get("X-Amz-Invocation-Type")
	if limit := maxPayload(typ); len(payload) > limit {
		apiError(w, http.StatusRequestEntityTooLarge, "RequestTooLargeException",
			fmt.Sprintf("Request must be smaller than %d bytes for the %s invocation type", limit, typ))
		return
	}
	switch typ {
	case "Event":
		rt.Enqueue(payload)
		f.events.Add(1)
		w.WriteHeader(http.StatusAccepted)
	case "DryRun":
		w.WriteHeader(http.StatusNoContent)
	case "", "RequestResponse":
		res, err := rt.Invoke(r.Context(), payload)
		if err != nil {
			apiError(w, http.StatusInternalServerError, "ServiceException", err.Error())
			return
		}
		w.Header().Set("X-Amz-Executed-Version", "$LATEST")
		w.Header().Set("Content-Type", "application/json")
		if res.Error != nil {
			w.Header().Set("X-Amz-Function-Error", "Unhandled")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write(res.Error.Raw)
			return
		}
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(res.Response)
	default:
		apiError(w, http.StatusBadRequest, "InvalidParameterValueException", "invalid X-Amz-Invocation-Type "+typ)
	}
}

// maxPayload is Lambda's limit on the payload of an invocation type: 1 MB
// asynchronous, 6 MB synchronous.
func maxPayload(invocationType string) int {
	if invocationType == "Event" {
		return 1 << 20
	}
	return 6 << 20
}

// apiError answers an AWS REST-JSON error, as the Lambda API does.
func apiError(w http.ResponseWriter, code int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", typ)
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"Type": "User", "message": msg})
}
