package lambdatest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/pouchdp/pouch/tests/logtest"
)

// BootstrapPackage is the package Build builds.
const BootstrapPackage = "github.com/pouchdp/pouch/cmd/bootstrap"

// goTool finds the go command: on PATH, else next to the running toolchain.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	for _, p := range []string{filepath.Join(runtime.GOROOT(), "bin", "go"), "/usr/local/go/bin/go"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "go"
}

// Build builds cmd/bootstrap for linux/goarch as Lambda's provided.al2023
// runtime runs it (CGO_ENABLED=0, -trimpath, -ldflags "-s -w", -tags
// lambda.norpc) into dir/bootstrap and returns its path.
func Build(tb testing.TB, dir, goarch string) string {
	tb.Helper()
	out := filepath.Join(dir, "bootstrap")
	cmd := exec.Command(goTool(), "build", "-trimpath", "-ldflags", "-s -w", "-tags", "lambda.norpc",
		"-o", out, BootstrapPackage)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch)
	if b, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("build bootstrap for %s: %v\n%s", goarch, err, b)
	}
	return out
}

// Process is a bootstrap running as one Lambda execution environment.
type Process struct {
	Cmd  *exec.Cmd
	Logs *logtest.Buffer // its stdout and stderr
	// Started is when it was executed.
	Started time.Time

	done chan struct{}
	err  error
}

// Env is the environment Lambda gives a function of the fakes (without the
// runtime API's address): reserved variables and fake credentials.
func Env(function string) []string {
	return []string{
		"AWS_LAMBDA_FUNCTION_NAME=" + function,
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128",
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/" + function,
		"AWS_REGION=" + Region,
		"AWS_DEFAULT_REGION=" + Region,
		"AWS_ACCESS_KEY_ID=AKIAFAKEFAKEFAKEFAKE",
		"AWS_SECRET_ACCESS_KEY=fake-secret",
		"AWS_SESSION_TOKEN=fake-session-token",
		"LAMBDA_TASK_ROOT=/var/task",
		"TZ=:UTC",
		"PATH=/usr/local/bin:/usr/bin:/bin",
	}
}

// Start executes binary as an execution environment of rt's function: its
// environment is Env(rt.Function), AWS_LAMBDA_RUNTIME_API=rt.Addr() and env
// (later entries win). It is killed when tb ends; its output is logged if tb
// failed.
func Start(tb testing.TB, binary string, rt *RuntimeAPIFake, env ...string) *Process {
	tb.Helper()
	p := &Process{Logs: &logtest.Buffer{}, done: make(chan struct{})}
	p.Cmd = exec.Command(binary)
	p.Cmd.Env = append(append(Env(rt.Function), "AWS_LAMBDA_RUNTIME_API="+rt.Addr()), env...)
	p.Cmd.Dir = filepath.Dir(binary)
	p.Cmd.Stdout, p.Cmd.Stderr = p.Logs, p.Logs
	p.Started = time.Now()
	if err := p.Cmd.Start(); err != nil {
		tb.Fatalf("start %s: %v", binary, err)
	}
	go func() {
		p.err = p.Cmd.Wait()
		close(p.done)
	}()
	tb.Cleanup(func() {
		p.Stop()
		if tb.Failed() {
			tb.Logf("%s (%s) output:\n%s", rt.Function, binary, p.Logs.String())
		}
	})
	return p
}

// Stop kills the process (a Lambda environment is frozen, then discarded)
// and waits for it.
func (p *Process) Stop() {
	select {
	case <-p.done:
	default:
		_ = p.Cmd.Process.Kill()
		<-p.done
	}
}

// Wait waits for the process to exit by itself and returns its exit code.
func (p *Process) Wait(ctx context.Context) (int, error) {
	select {
	case <-p.done:
		if p.Cmd.ProcessState == nil {
			return -1, p.err
		}
		return p.Cmd.ProcessState.ExitCode(), nil
	case <-ctx.Done():
		return -1, fmt.Errorf("bootstrap still running: %w", ctx.Err())
	}
}
