package e2e

import (
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/pouchdp/pouch/tests/logtest"
	"github.com/pouchdp/pouch/tests/pouchtest"
)

// server is one running "pouch serve".
type server struct {
	t    *testing.T
	p    *pouchtest.Server
	cmd  *exec.Cmd
	url  string
	logs *logtest.Buffer
}

// start runs pouch serve on a free port with dataDir and extra environment,
// and waits until it answers.
func start(t *testing.T, dataDir string, env ...string) *server {
	t.Helper()
	p := pouchtest.Start(t, []string{"-data-dir", dataDir}, env...)
	s := &server{t: t, p: p, cmd: p.Cmd, url: p.URL, logs: p.Logs}
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
	return s.p.Call(s.t, method, path, project, body, out)
}

// must is call that requires 200.
func (s *server) must(method, path, project string, body, out any) {
	s.t.Helper()
	s.p.Must(s.t, method, path, project, body, out)
}

// waitFor polls get until done says so, or fails after a deadline.
func waitFor(t *testing.T, what string, get func() (string, bool)) string {
	t.Helper()
	return pouchtest.WaitFor(t, what, 3*time.Minute, get)
}
