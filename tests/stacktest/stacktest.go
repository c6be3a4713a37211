package stacktest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pouchdp/pouch/tests/envfile"
)

// ErrMissing: the script found its packages missing (exit status 3).
var ErrMissing = errors.New("packages are missing (run tests/setup.sh)")

// Stack is one script's servers, started at the first Start.
type Stack struct {
	// Script is the directory of start.sh and stop.sh, relative to tests/.
	Script string
	// Require names the variable that turns a skip for missing packages
	// into a failure (CI sets it).
	Require string
	// Reuse names a variable that may hold the env file of a stack already
	// running (for development): it is used, never stopped.
	Reuse string
	// Timeout bounds start.sh (0: 10 minutes).
	Timeout time.Duration
	// Prepare, if set, runs on the new directory before start.sh.
	Prepare func(dir string) error

	once    sync.Once
	dir     string
	env     map[string]string
	err     error
	started bool
}

// Start returns the stack's directory and env, starting it at the first
// call. Without its packages it skips tb, or fails it when s.Require is set.
func (s *Stack) Start(tb testing.TB) (dir string, env map[string]string) {
	tb.Helper()
	s.once.Do(s.start)
	switch {
	case errors.Is(s.err, ErrMissing) && os.Getenv(s.Require) == "":
		tb.Skipf("%s: %v (%s=1 makes this a failure)", s.Script, s.err, s.Require)
	case s.err != nil:
		tb.Fatalf("%s: %v", s.Script, s.err)
	}
	return s.dir, s.env
}

func testsDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..")
}

func (s *Stack) script(name string) string { return filepath.Join(testsDir(), s.Script, name) }

func (s *Stack) start() {
	if f := os.Getenv(s.Reuse); s.Reuse != "" && f != "" {
		s.dir = filepath.Dir(f)
		s.env, s.err = envfile.Read(f)
		return
	}
	dir, err := os.MkdirTemp("", "pouch-"+filepath.Base(s.Script)+"-")
	if err != nil {
		s.err = err
		return
	}
	s.dir, s.started = dir, true
	if s.Prepare != nil {
		if s.err = s.Prepare(dir); s.err != nil {
			return
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), cmpOr(s.Timeout, 10*time.Minute))
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", s.script("start.sh"), dir, strconv.Itoa(os.Getpid()))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 10 * time.Second
	began := time.Now()
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() == 3 {
			s.err = fmt.Errorf("%w: %s", ErrMissing, strings.TrimSpace(out.String()))
			return
		}
		s.err = fmt.Errorf("start.sh: %v\n%s", err, out.String())
		return
	}
	s.env, s.err = envfile.Read(filepath.Join(dir, "env"))
	// CI's log keeps how long each stack took to come up.
	fmt.Fprintf(os.Stderr, "%s/start.sh: ready in %.1f s under %s\n", s.Script, time.Since(began).Seconds(), dir)
}

func cmpOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// Stop stops a stack this binary started and removes its directory, unless
// keep is set (then it says where the logs are). For TestMain, after m.Run.
func (s *Stack) Stop(keep bool) error {
	if !s.started {
		return nil
	}
	out, err := exec.Command("bash", s.script("stop.sh"), s.dir).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s/stop.sh: %v: %s", s.Script, err, out)
	}
	if keep {
		fmt.Fprintf(os.Stderr, "%s: logs kept in %s\n", s.Script, s.dir)
		return nil
	}
	return os.RemoveAll(s.dir)
}
