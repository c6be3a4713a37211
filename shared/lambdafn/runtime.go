package lambdafn

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// RuntimeAPIVariable names the environment variable that holds the Runtime
// API's host:port; Lambda sets it, and aws-lambda-go's lambda.Start exits
// without it.
const RuntimeAPIVariable = "AWS_LAMBDA_RUNTIME_API"

// ReportInitError tells the Runtime API at runtimeAPI (host:port) that the
// runtime failed to initialise: POST /2018-06-01/runtime/init/error with
// {"errorMessage", "errorType"} and the Lambda-Runtime-Function-Error-Type
// header. Lambda then fails the pending invocation with that error and
// discards the execution environment; the caller should exit.
func ReportInitError(ctx context.Context, runtimeAPI string, initErr error) error {
	typ := ErrorType(initErr)
	body, err := json.Marshal(map[string]string{"errorMessage": initErr.Error(), "errorType": typ})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	url := "http://" + runtimeAPI + "/2018-06-01/runtime/init/error"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("report init error: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Lambda-Runtime-Function-Error-Type", typ)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("report init error: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("report init error: %s answered %s", url, resp.Status)
	}
	return nil
}
