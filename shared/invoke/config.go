package invoke

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
)

// Kinds of invoker (POUCH_INVOKER).
const (
	KindLocal    = "local"    // in this process (Local); the default
	KindOpenFaaS = "openfaas" // through an OpenFaaS gateway (OpenFaaS)
	KindLambda   = "lambda"   // through AWS Lambda
)

// Invoker is what Config.New returns: the engine's Invoke, plus Wait (until
// the calls handed over so far no longer need this process) and Close.
type Invoker interface {
	Invoke(ctx context.Context, function string, payload []byte) error
	Wait(ctx context.Context) error
	Close()
}

var (
	_ Invoker = (*Local)(nil)
	_ Invoker = (*OpenFaaS)(nil)
	_ Invoker = (*Lambda)(nil)
)

// Config chooses and configures a process's invoker.
type Config struct {
	Kind     string         // KindLocal (default), KindOpenFaaS or KindLambda
	Workers  int            // local: calls running at once (GOMAXPROCS when <= 0)
	OpenFaaS OpenFaaSConfig // openfaas
	Lambda   LambdaConfig   // lambda
}

// Variables are the environment variables ConfigFromEnv reads, with what they set.
var Variables = [][2]string{
	{"POUCH_INVOKER", "how functions call each other: local (in process, default), openfaas or lambda"},
	{"POUCH_WORKERS", "local: calls running at once (GOMAXPROCS)"},
	{"POUCH_GATEWAY", "openfaas: gateway URL, e.g. http://gateway.openfaas:8080"},
	{"POUCH_INVOKE_MODE", "openfaas: async (POST /async-function, the gateway queues; default) or sync (POST /function)"},
	{"POUCH_CALLBACK_URL", "openfaas async: X-Callback-Url where the queue worker posts each result (none)"},
	{"POUCH_GATEWAY_USER", "openfaas: basic auth user for the gateway (none)"},
	{"POUCH_GATEWAY_PASSWORD", "openfaas: its password"},
	{"POUCH_LAMBDA_FUNCTION_PREFIX", "lambda: Lambda function name = prefix + Pouch's (pouch-)"},
	{"POUCH_LAMBDA_FUNCTIONS", "lambda: hook=name|name:alias|arn,... overriding the prefix"},
	{"POUCH_LAMBDA_ENDPOINT", "lambda: Invoke API endpoint (tests, emulators; else AWS_ENDPOINT_URL_LAMBDA)"},
	{"POUCH_LAMBDA_MAX_ATTEMPTS", "lambda: tries of an Invoke (3)"},
	{"POUCH_LAMBDA_TIMEOUT", "lambda: bound of an Invoke with its retries (10s)"},
	{"AWS_REGION", "lambda: region (Lambda sets it; else AWS_DEFAULT_REGION)"},
	{"AWS_ACCESS_KEY_ID", "lambda: credentials, with AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN (Lambda sets them from the role)"},
}

// ConfigFromEnv reads a Config from lookup (os.LookupEnv for the process).
// The gateway is checked by New, so that a caller may fill a default first.
func ConfigFromEnv(lookup func(string) (string, bool)) (Config, error) {
	get := func(k string) string {
		v, _ := lookup(k)
		return strings.TrimSpace(v)
	}
	c := Config{
		Kind: strings.ToLower(get("POUCH_INVOKER")),
		OpenFaaS: OpenFaaSConfig{
			Gateway:     get("POUCH_GATEWAY"),
			Mode:        strings.ToLower(get("POUCH_INVOKE_MODE")),
			CallbackURL: get("POUCH_CALLBACK_URL"),
			User:        get("POUCH_GATEWAY_USER"),
			Password:    get("POUCH_GATEWAY_PASSWORD"),
		},
	}
	if c.Kind == "" {
		c.Kind = KindLocal
	}
	if c.Kind == KindLambda {
		var err error
		if c.Lambda, err = LambdaConfigFromEnv(lookup); err != nil {
			return c, err
		}
	}
	if w := get("POUCH_WORKERS"); w != "" {
		n, err := strconv.Atoi(w)
		if err != nil || n < 0 {
			return c, fmt.Errorf("POUCH_WORKERS: %q is not a count", w)
		}
		c.Workers = n
	}
	return c, c.check()
}

// check validates the choice of kind and mode.
func (c Config) check() error {
	switch c.Kind {
	case "", KindLocal, KindOpenFaaS, KindLambda:
	default:
		return fmt.Errorf("POUCH_INVOKER: %q is not %s, %s or %s", c.Kind, KindLocal, KindOpenFaaS, KindLambda)
	}
	switch c.OpenFaaS.Mode {
	case "", ModeAsync, ModeSync:
	default:
		return fmt.Errorf("POUCH_INVOKE_MODE: %q is not %s or %s", c.OpenFaaS.Mode, ModeAsync, ModeSync)
	}
	return nil
}

// New builds the invoker c chooses. A *Local comes back empty: the caller
// registers the functions it runs in process (the hook) on it.
func (c Config) New(log *slog.Logger) (Invoker, error) {
	if err := c.check(); err != nil {
		return nil, fmt.Errorf("invoke: %w", err)
	}
	switch c.Kind {
	case KindOpenFaaS:
		return NewOpenFaaS(c.OpenFaaS, log)
	case KindLambda:
		return NewLambda(c.Lambda)
	default:
		return NewLocal(c.Workers, log), nil
	}
}
