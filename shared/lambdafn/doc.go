// Package lambdafn runs Pouch's functions on AWS Lambda (aws-lambda-go
// v1.55.1): it adapts Lambda events to the shapes the functions have
// everywhere else.
//
//   - HTTP serves an http.Handler (the api function) to API Gateway HTTP API
//     events (payload format 2.0) and Lambda Function URL events, which share
//     one JSON shape; it answers the matching response. An HTTP error status
//     is a response, not a Lambda error. Any other event is a Lambda error of
//     type InvalidEvent.
//   - Task runs a func(ctx, payload []byte) error (the hook function) with the
//     payload the event carries: the event itself, or what invoke.Lambda
//     put in its envelope when the payload was not JSON. Event runs a function whose result is the JSON
//     response (the tick function, for an EventBridge schedule event or a
//     direct invoke).
//   - Lazy builds a handler on its first invocation and keeps it; a failed
//     build is retried at the next one. It keeps a cold start to what the
//     first event needs.
//   - LogHandler adds the invocation's request id to the log records of an
//     invocation.
//   - ReportInitError tells the Runtime API that the runtime could not start
//     (POST /2018-06-01/runtime/init/error), which aws-lambda-go does not do.
//
// Every error reaches Lambda as {"errorMessage": ..., "errorType": ...}; the
// type is the one given with WithType, else "Error".
package lambdafn
