package lambdatest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/messages"
)

// RunInProcess answers rt's events with h in a goroutine of the test, the
// way the bootstrap's runtime loop (aws-lambda-go) would: GET /next, call h
// with the deadline of the event, POST /response or /error. It is for tests
// of callers (an Invoker) that need a function behind the fakes but not the
// real binary. It stops when tb ends.
func RunInProcess(tb testing.TB, rt *RuntimeAPIFake, h lambda.Handler) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		base := "http://" + rt.Addr() + runtimePrefix + "/invocation/"
		for ctx.Err() == nil {
			if err := serveOne(ctx, base, h); err != nil && ctx.Err() == nil {
				time.Sleep(10 * time.Millisecond) // the fake is closing
			}
		}
	}()
	tb.Cleanup(func() { cancel(); <-done })
}

func serveOne(ctx context.Context, base string, h lambda.Handler) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"next", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	event, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		return errors.Join(err, errors.New(resp.Status))
	}
	id := resp.Header.Get(HeaderRequestID)
	ms, _ := strconv.ParseInt(resp.Header.Get(HeaderDeadlineMs), 10, 64)
	callCtx, cancel := context.WithDeadline(ctx, time.UnixMilli(ms))
	out, herr := h.Invoke(callCtx, event)
	cancel()
	path := "/response"
	if herr != nil {
		le, ok := herr.(messages.InvokeResponse_Error)
		if !ok {
			le = messages.InvokeResponse_Error{Message: herr.Error(), Type: "Error"}
		}
		out, _ = json.Marshal(le)
		path = "/error"
	}
	req, err = http.NewRequestWithContext(ctx, http.MethodPost, base+id+path, bytes.NewReader(out))
	if err != nil {
		return err
	}
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}
