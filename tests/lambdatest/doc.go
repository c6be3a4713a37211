// Package lambdatest runs Pouch's Lambda bootstrap binaries in tests, against
// fakes of the two AWS services they talk to (AWS cannot run here):
//
//   - RuntimeAPIFake fakes the Lambda Runtime API of one function
//     (/2018-06-01/runtime/invocation/next, /{id}/response, /{id}/error,
//     /runtime/init/error, with the Lambda-Runtime-* headers). A bootstrap
//     started with Start polls it as in a Lambda execution environment;
//     Invoke and Enqueue feed it events and collect what the runtime answers.
//     Several bootstraps may poll one fake, like several environments of one
//     function.
//   - InvokeAPIFake fakes the Lambda Invoke API (POST
//     /2015-03-31/functions/{name}/invocations): Event invocations are
//     answered 202 and queued to the named function's RuntimeAPIFake,
//     RequestResponse ones wait for the answer (200). It checks that calls
//     are SigV4-signed but not the signature.
//
// Build builds cmd/bootstrap as Lambda runs it (CGO_ENABLED=0, linux,
// -trimpath, -ldflags "-s -w", -tags lambda.norpc); Start runs it with
// Lambda's environment. RunInProcess serves a RuntimeAPIFake with a
// lambda.Handler of the test instead, for tests of callers. HTTPAPIEvent,
// FunctionURLEvent and ScheduleEvent make the events Lambda's sources send.
// Only the AWS services are fakes: the binaries, Redis and HTTP are real.
package lambdatest
