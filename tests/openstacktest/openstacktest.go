package openstacktest

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/pouchdp/pouch/plugins/openstack"
	"github.com/pouchdp/pouch/shared/protection"
	"github.com/pouchdp/pouch/tests/stacktest"
)

var stack = &stacktest.Stack{Script: "openstack", Require: "POUCH_REQUIRE_OPENSTACK", Reuse: "POUCH_OPENSTACK_ENV",
	Timeout: 10 * time.Minute}

// Stack is the running OpenStack.
type Stack struct {
	Dir string
	Env map[string]string // start.sh's DIR/env
}

// Start returns the binary's OpenStack, started at the first call.
func Start(tb testing.TB) *Stack {
	tb.Helper()
	dir, env := stack.Start(tb)
	return &Stack{Dir: dir, Env: env}
}

// Stop stops the stack this binary started (TestMain, after m.Run).
func Stop() error { return stack.Stop(os.Getenv("POUCH_KEEP_OPENSTACK_DIR") != "") }

// Lookup reads the stack's env as the OS_* variables of its admin.
func (s *Stack) Lookup(k string) (string, bool) {
	v, ok := s.Env[k]
	return v, ok
}

// DemoLookup reads the OS_* variables of the stack's demo user (role
// member of project demo).
func (s *Stack) DemoLookup(k string) (string, bool) {
	switch k {
	case "OS_USERNAME":
		return s.Env["DEMO_USER"], true
	case "OS_PASSWORD":
		return s.Env["DEMO_PASSWORD"], true
	case "OS_PROJECT_NAME":
		return s.Env["DEMO_PROJECT"], true
	}
	return s.Lookup(k)
}

// Cloud is the plugins' Cloud acting with the operator credentials of
// lookup (Lookup or DemoLookup).
func (s *Stack) Cloud(lookup func(string) (string, bool)) *openstack.Cloud {
	return openstack.NewCloud(openstack.Config{AuthURL: s.Env["OS_AUTH_URL"], Region: s.Env["OS_REGION_NAME"],
		Interface: "public", Env: lookup})
}

// Admin connects as the stack's admin.
func (s *Stack) Admin(tb testing.TB) *openstack.Clients { return s.connect(tb, s.Lookup) }

// Demo connects as the demo user.
func (s *Stack) Demo(tb testing.TB) *openstack.Clients { return s.connect(tb, s.DemoLookup) }

func (s *Stack) connect(tb testing.TB, lookup func(string) (string, bool)) *openstack.Clients {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cl, err := s.Cloud(lookup).Connect(ctx, protection.Credentials{})
	if err != nil {
		tb.Fatalf("connect to the test OpenStack: %v", err)
	}
	return cl
}

// ProviderEnv are the variables a provider file's ${...} and the plugins'
// operator credentials read, for the demo user: pass them to app.EnvWith
// or to "pouch serve"'s environment.
func (s *Stack) ProviderEnv() map[string]string {
	out := map[string]string{}
	for _, k := range []string{"OS_AUTH_URL", "OS_REGION_NAME", "OS_INTERFACE", "OS_IDENTITY_API_VERSION",
		"OS_USER_DOMAIN_NAME", "OS_PROJECT_DOMAIN_NAME", "OS_USERNAME", "OS_PASSWORD", "OS_PROJECT_NAME"} {
		out[k], _ = s.DemoLookup(k)
	}
	return out
}

// Name is a unique name for a test's cloud resource.
func Name(tb testing.TB, what string) string {
	return fmt.Sprintf("pouch-%s-%d", what, time.Now().UnixNano()%1e9)
}
