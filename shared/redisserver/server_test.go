package redisserver_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pouchdp/pouch/shared/redisserver"
)

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), nil))
}

func requireRedisServer(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("redis-server not found: install it (apt-get install redis-server) or run make test")
	}
}

func startServer(t *testing.T, opts redisserver.Options) *redisserver.Server {
	t.Helper()
	requireRedisServer(t)
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	if opts.Log == nil {
		opts.Log = testLogger(t)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := redisserver.Start(ctx, opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func client(t *testing.T, addr string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// processGone reports whether pid no longer runs (absent, or a zombie nobody
// has reaped yet).
func processGone(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// pid (comm) S ...: the state follows the last ')'.
	i := bytes.LastIndexByte(stat, ')')
	return i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z'
}

func waitGone(t *testing.T, pid int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !processGone(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("process %d still running after %s", pid, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestStartSetGetClose(t *testing.T) {
	tests := []struct {
		name       string
		appendOnly bool
	}{
		{name: "appendonly", appendOnly: true},
		{name: "no appendonly", appendOnly: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s := startServer(t, redisserver.Options{Dir: dir, AppendOnly: tt.appendOnly})
			if host, _, _ := net.SplitHostPort(s.Addr); host != "127.0.0.1" {
				t.Errorf("Addr = %q, want host 127.0.0.1", s.Addr)
			}
			if s.PID <= 0 || processGone(s.PID) {
				t.Fatalf("PID %d is not a running process", s.PID)
			}
			ctx := context.Background()
			c := client(t, s.Addr)
			if err := c.Set(ctx, "pouch:key", "value-1", 0).Err(); err != nil {
				t.Fatalf("SET: %v", err)
			}
			if got, err := c.Get(ctx, "pouch:key").Result(); err != nil || got != "value-1" {
				t.Fatalf("GET = %q, %v; want value-1", got, err)
			}
			// The server is bound to 127.0.0.1 with the options we asked for.
			cfg, err := c.ConfigGet(ctx, "*").Result()
			if err != nil {
				t.Fatalf("CONFIG GET: %v", err)
			}
			wantAOF := map[bool]string{true: "yes", false: "no"}[tt.appendOnly]
			for k, want := range map[string]string{"bind": "127.0.0.1", "appendonly": wantAOF, "save": "", "dir": dir, "protected-mode": "yes"} {
				if got := cfg[k]; got != want {
					t.Errorf("CONFIG %s = %q, want %q", k, got, want)
				}
			}

			aofDir := filepath.Join(dir, "appendonlydir")
			if tt.appendOnly {
				waitFileContains(t, aofDir, ".incr.aof", "value-1")
			} else if _, err := os.Stat(aofDir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("appendonly no, but %s exists (err %v)", aofDir, err)
			}
			if _, err := os.Stat(s.LogFile); err != nil {
				t.Errorf("log file: %v", err)
			}

			if err := s.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if !processGone(s.PID) {
				t.Errorf("process %d still running after Close", s.PID)
			}
			if err := s.Close(); err != nil {
				t.Errorf("second Close: %v", err)
			}
			if conn, err := net.DialTimeout("tcp", s.Addr, time.Second); err == nil {
				conn.Close()
				t.Errorf("%s still accepts connections after Close", s.Addr)
			}
		})
	}
}

// waitFileContains polls dir for a file whose name ends with suffix and that
// contains want (redis writes the AOF in its event loop, after replying).
func waitFileContains(t *testing.T, dir, suffix, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		matches, _ := filepath.Glob(filepath.Join(dir, "*"+suffix))
		for _, m := range matches {
			if b, err := os.ReadFile(m); err == nil && bytes.Contains(b, []byte(want)) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no *%s file in %s containing %q (found %v)", suffix, dir, want, matches)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestAppendOnlySurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s := startServer(t, redisserver.Options{Dir: dir, AppendOnly: true})
	if err := client(t, s.Addr).Set(ctx, "durable", "yes", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := startServer(t, redisserver.Options{Dir: dir, AppendOnly: true})
	if got, err := client(t, s2.Addr).Get(ctx, "durable").Result(); err != nil || got != "yes" {
		t.Fatalf("after restart GET = %q, %v; want yes", got, err)
	}
}

func TestTwoServersAtOnce(t *testing.T) {
	var (
		wg      sync.WaitGroup
		servers [2]*redisserver.Server
	)
	for i := range servers {
		wg.Go(func() { servers[i] = startServer(t, redisserver.Options{}) })
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	if servers[0].Addr == servers[1].Addr || servers[0].PID == servers[1].PID {
		t.Fatalf("both servers share %s / pid %d", servers[0].Addr, servers[0].PID)
	}
	ctx := context.Background()
	for i, s := range servers {
		if err := client(t, s.Addr).Set(ctx, "who", strconv.Itoa(i), 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	for i, s := range servers {
		if got, _ := client(t, s.Addr).Get(ctx, "who").Result(); got != strconv.Itoa(i) {
			t.Errorf("server %d has who=%q: the servers are not separate", i, got)
		}
	}
}

func TestFixedPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	s := startServer(t, redisserver.Options{Port: port})
	if want := "127.0.0.1:" + strconv.Itoa(port); s.Addr != want {
		t.Errorf("Addr = %q, want %q", s.Addr, want)
	}
}

func TestStartErrors(t *testing.T) {
	requireRedisServer(t)
	scripts := t.TempDir()
	failing := filepath.Join(scripts, "fake-redis")
	if err := os.WriteFile(failing, []byte("#!/bin/sh\necho 'fatal: fake redis refuses to start' >&2\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := busy.Addr().(*net.TCPAddr).Port

	tests := []struct {
		name     string
		opts     redisserver.Options
		wantIs   error
		contains []string
	}{
		{name: "no dir", opts: redisserver.Options{}, contains: []string{"Dir is required"}},
		{name: "bad port", opts: redisserver.Options{Dir: "d", Port: 70000}, contains: []string{"invalid port 70000"}},
		{
			name:     "missing binary",
			opts:     redisserver.Options{Dir: "d", Binary: "/nonexistent/bin/redis-server"},
			wantIs:   redisserver.ErrBinaryNotFound,
			contains: []string{"/nonexistent/bin/redis-server", "not found"},
		},
		{
			name:     "binary that exits",
			opts:     redisserver.Options{Dir: "d", Binary: failing},
			contains: []string{"exited before answering PING", "exit status 3", "fatal: fake redis refuses to start"},
		},
		{
			name:     "port in use",
			opts:     redisserver.Options{Dir: "d", Port: busyPort},
			contains: []string{"did not start", "Address already in use"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.opts.Dir != "" {
				tt.opts.Dir = t.TempDir()
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			s, err := redisserver.Start(ctx, tt.opts)
			if err == nil {
				_ = s.Close()
				t.Fatal("Start succeeded, want an error")
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %v is not %v", err, tt.wantIs)
			}
			for _, want := range tt.contains {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error does not contain %q:\n%v", want, err)
				}
			}
		})
	}
}

// A server that ignores SIGTERM (here: stopped with SIGSTOP) is killed.
func TestCloseKillsAfterTimeout(t *testing.T) {
	s := startServer(t, redisserver.Options{StopTimeout: 300 * time.Millisecond})
	if err := syscall.Kill(s.PID, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err := s.Close()
	if err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("Close = %v, want an error saying the server was killed", err)
	}
	if d := time.Since(start); d < 300*time.Millisecond || d > 10*time.Second {
		t.Errorf("Close took %s, want about the 300ms stop timeout", d)
	}
	if !processGone(s.PID) {
		t.Errorf("process %d still running", s.PID)
	}
}

// TestHelperProcess is not a test: TestChildDiesWithParent runs it in a child
// process, which starts redis-server, prints its PID and exits without Close.
func TestHelperProcess(t *testing.T) {
	dir := os.Getenv("POUCH_REDISSERVER_HELPER_DIR")
	if dir == "" {
		return
	}
	s, err := redisserver.Start(context.Background(), redisserver.Options{Dir: dir})
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(2)
	}
	fmt.Println("PID", s.PID)
	os.Exit(0)
}

func TestChildDiesWithParent(t *testing.T) {
	requireRedisServer(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), "POUCH_REDISSERVER_HELPER_DIR="+t.TempDir())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	var pid int
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if p, ok := strings.CutPrefix(sc.Text(), "PID "); ok {
			pid, _ = strconv.Atoi(p)
		}
	}
	if pid <= 0 {
		t.Fatalf("helper printed no PID:\n%s", out)
	}
	t.Cleanup(func() {
		if !processGone(pid) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	waitGone(t, pid, 10*time.Second)
}
