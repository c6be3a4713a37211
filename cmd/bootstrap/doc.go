// Command bootstrap is Pouch on AWS Lambda: the `bootstrap` executable of an
// OS-only runtime (provided.al2023, arm64 or amd64). Build it with
//
//	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -trimpath -ldflags "-s -w" -tags lambda.norpc -o bootstrap ./cmd/bootstrap
//
// or make lambda (bin/lambda/<arch>/bootstrap and bootstrap.zip).
//
// One binary serves every function; POUCH_FUNCTION says which one this
// Lambda function is:
//
//	api   API Gateway HTTP API (payload format 2.0, $default stage) and
//	      Function URL events: Karbor's v1 REST API. An API error (4xx, 5xx)
//	      is an HTTP response; another event fails with InvalidEvent.
//	hook  asynchronous direct invoke; the event is the task the engine sent.
//	      A task that cannot be read fails with errorType InvalidTask, one
//	      whose outcome could not be recorded with TaskFailed (Lambda's
//	      asynchronous retries deliver it again: completion is idempotent).
//	tick  an EventBridge schedule (rate(1 minute)) or any direct invoke;
//	      answers what each job did, fails with TickFailed if a job failed.
//
// Every function also reads the POUCH_* settings of shared/standalone
// (POUCH_REDIS is required) and dispatches hooks through the Lambda invoker
// of shared/invoke (AWS_REGION, POUCH_LAMBDA_FUNCTION_PREFIX,
// POUCH_LAMBDA_FUNCTIONS, ...). Settings are checked when the runtime starts:
// a bad one is reported to the Runtime API as an init error (errorType
// ConfigError) and the process exits. The App (Redis connection, providers)
// is opened by the first invocation and kept for the container's life; if
// Redis cannot be reached that invocation fails with errorType Unavailable
// and the next one tries again.
//
// Outside Lambda (AWS_LAMBDA_RUNTIME_API unset) bootstrap says so and exits
// with status 2: run Pouch locally with `pouch serve`.
package main
