package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/pouchdp/pouch/functions/api"
	"github.com/pouchdp/pouch/functions/hook"
	"github.com/pouchdp/pouch/functions/tick"
	"github.com/pouchdp/pouch/shared/engine"
	"github.com/pouchdp/pouch/shared/invoke"
	"github.com/pouchdp/pouch/shared/lambdafn"
	"github.com/pouchdp/pouch/shared/standalone"
)

// Lambda errorTypes of the functions.
const (
	configError = "ConfigError" // init: a setting is missing or wrong
	unavailable = "Unavailable" // the App could not be opened (Redis, providers)
	invalidTask = "InvalidTask" // hook: the task cannot be read
	taskFailed  = "TaskFailed"  // hook: the outcome could not be recorded
	tickFailed  = "TickFailed"  // tick: a job failed
)

// The functions, as named in POUCH_FUNCTION (and in functions.All; this
// command does not import that package, which serves them over HTTP).
const (
	functionVar  = "POUCH_FUNCTION"
	apiFunction  = "api"
	hookFunction = "hook"
	tickFunction = "tick"
	functionList = apiFunction + ", " + hookFunction + " or " + tickFunction
)

// newHandler checks the settings in the environment and returns the handler
// of the function POUCH_FUNCTION names. It opens nothing: the App is opened
// by the first invocation.
func newHandler(lookup func(string) (string, bool)) (lambda.Handler, error) {
	name, _ := lookup(functionVar)
	name = strings.TrimSpace(name)
	switch name {
	case apiFunction, hookFunction, tickFunction:
	case "":
		return nil, lambdafn.WithType(configError, fmt.Errorf("%s is not set: set it to %s", functionVar, functionList))
	default:
		return nil, lambdafn.WithType(configError, fmt.Errorf("%s is %q: set it to %s", functionVar, name, functionList))
	}
	s, err := standalone.FromEnv(lookup)
	if err != nil {
		return nil, lambdafn.WithType(configError, err)
	}
	if s.Redis == "" {
		return nil, lambdafn.WithType(configError, errors.New("POUCH_REDIS is not set: a deployed function needs a shared Redis"))
	}
	cfg, err := invoke.LambdaConfigFromEnv(lookup)
	if err != nil {
		return nil, lambdafn.WithType(configError, err)
	}
	inv, err := invoke.NewLambda(cfg)
	if err != nil {
		return nil, lambdafn.WithType(configError, err)
	}
	log := slog.New(lambdafn.LogHandler(s.Logger().Handler())).With("function", name)
	return lambdafn.Lazy(func(ctx context.Context) (lambda.Handler, error) {
		a, err := standalone.Open(ctx, s, inv, log)
		if err != nil {
			return nil, lambdafn.WithType(unavailable, fmt.Errorf("open pouch: %w", err))
		}
		switch name {
		case apiFunction:
			return lambdafn.HTTP(api.Handler(a)), nil
		case hookFunction:
			return lambdafn.Task(hookTask(hook.Func(a.Engine))), nil
		default:
			return lambdafn.Event(tickEvent(log, tick.Jobs(a))), nil
		}
	}), nil
}

// hookTask gives run's errors their errorType.
func hookTask(run func(ctx context.Context, payload []byte) error) func(ctx context.Context, payload []byte) error {
	return func(ctx context.Context, payload []byte) error {
		err := run(ctx, payload)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, engine.ErrInvalid):
			return lambdafn.WithType(invalidTask, err)
		default:
			return lambdafn.WithType(taskFailed, err)
		}
	}
}

// tickEvent runs a tick for any event (EventBridge's schedule event, a
// direct invoke) and answers its tick.Result.
func tickEvent(log *slog.Logger, jobs []tick.Job) func(ctx context.Context, event []byte) (any, error) {
	return func(ctx context.Context, _ []byte) (any, error) {
		res, err := tick.Run(ctx, log, jobs)
		if err != nil {
			return nil, lambdafn.WithType(tickFailed, err)
		}
		return res, nil
	}
}
