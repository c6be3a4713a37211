package pouchtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pouchdp/pouch/tests/logtest"
)

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

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

// Binary builds cmd/pouch once per test binary and returns its path.
// Cleanup removes it (call from TestMain after m.Run).
func Binary(tb testing.TB) string {
	tb.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "pouch-test-bin")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "pouch")
		out, err := exec.Command(goTool(), "build", "-o", binary, "github.com/pouchdp/pouch/cmd/pouch").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	return binary
}

// Cleanup removes the binary Binary built, if any.
func Cleanup() {
	if binary != "" {
		os.RemoveAll(filepath.Dir(binary))
	}
}

// FreePort is a TCP port free on 127.0.0.1 now.
func FreePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Server is one running "pouch serve".
type Server struct {
	Cmd  *exec.Cmd
	URL  string // http://127.0.0.1:<port>
	Logs *logtest.Buffer
}

// Start runs "pouch serve -listen 127.0.0.1:<free port> args..." with the
// process environment plus env, and waits up to 30 s until /healthz
// answers. The caller stops it (Cmd.Process).
func Start(tb testing.TB, args []string, env ...string) *Server {
	tb.Helper()
	port := FreePort(tb)
	s := &Server{URL: fmt.Sprintf("http://127.0.0.1:%d", port), Logs: &logtest.Buffer{}}
	s.Cmd = exec.Command(Binary(tb), append([]string{"serve", "-listen", fmt.Sprintf("127.0.0.1:%d", port)}, args...)...)
	s.Cmd.Env = append(os.Environ(), env...)
	s.Cmd.Stdout, s.Cmd.Stderr = s.Logs, s.Logs
	if err := s.Cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(s.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		if time.Now().After(deadline) {
			s.Cmd.Process.Kill()
			s.Cmd.Wait()
			tb.Fatalf("pouch serve did not answer within 30s:\n%s", s.Logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Call sends a JSON request to the Karbor API as project's user (noauth
// token "pouchtest:<project>") and decodes a JSON answer into out (if not
// nil). It returns the status code.
func (s *Server) Call(tb testing.TB, method, path, project string, body, out any) int {
	tb.Helper()
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			tb.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, s.URL+path, rd)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("X-Auth-Token", "pouchtest:"+project)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); len(data) > 0 && !strings.HasPrefix(ct, "application/json") {
		tb.Errorf("%s %s: Content-Type %q", method, path, ct)
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			tb.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
	return resp.StatusCode
}

// Must is Call that requires 200.
func (s *Server) Must(tb testing.TB, method, path, project string, body, out any) {
	tb.Helper()
	var raw json.RawMessage
	if code := s.Call(tb, method, path, project, body, &raw); code != http.StatusOK {
		tb.Fatalf("%s %s: %d %s", method, path, code, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			tb.Fatal(err)
		}
	}
}

// WaitFor polls get until it says done, or fails tb after limit.
func WaitFor(tb testing.TB, what string, limit time.Duration, get func() (string, bool)) string {
	tb.Helper()
	deadline := time.Now().Add(limit)
	for {
		state, done := get()
		if done {
			return state
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%s: still %q after %s", what, state, limit)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Stop ends the server with SIGTERM (SIGKILL after 30 s) and, if tb failed,
// logs the end of its output. Tests call it from t.Cleanup; tb may be nil
// (a server shared by a whole test binary, stopped in TestMain).
func (s *Server) Stop(tb testing.TB) {
	s.Cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { s.Cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		s.Cmd.Process.Kill()
		<-done
	}
	if tb != nil && tb.Failed() {
		lines := strings.Split(strings.TrimRight(s.Logs.String(), "\n"), "\n")
		if len(lines) > 80 {
			lines = append([]string{"..."}, lines[len(lines)-80:]...)
		}
		tb.Logf("pouch serve log (end):\n%s", strings.Join(lines, "\n"))
	}
}
