package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pouchdp/pouch/tests/logtest"
	"github.com/pouchdp/pouch/tests/pouchtest"
)

// server is one running "pouch serve".
type server struct {
	t    *testing.T
	cmd  *exec.Cmd
	url  string
	logs *logtest.Buffer
}

// start runs pouch serve on a free port with dataDir and extra environment,
// and waits until it answers.
func start(t *testing.T, dataDir string, env ...string) *server {
	t.Helper()
	p := pouchtest.Start(t, []string{"-data-dir", dataDir}, env...)
	s := &server{t: t, cmd: p.Cmd, url: p.URL, logs: p.Logs}
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			s.cmd.Process.Kill()
			s.cmd.Wait()
		}
		if t.Failed() {
			t.Logf("pouch serve log:\n%s", s.logs.String())
		}
	})
	return s
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
