package lambdafn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/pouchdp/pouch/shared/invoke"
)

// Error types of the adapters.
const (
	// InvalidEvent: the event is not of a shape the handler takes.
	InvalidEvent = "InvalidEvent"
)

// HTTP serves h to API Gateway HTTP API (payload format 2.0) and Lambda
// Function URL events and answers events.APIGatewayV2HTTPResponse (the same
// JSON as events.LambdaFunctionURLResponse). A body that is not UTF-8 is
// answered base64-encoded. Other events fail with InvalidEvent.
func HTTP(h http.Handler) lambda.Handler {
	return httpHandler{adapter: httpadapter.NewV2(h)}
}

type httpHandler struct{ adapter *httpadapter.HandlerAdapterV2 }

func (h httpHandler) Invoke(ctx context.Context, event []byte) ([]byte, error) {
	var req events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(event, &req); err != nil {
		return nil, lambdaError(WithType(InvalidEvent, fmt.Errorf("not an HTTP request: %w", err)))
	}
	// Both shapes have version 2.0 and requestContext.http.
	if req.Version != "2.0" || req.RequestContext.HTTP.Method == "" {
		return nil, lambdaError(WithType(InvalidEvent, errors.New(
			"not an HTTP request: the api function takes API Gateway HTTP API (payload format 2.0) and Function URL events")))
	}
	resp, err := h.adapter.ProxyWithContext(ctx, req)
	if err != nil {
		return nil, lambdaError(WithType(InvalidEvent, err))
	}
	return json.Marshal(resp)
}

// Task runs fn with the payload the event carries and answers null: the
// hook function, whose event is the task the engine sent through
// invoke.Lambda (a JSON task as it is; a payload that is not JSON in
// invoke.Lambda's envelope, which Task opens).
func Task(fn func(ctx context.Context, payload []byte) error) lambda.Handler {
	return Event(func(ctx context.Context, event []byte) (any, error) {
		return nil, fn(ctx, invoke.LambdaPayload(event))
	})
}

// Event runs fn with the event as it is and answers its result as JSON.
func Event(fn func(ctx context.Context, event []byte) (any, error)) lambda.Handler {
	return eventHandler(fn)
}

type eventHandler func(ctx context.Context, event []byte) (any, error)

func (f eventHandler) Invoke(ctx context.Context, event []byte) ([]byte, error) {
	res, err := f(ctx, event)
	if err != nil {
		return nil, lambdaError(err)
	}
	out, err := json.Marshal(res)
	if err != nil {
		return nil, lambdaError(fmt.Errorf("encode the response: %w", err))
	}
	return out, nil
}

// Lazy builds the handler with build at the first invocation and keeps it
// for the next ones. A build that fails fails that invocation (its error
// keeps its type, DefaultErrorType if it has none) and is tried again at the
// next one. build gets the invocation's context, which carries its deadline.
func Lazy(build func(ctx context.Context) (lambda.Handler, error)) lambda.Handler {
	return &lazy{build: build}
}

type lazy struct {
	build func(ctx context.Context) (lambda.Handler, error)
	mu    sync.Mutex
	h     lambda.Handler
}

func (l *lazy) get(ctx context.Context) (lambda.Handler, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.h != nil {
		return l.h, nil
	}
	h, err := l.build(ctx)
	if err != nil {
		return nil, err
	}
	l.h = h
	return h, nil
}

func (l *lazy) Invoke(ctx context.Context, event []byte) ([]byte, error) {
	h, err := l.get(ctx)
	if err != nil {
		return nil, lambdaError(err)
	}
	out, err := h.Invoke(ctx, event)
	return out, lambdaError(err)
}
