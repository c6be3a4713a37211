// Package lambda tests Pouch on AWS Lambda with the real bootstrap binary
// (cmd/bootstrap, built as Lambda runs it) and real redis-servers, against
// fakes of the AWS services only (tests/lambdatest): the Runtime API each
// execution environment polls, and the Invoke API the Lambda invoker calls.
//
// It checks that the binary builds for amd64 and arm64 within the size
// budget, that each function answers the events Lambda sends it (api: API
// Gateway HTTP API and Function URL requests; tick: EventBridge schedule
// events and direct invokes; hook: tasks), that errors come back in
// Lambda's format (init errors included), and that a protect and a restore
// whose hooks go api -> Invoke API -> hook environments end well.
package lambda
