package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/pouchdp/pouch/shared/lambdafn"
)

func main() {
	os.Exit(run(context.Background(), os.LookupEnv, os.Stderr))
}

// run starts the Lambda runtime loop, which never returns, or returns the
// exit status when it cannot start.
func run(ctx context.Context, lookup func(string) (string, bool), stderr io.Writer) int {
	runtimeAPI, _ := lookup(lambdafn.RuntimeAPIVariable)
	if runtimeAPI == "" {
		fmt.Fprintf(stderr, notInLambda, lambdafn.RuntimeAPIVariable)
		return 2
	}
	h, err := newHandler(lookup)
	if err != nil {
		fmt.Fprintf(stderr, "bootstrap: %v\n", err)
		if rerr := lambdafn.ReportInitError(ctx, runtimeAPI, err); rerr != nil {
			fmt.Fprintf(stderr, "bootstrap: %v\n", rerr)
		}
		return 1
	}
	lambda.StartWithOptions(h, lambda.WithContext(ctx))
	return 1 // not reached: lambda.Start exits when the Runtime API fails
}

const notInLambda = `bootstrap: %s is not set: this is the AWS Lambda bootstrap of Pouch's
functions (runtime provided.al2023), and it runs only inside Lambda. Deploy it
with POUCH_FUNCTION=api, hook or tick (see "go doc ./cmd/bootstrap"), or run
every function on this machine with "pouch serve" (make run).
`
