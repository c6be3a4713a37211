package invoke

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// LambdaConfig configures the Lambda invoker. LambdaConfigFromEnv reads it
// from the environment variables named in brackets.
type LambdaConfig struct {
	// Region is the AWS region of the functions [AWS_REGION, else
	// AWS_DEFAULT_REGION]. Required.
	Region string
	// Prefix is put before a Pouch function's name to make the Lambda
	// function's name: "pouch-" maps hook to pouch-hook
	// [POUCH_LAMBDA_FUNCTION_PREFIX; LambdaConfigFromEnv defaults it to
	// DefaultLambdaPrefix unless the variable is set, even empty].
	Prefix string
	// Functions maps a Pouch function to a Lambda function name, name:alias
	// or ARN, over Prefix [POUCH_LAMBDA_FUNCTIONS, e.g.
	// "hook=arn:aws:lambda:eu-west-1:123456789012:function:pouch-hook:live"].
	Functions map[string]string
	// Endpoint overrides the Lambda API's URL, for tests and emulators
	// [POUCH_LAMBDA_ENDPOINT, else AWS_ENDPOINT_URL_LAMBDA].
	Endpoint string
	// AccessKeyID, SecretAccessKey and SessionToken sign the calls
	// [AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN: Lambda
	// sets them from the function's execution role]. The first two are
	// required.
	AccessKeyID, SecretAccessKey, SessionToken string
	// MaxAttempts bounds the attempts of one Invoke: throttling, 5xx and
	// network errors are retried with jittered backoff
	// [POUCH_LAMBDA_MAX_ATTEMPTS, default 3].
	MaxAttempts int
	// MaxBackoff caps the wait between two attempts (default 1s).
	MaxBackoff time.Duration
	// Timeout bounds one Invoke, retries included
	// [POUCH_LAMBDA_TIMEOUT, default 10s].
	Timeout time.Duration
}

// Defaults of LambdaConfig.
const (
	DefaultLambdaPrefix      = "pouch-"
	DefaultLambdaMaxAttempts = 3
	DefaultLambdaMaxBackoff  = time.Second
	DefaultLambdaTimeout     = 10 * time.Second
)

// LambdaConfigFromEnv reads a LambdaConfig from lookup (os.LookupEnv for the
// process). It does not check that the required values are there: NewLambda
// does.
func LambdaConfigFromEnv(lookup func(string) (string, bool)) (LambdaConfig, error) {
	get := func(keys ...string) string {
		for _, k := range keys {
			if v, ok := lookup(k); ok && strings.TrimSpace(v) != "" {
				return strings.TrimSpace(v)
			}
		}
		return ""
	}
	cfg := LambdaConfig{
		Region:          get("AWS_REGION", "AWS_DEFAULT_REGION"),
		Prefix:          DefaultLambdaPrefix,
		Endpoint:        get("POUCH_LAMBDA_ENDPOINT", "AWS_ENDPOINT_URL_LAMBDA"),
		AccessKeyID:     get("AWS_ACCESS_KEY_ID"),
		SecretAccessKey: get("AWS_SECRET_ACCESS_KEY"),
		SessionToken:    get("AWS_SESSION_TOKEN"),
	}
	if v, ok := lookup("POUCH_LAMBDA_FUNCTION_PREFIX"); ok {
		cfg.Prefix = strings.TrimSpace(v) // set but empty: no prefix
	}
	if v := get("POUCH_LAMBDA_FUNCTIONS"); v != "" {
		m, err := parseFunctionMap(v)
		if err != nil {
			return cfg, fmt.Errorf("POUCH_LAMBDA_FUNCTIONS: %w", err)
		}
		cfg.Functions = m
	}
	if v := get("POUCH_LAMBDA_MAX_ATTEMPTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return cfg, fmt.Errorf("POUCH_LAMBDA_MAX_ATTEMPTS: %q is not a positive number", v)
		}
		cfg.MaxAttempts = n
	}
	if v := get("POUCH_LAMBDA_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return cfg, fmt.Errorf("POUCH_LAMBDA_TIMEOUT: %q is not a positive duration", v)
		}
		cfg.Timeout = d
	}
	return cfg, nil
}

// parseFunctionMap parses "name=target,name=target".
func parseFunctionMap(s string) (map[string]string, error) {
	m := map[string]string{}
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, target, ok := strings.Cut(item, "=")
		name, target = strings.TrimSpace(name), strings.TrimSpace(target)
		if !ok || name == "" || target == "" {
			return nil, fmt.Errorf("%q is not name=lambda-function", item)
		}
		if _, dup := m[name]; dup {
			return nil, fmt.Errorf("function %q mapped twice", name)
		}
		m[name] = target
	}
	return m, nil
}

// Lambda invokes Pouch's functions deployed on AWS Lambda, asynchronously
// (InvocationType Event): Invoke returns once Lambda has queued the event
// (202), and the function records its own outcome. Lambda retries a failed
// asynchronous invocation itself (twice by default). It satisfies the
// engine's Invoker interface and is safe for concurrent use.
//
// A Lambda event must be JSON (and at most 1 MB). A payload that is JSON,
// such as the engine's tasks, is the event as it is; any other payload
// (empty, binary) travels base64-encoded in an envelope,
// {"pouchPayload":"..."}, that LambdaPayload opens on the function's side.
type Lambda struct {
	client *lambda.Client
	cfg    LambdaConfig
}

// NewLambda returns a Lambda invoker. It makes no call: a wrong name or
// credentials show at the first Invoke.
func NewLambda(cfg LambdaConfig) (*Lambda, error) {
	if cfg.Region == "" {
		return nil, errors.New("lambda invoker: no region (set AWS_REGION)")
	}
	if cfg.AccessKeyID == "" || cfg.SecretAccessKey == "" {
		return nil, errors.New("lambda invoker: no credentials (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; Lambda sets them from the execution role)")
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultLambdaMaxAttempts
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultLambdaMaxBackoff
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultLambdaTimeout
	}
	creds := aws.Credentials{AccessKeyID: cfg.AccessKeyID, SecretAccessKey: cfg.SecretAccessKey,
		SessionToken: cfg.SessionToken, Source: "pouch environment"}
	opts := lambda.Options{
		Region: cfg.Region,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return creds, nil
		}),
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = cfg.MaxAttempts
			o.MaxBackoff = cfg.MaxBackoff
		}),
	}
	if cfg.Endpoint != "" {
		opts.BaseEndpoint = aws.String(cfg.Endpoint)
	}
	cfg.Functions = maps.Clone(cfg.Functions)
	return &Lambda{client: lambda.New(opts), cfg: cfg}, nil
}

// FunctionName is the Lambda function (name, name:alias or ARN) that
// function is deployed as.
func (l *Lambda) FunctionName(function string) string {
	if t, ok := l.cfg.Functions[function]; ok {
		return t
	}
	return l.cfg.Prefix + function
}

// Invoke sends payload to function as an asynchronous Lambda invocation and
// returns once Lambda has accepted it. A function that does not exist fails
// with ErrUnknownFunction.
func (l *Lambda) Invoke(ctx context.Context, function string, payload []byte) error {
	if function == "" {
		return fmt.Errorf("invoke: %w: empty function name", ErrUnknownFunction)
	}
	name := l.FunctionName(function)
	ctx, cancel := context.WithTimeout(ctx, l.cfg.Timeout)
	defer cancel()
	out, err := l.client.Invoke(ctx, &lambda.InvokeInput{
		FunctionName:   aws.String(name),
		InvocationType: types.InvocationTypeEvent,
		Payload:        LambdaEvent(payload),
	})
	var notFound *types.ResourceNotFoundException
	switch {
	case errors.As(err, &notFound):
		return fmt.Errorf("invoke %q (lambda %s): %w: %w", function, name, ErrUnknownFunction, err)
	case err != nil:
		return fmt.Errorf("invoke %q (lambda %s): %w", function, name, err)
	case out.StatusCode != 202:
		return fmt.Errorf("invoke %q (lambda %s): status %d, want 202", function, name, out.StatusCode)
	}
	return nil
}

// Wait returns at once: a call Invoke handed over is Lambda's business.
func (l *Lambda) Wait(ctx context.Context) error { return ctx.Err() }

// Close releases nothing: the client holds only idle connections.
func (l *Lambda) Close() {}

// Envelope of a payload that is not JSON: {"pouchPayload":"<base64>"}.
const (
	envelopeStart = `{"pouchPayload":"`
	envelopeEnd   = `"}`
)

// LambdaEvent is the Lambda event that carries payload: payload itself if it
// is JSON (and does not look like an envelope), else payload in a base64
// envelope.
func LambdaEvent(payload []byte) []byte {
	if len(payload) > 0 && json.Valid(payload) && utf8.Valid(payload) && !bytes.HasPrefix(payload, []byte(envelopeStart)) {
		return payload
	}
	b := make([]byte, 0, len(envelopeStart)+base64.StdEncoding.EncodedLen(len(payload))+len(envelopeEnd))
	b = append(b, envelopeStart...)
	b = base64.StdEncoding.AppendEncode(b, payload)
	return append(b, envelopeEnd...)
}

// LambdaPayload is the payload a Lambda event made by LambdaEvent carries:
// the envelope's content, or the event itself.
func LambdaPayload(event []byte) []byte {
	inner, ok := bytes.CutPrefix(event, []byte(envelopeStart))
	if !ok {
		return event
	}
	inner, ok = bytes.CutSuffix(inner, []byte(envelopeEnd))
	if !ok {
		return event
	}
	payload, err := base64.StdEncoding.AppendDecode(make([]byte, 0, base64.StdEncoding.DecodedLen(len(inner))), inner)
	if err != nil {
		return event
	}
	return payload
}
