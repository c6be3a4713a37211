package swifttest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	ncw "github.com/ncw/swift/v2"

	"github.com/pouchdp/pouch/bank/swift"
	"github.com/pouchdp/pouch/tests/stacktest"
)

// Swift is a running private Swift.
type Swift struct {
	AuthURL, User, Key string
	Dir                string            // start.sh's DIR: logs in Dir/log
	Env                map[string]string // start.sh's DIR/env
}

// stack is the binary's Swift: its start.sh watchdog stops it, and removes
// its directory (unless POUCH_KEEP_SWIFT_DIR is set), when the binary ends.
var stack = &stacktest.Stack{Script: "swift", Require: "POUCH_REQUIRE_SWIFT", Timeout: 5 * time.Minute,
	Prepare: func(dir string) error {
		if os.Getenv("POUCH_KEEP_SWIFT_DIR") != "" {
			return nil
		}
		return os.WriteFile(filepath.Join(dir, ".remove-on-exit"), nil, 0o600)
	}}

// Start returns the test binary's Swift, started at the first call.
func Start(tb testing.TB) *Swift {
	tb.Helper()
	dir, env := stack.Start(tb)
	return &Swift{AuthURL: env["SWIFT_AUTH_URL"], User: env["SWIFT_USER"], Key: env["SWIFT_KEY"], Dir: dir, Env: env}
}

// Config is a bank configuration in a new container of its own.
func (s *Swift) Config() swift.Config {
	return swift.Config{AuthURL: s.AuthURL, User: s.User, Key: s.Key, Container: "t-" + uuid.NewString()[:13]}
}

// Bank opens a bank on cfg (Config with changes), failing tb on error.
func (s *Swift) Bank(tb testing.TB, cfg swift.Config) *swift.Bank {
	tb.Helper()
	b, err := swift.New(tb.Context(), cfg)
	if err != nil {
		tb.Fatalf("swift bank: %v", err)
	}
	return b
}

// RestartProxy restarts the proxy server; sig is a kill(1) signal option
// ("-TERM", "-KILL").
func (s *Swift) RestartProxy(tb testing.TB, sig string) {
	tb.Helper()
	if out, err := exec.Command("bash", s.Env["SWIFT_RESTART_PROXY"], sig).CombinedOutput(); err != nil {
		tb.Fatalf("restart proxy: %v: %s", err, out)
	}
}

// ProviderConf is the text of a provider .conf whose bank is a Swift
// container on s: the [swift_client] and [swift_bank_plugin] sections.
func (s *Swift) ProviderConf(container string, extra string) string {
	return fmt.Sprintf("[swift_client]\nswift_auth_url = %s\nswift_user = %s\nswift_key = %s\n\n[swift_bank_plugin]\nbank_swift_object_container = %s\n%s",
		s.AuthURL, s.User, s.Key, container, extra)
}

// Objects lists the object names of container starting with prefix,
// through a client of its own (not the bank under test).
func (s *Swift) Objects(tb testing.TB, container, prefix string) []string {
	tb.Helper()
	c := &ncw.Connection{AuthUrl: s.AuthURL, UserName: s.User, ApiKey: s.Key}
	names, err := c.ObjectNamesAll(tb.Context(), container, &ncw.ObjectsOpts{Prefix: prefix})
	if err != nil && !errors.Is(err, ncw.ContainerNotFound) {
		tb.Fatalf("list %s/%s: %v", container, prefix, err)
	}
	return names
}
