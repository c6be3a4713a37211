package invoke_test

import (
	"strings"
	"testing"

	"github.com/pouchdp/pouch/shared/invoke"
)

func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string
		wantErr  string // from ConfigFromEnv
		wantNew  string // from New
		wantKind string // type New returns: local, openfaas or lambda
		check    func(t *testing.T, c invoke.Config)
	}{
		{name: "default is local", env: map[string]string{}, wantKind: "local",
			check: func(t *testing.T, c invoke.Config) {
				if c.Kind != invoke.KindLocal || c.Workers != 0 {
					t.Errorf("config %+v", c)
				}
			}},
		{name: "local with workers", env: map[string]string{"POUCH_INVOKER": "local", "POUCH_WORKERS": "3"}, wantKind: "local",
			check: func(t *testing.T, c invoke.Config) {
				if c.Workers != 3 {
					t.Errorf("workers %d", c.Workers)
				}
			}},
		{name: "openfaas", env: map[string]string{"POUCH_INVOKER": " OpenFaaS ", "POUCH_GATEWAY": "http://gateway.openfaas:8080",
			"POUCH_INVOKE_MODE": "sync", "POUCH_CALLBACK_URL": "http://cb:9000/x", "POUCH_GATEWAY_USER": "admin", "POUCH_GATEWAY_PASSWORD": "pw"},
			wantKind: "openfaas",
			check: func(t *testing.T, c invoke.Config) {
				o := c.OpenFaaS
				if c.Kind != invoke.KindOpenFaaS || o.Gateway != "http://gateway.openfaas:8080" || o.Mode != "sync" ||
					o.CallbackURL != "http://cb:9000/x" || o.User != "admin" || o.Password != "pw" {
					t.Errorf("config %+v", c)
				}
			}},
		{name: "openfaas without gateway", env: map[string]string{"POUCH_INVOKER": "openfaas"}, wantNew: "POUCH_GATEWAY"},
		{name: "lambda", env: map[string]string{"POUCH_INVOKER": "lambda", "AWS_REGION": "eu-west-1",
			"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret", "POUCH_LAMBDA_FUNCTION_PREFIX": "prod-"},
			wantKind: "lambda",
			check: func(t *testing.T, c invoke.Config) {
				if c.Kind != invoke.KindLambda || c.Lambda.Region != "eu-west-1" || c.Lambda.Prefix != "prod-" {
					t.Errorf("config %+v", c)
				}
			}},
		{name: "lambda without region", env: map[string]string{"POUCH_INVOKER": "lambda", "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"}, wantNew: "AWS_REGION"},
		{name: "lambda bad attempts", env: map[string]string{"POUCH_INVOKER": "lambda", "POUCH_LAMBDA_MAX_ATTEMPTS": "0"}, wantErr: "POUCH_LAMBDA_MAX_ATTEMPTS"},
		{name: "unknown invoker", env: map[string]string{"POUCH_INVOKER": "carrier-pigeon"}, wantErr: "POUCH_INVOKER"},
		{name: "bad mode", env: map[string]string{"POUCH_INVOKER": "openfaas", "POUCH_INVOKE_MODE": "eventually"}, wantErr: "POUCH_INVOKE_MODE"},
		{name: "bad workers", env: map[string]string{"POUCH_WORKERS": "many"}, wantErr: "POUCH_WORKERS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := invoke.ConfigFromEnv(func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ConfigFromEnv = %v, want an error with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.check != nil {
				tt.check(t, c)
			}
			inv, err := c.New(nil)
			if tt.wantNew != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantNew) {
					t.Fatalf("New = %v, want an error with %q", err, tt.wantNew)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer inv.Close()
			switch inv.(type) {
			case *invoke.Local:
				if tt.wantKind != "local" {
					t.Errorf("New gave a Local, want %s", tt.wantKind)
				}
			case *invoke.OpenFaaS:
				if tt.wantKind != "openfaas" {
					t.Errorf("New gave an OpenFaaS invoker, want %s", tt.wantKind)
				}
			case *invoke.Lambda:
				if tt.wantKind != "lambda" {
					t.Errorf("New gave a Lambda invoker, want %s", tt.wantKind)
				}
				if got := inv.(*invoke.Lambda).FunctionName("hook"); got != "prod-hook" {
					t.Errorf("hook is Lambda function %q, want prod-hook", got)
				}
			default:
				t.Errorf("New gave %T", inv)
			}
		})
	}
}
