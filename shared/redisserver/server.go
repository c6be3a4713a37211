package redisserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultBinary is the redis-server looked up on PATH when Options.Binary is empty.
const DefaultBinary = "redis-server"

// LogFileName is the file in Options.Dir that receives redis-server's output.
const LogFileName = "redis-server.log"

const (
	defaultStartTimeout = 10 * time.Second
	defaultStopTimeout  = 10 * time.Second
	freePortAttempts    = 3
)

// ErrBinaryNotFound is wrapped by Start when the redis-server binary cannot be found.
var ErrBinaryNotFound = errors.New("redis-server binary not found")

// Options configures Start.
type Options struct {
	// Dir is the data directory (required); it is created if missing.
	Dir string
	// Port to listen on, on 127.0.0.1. 0 picks a free port.
	Port int
	// AppendOnly turns on the append-only file (appendonly yes).
	AppendOnly bool
	// Log receives progress messages; nil discards.
	Log *slog.Logger
	// Binary is the redis-server to run: a path, or a name looked up on PATH.
	// Empty means DefaultBinary.
	Binary string
	// StartTimeout bounds the wait for the first PONG (default 10s).
	StartTimeout time.Duration
	// StopTimeout is how long Close waits after SIGTERM before SIGKILL (default 10s).
	StopTimeout time.Duration
}

// Server is a running redis-server child process.
type Server struct {
	Addr    string // 127.0.0.1:port
	PID     int
	Dir     string // absolute data directory
	LogFile string // redis-server's stdout and stderr

	log         *slog.Logger
	cmd         *exec.Cmd
	stopTimeout time.Duration
	exited      chan struct{} // closed once the process has been reaped
	waitErr     error         // valid after exited is closed

	closeOnce sync.Once
	closeErr  error
}

// Start runs redis-server with its data in opts.Dir, bound to 127.0.0.1, and
// returns once it answers PING. ctx bounds the start only, not the server's
// life: stop it with Close. If it does not start, the error carries the tail
// of its log.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.Dir == "" {
		return nil, errors.New("redisserver: Options.Dir is required")
	}
	if opts.Port < 0 || opts.Port > 65535 {
		return nil, fmt.Errorf("redisserver: invalid port %d", opts.Port)
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	bin, err := lookBinary(opts.Binary)
	if err != nil {
		return nil, fmt.Errorf("redisserver: %w", err)
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("redisserver: data dir %q: %w", opts.Dir, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("redisserver: create data dir: %w", err)
	}
	startTimeout := orDefault(opts.StartTimeout, defaultStartTimeout)
	stopTimeout := orDefault(opts.StopTimeout, defaultStopTimeout)

	attempts := 1
	if opts.Port == 0 {
		// The picked port may be taken by someone else before redis binds it.
		attempts = freePortAttempts
	}
	for attempt := 1; ; attempt++ {
		port := opts.Port
		if port == 0 {
			if port, err = freePort(); err != nil {
				return nil, fmt.Errorf("redisserver: %w", err)
			}
		}
		s, err := start(ctx, bin, dir, port, opts.AppendOnly, startTimeout, stopTimeout, log)
		if err == nil {
			return s, nil
		}
		if attempt >= attempts || !errors.Is(err, errAddrInUse) {
			return nil, err
		}
		log.Debug("redis-server could not bind the picked port, trying another", "port", port)
	}
}

var errAddrInUse = errors.New("address already in use")

func start(ctx context.Context, bin, dir string, port int, appendOnly bool,
	startTimeout, stopTimeout time.Duration, log *slog.Logger) (*Server, error) {
	logPath := filepath.Join(dir, LogFileName)
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("redisserver: open log file: %w", err)
	}
	logStart, _ := logFile.Seek(0, io.SeekEnd) // show only this run's lines on failure

	aof := "no"
	if appendOnly {
		aof = "yes"
	}
	cmd := exec.Command(bin,
		"--bind", "127.0.0.1",
		"--port", strconv.Itoa(port),
		"--dir", dir,
		"--appendonly", aof,
		"--save", "",
		"--daemonize", "no",
		"--protected-mode", "yes",
	)
	cmd.Dir = dir
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = sysProcAttr()

	s := &Server{
		Addr:        net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		Dir:         dir,
		LogFile:     logPath,
		log:         log.With("redis_addr", net.JoinHostPort("127.0.0.1", strconv.Itoa(port))),
		cmd:         cmd,
		stopTimeout: stopTimeout,
		exited:      make(chan struct{}),
	}

	// Start and reap the child on one goroutine locked to its OS thread:
	// Pdeathsig fires when the thread that forked the child exits, so that
	// thread must live as long as the child.
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		defer close(s.exited)
		defer logFile.Close()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		s.waitErr = cmd.Wait()
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("redisserver: run %s: %w", bin, err)
	}
	s.PID = cmd.Process.Pid
	s.log = s.log.With("redis_pid", s.PID)

	if err := s.waitReady(ctx, startTimeout); err != nil {
		_ = s.Close()
		tail := tailFrom(logPath, logStart)
		if strings.Contains(tail, "Address already in use") {
			err = fmt.Errorf("%w (%w)", err, errAddrInUse)
		}
		return nil, fmt.Errorf("redisserver: %s on %s did not start: %w\n--- %s (tail) ---\n%s", bin, s.Addr, err, logPath, tail)
	}
	s.log.Info("redis-server started", "dir", dir, "appendonly", aof, "log_file", logPath)
	return s, nil
}

// waitReady polls PING until it answers, the process exits or time runs out.
func (s *Server) waitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := redis.NewClient(&redis.Options{
		Addr:            s.Addr,
		DialTimeout:     250 * time.Millisecond,
		ReadTimeout:     250 * time.Millisecond,
		WriteTimeout:    250 * time.Millisecond,
		MaxRetries:      -1,
		DialerRetries:   1,
		PoolSize:        1,
		DisableIdentity: true,
	})
	defer client.Close()

	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	dialer := net.Dialer{Timeout: 250 * time.Millisecond}
	var lastErr error
	for {
		// Probe the port with a plain dial first: go-redis logs every failed
		// dial on its package logger, which would spam stderr while the
		// server boots.
		var conn net.Conn
		if conn, lastErr = dialer.DialContext(ctx, "tcp", s.Addr); lastErr == nil {
			_ = conn.Close()
			pingCtx, pingCancel := context.WithTimeout(ctx, 500*time.Millisecond)
			lastErr = client.Ping(pingCtx).Err()
			pingCancel()
			if lastErr == nil {
				return nil
			}
		}
		select {
		case <-s.exited:
			return fmt.Errorf("process exited before answering PING: %v", exitDescription(s.waitErr))
		case <-ctx.Done():
			return fmt.Errorf("no answer to PING within %s (last error: %v): %w", timeout, lastErr, ctx.Err())
		case <-tick.C:
		}
	}
}

// Close stops redis-server: SIGTERM, then SIGKILL if it has not exited after
// Options.StopTimeout. It returns once the process is gone. Safe to call more
// than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.stop() })
	return s.closeErr
}

func (s *Server) stop() error {
	select {
	case <-s.exited:
		s.log.Warn("redis-server had already exited", "exit", exitDescription(s.waitErr))
		return nil
	default:
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("redisserver: SIGTERM pid %d: %w", s.PID, err)
	}
	timer := time.NewTimer(s.stopTimeout)
	defer timer.Stop()
	select {
	case <-s.exited:
		if s.waitErr != nil {
			return fmt.Errorf("redisserver: pid %d after SIGTERM: %w", s.PID, s.waitErr)
		}
		s.log.Info("redis-server stopped")
		return nil
	case <-timer.C:
	}
	s.log.Warn("redis-server ignored SIGTERM, sending SIGKILL", "timeout", s.stopTimeout)
	if err := s.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("redisserver: SIGKILL pid %d: %w", s.PID, err)
	}
	<-s.exited
	return fmt.Errorf("redisserver: pid %d did not stop within %s of SIGTERM and was killed", s.PID, s.stopTimeout)
}

func lookBinary(bin string) (string, error) {
	if bin == "" {
		bin = DefaultBinary
	}
	path, err := exec.LookPath(bin)
	if err != nil {
		return "", fmt.Errorf("%w: %q (install it with apt-get install redis-server): %w", ErrBinaryNotFound, bin, err)
	}
	return path, nil
}

// freePort asks the kernel for a free TCP port on 127.0.0.1.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pick a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func exitDescription(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// tailFrom returns the last lines written to path after offset.
func tailFrom(path string, offset int64) string {
	const maxBytes, maxLines = 4096, 20
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	defer f.Close()
	end, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	start := max(offset, end-maxBytes)
	buf := make([]byte, end-start)
	if _, err := f.ReadAt(buf, start); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	lines := bytes.Split(bytes.TrimRight(buf, "\n"), []byte("\n"))
	if len(lines) > maxLines {
		lines = lines[len(lines)-maxLines:]
	}
	out := string(bytes.Join(lines, []byte("\n")))
	if out == "" {
		return "(empty log)"
	}
	return out
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
