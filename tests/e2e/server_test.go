package e2e

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

// pouchBinary builds cmd/pouch once per test run.
func pouchBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "pouch-e2e-bin")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "pouch")
		out, err := exec.Command("go", "build", "-o", binary, "github.com/pouchdp/pouch/cmd/pouch").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binary
}

// server is one running "pouch serve".
type server struct {
	t    *testing.T
	cmd  *exec.Cmd
	url  string
	logs *logtest.Buffer
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// start runs pouch serve on a free port with dataDir and extra environment,
// and waits until it answers.
func start(t *testing.T, dataDir string, env ...string) *server {
	t.Helper()
	port := freePort(t)
	cmd := exec.Command(pouchBinary(t), "serve", "-listen", fmt.Sprintf("127.0.0.1:%d", port), "-data-dir", dataDir)
	cmd.Env = append(os.Environ(), env...)
	s := &server{t: t, cmd: cmd, url: fmt.Sprintf("http://127.0.0.1:%d", port), logs: &logtest.Buffer{}}
	cmd.Stdout, cmd.Stderr = s.logs, s.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			s.cmd.Process.Kill()
			s.cmd.Wait()
		}
		if t.Failed() {
			t.Logf("pouch serve log:\n%s", s.logs.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(s.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("pouch serve did not answer within 30s:\n%s", s.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop sends SIGTERM and expects a clean exit.
func (s *server) stop() {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		s.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			s.t.Fatalf("pouch serve exited with %v:\n%s", err, s.logs.String())
		}
	case <-time.After(45 * time.Second):
		s.cmd.Process.Kill()
		s.t.Fatalf("pouch serve did not stop on SIGTERM:\n%s", s.logs.String())
	}
}

// call sends a JSON request as project's user and decodes a JSON answer into
// out (if not nil). It returns the status code.
func (s *server) call(method, path, project string, body, out any) int {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			s.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, s.url+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("X-Auth-Token", "e2e:"+project)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); len(data) > 0 && !strings.HasPrefix(ct, "application/json") {
		s.t.Errorf("%s %s: Content-Type %q", method, path, ct)
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			s.t.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
	return resp.StatusCode
}

// must is call that requires 200.
func (s *server) must(method, path, project string, body, out any) {
	s.t.Helper()
	var raw json.RawMessage
	if code := s.call(method, path, project, body, &raw); code != http.StatusOK {
		s.t.Fatalf("%s %s: %d %s", method, path, code, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			s.t.Fatal(err)
		}
	}
}

// waitFor polls get until done says so, or fails after a deadline.
func waitFor(t *testing.T, what string, get func() (string, bool)) string {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		state, done := get()
		if done {
			return state
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still %q after 3 minutes", what, state)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
