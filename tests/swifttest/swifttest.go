package swifttest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	ncw "github.com/ncw/swift/v2"

	"github.com/pouchdp/pouch/bank/swift"
	"github.com/pouchdp/pouch/tests/envfile"
)

// Swift is a running private Swift.
type Swift struct {
	AuthURL, User, Key string
	Dir                string            // start.sh's DIR: logs in Dir/log
	Env                map[string]string // start.sh's DIR/env
}

var (
	once    sync.Once
	running *Swift
	err     error
)

// errMissing: start.sh found the swift packages missing (exit status 3).
var errMissing = errors.New("Swift's packages are missing (run tests/setup.sh)")

// Start returns the test binary's Swift, started at the first call.
func Start(tb testing.TB) *Swift {
	tb.Helper()
	once.Do(func() { running, err = start() })
	switch {
	case errors.Is(err, errMissing) && os.Getenv("POUCH_REQUIRE_SWIFT") == "":
		tb.Skipf("%v (POUCH_REQUIRE_SWIFT=1 makes this a failure)", err)
	case err != nil:
		tb.Fatalf("swift: %v", err)
	}
	return running
}

func scriptDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "swift")
}

func start() (*Swift, error) {
	dir, err := os.MkdirTemp("", "pouch-swift-")
	if err != nil {
		return nil, err
	}
	if os.Getenv("POUCH_KEEP_SWIFT_DIR") == "" {
		if err := os.WriteFile(filepath.Join(dir, ".remove-on-exit"), nil, 0o600); err != nil {
			return nil, err
		}
	}
	cmd := exec.Command("bash", filepath.Join(scriptDir(), "start.sh"), dir, fmt.Sprint(os.Getpid()))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() == 3 {
			return nil, fmt.Errorf("%w: %s", errMissing, strings.TrimSpace(out.String()))
		}
		return nil, fmt.Errorf("start.sh: %v\n%s", err, out.String())
	}
	env, err := envfile.Read(filepath.Join(dir, "env"))
	if err != nil {
		return nil, err
	}
	return &Swift{AuthURL: env["SWIFT_AUTH_URL"], User: env["SWIFT_USER"], Key: env["SWIFT_KEY"], Dir: dir, Env: env}, nil
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
