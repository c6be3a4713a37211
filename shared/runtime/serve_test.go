package runtime_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/pouchdp/pouch/shared/runtime"
)

func TestServeRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:8080", ":8080", "[::]:8080", "192.0.2.1:8080", "example.com:80", "8080", ""} {
		t.Run(addr, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err := runtime.Serve(ctx, addr, http.NotFoundHandler(), nil)
			if !errors.Is(err, runtime.ErrNotLoopback) {
				t.Errorf("Serve(%q) = %v, want ErrNotLoopback", addr, err)
			}
		})
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

func waitUp(t *testing.T, url string, errc <-chan error) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			return
		}
		select {
		case err := <-errc:
			t.Fatalf("Serve returned early: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never answered: %v", url, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestServeLoopbackAndShutdown(t *testing.T) {
	for _, host := range []string{"127.0.0.1", "localhost"} {
		t.Run(host, func(t *testing.T) {
			port := freePort(t)
			p := runtime.New(testFunctions(), nil)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			errc := make(chan error, 1)
			go func() { errc <- runtime.Serve(ctx, net.JoinHostPort(host, port), p.Handler(), nil) }()
			base := "http://127.0.0.1:" + port
			waitUp(t, base+"/healthz", errc)

			cancel()
			select {
			case err := <-errc:
				if err != nil {
					t.Fatalf("Serve after cancel = %v, want nil", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Serve did not return after cancel")
			}
			if conn, err := net.DialTimeout("tcp", "127.0.0.1:"+port, time.Second); err == nil {
				conn.Close()
				t.Error("still listening after Serve returned")
			}
		})
	}
}

// A request in flight when ctx is cancelled still gets its answer.
func TestServeGracefulShutdown(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			close(entered)
			<-release
		}
		_, _ = io.WriteString(w, "done")
	})
	p := runtime.New([]runtime.Function{{Name: "slow", Handler: slow}}, nil)
	port := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- runtime.Serve(ctx, "127.0.0.1:"+port, p.Handler(), nil) }()
	base := "http://127.0.0.1:" + port
	waitUp(t, base+"/healthz", errc)

	type result struct {
		body string
		err  error
	}
	resc := make(chan result, 1)
	go func() {
		resp, err := http.Get(base + "/function/slow/slow")
		if err != nil {
			resc <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		resc <- result{body: string(b), err: err}
	}()
	<-entered
	cancel()
	select {
	case err := <-errc:
		t.Fatalf("Serve returned %v while a request was in flight", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if r := <-resc; r.err != nil || r.body != "done" {
		t.Errorf("in-flight request got %q, %v; want done", r.body, r.err)
	}
	select {
	case err := <-errc:
		if err != nil {
			t.Errorf("Serve = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return")
	}
}

func TestServeListenError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	err = runtime.Serve(context.Background(), ln.Addr().String(), http.NotFoundHandler(), nil)
	if err == nil || errors.Is(err, runtime.ErrNotLoopback) {
		t.Errorf("Serve on a busy port = %v, want a listen error", err)
	}
}
