package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

const (
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 2 * time.Minute
	shutdownTimeout   = 15 * time.Second
)

// ErrNotLoopback is returned by Serve for an address that is not on a loopback interface.
var ErrNotLoopback = errors.New("only loopback addresses (127.0.0.1, ::1, localhost) are allowed")

// Serve serves h on addr until ctx is done, then shuts down gracefully
// (in-flight requests get up to 15s) and returns nil. addr must name a
// loopback host ("127.0.0.1:8080", "[::1]:8080", "localhost:8080"); an empty
// or wildcard host is refused. Port 0 picks a free port, which is logged.
//
// There is no read or write timeout, since a function call may legitimately
// stream or run long; ReadHeaderTimeout and IdleTimeout bound idle clients.
func Serve(ctx context.Context, addr string, h http.Handler, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	listenAddr, err := loopbackAddr(addr)
	if err != nil {
		return fmt.Errorf("runtime: refusing to listen on %q: %w", addr, err)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", listenAddr)
	if err != nil {
		return fmt.Errorf("runtime: listen on %s: %w", listenAddr, err)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    http.DefaultMaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("provider listening", "addr", ln.Addr().String())

	select {
	case err := <-errc:
		return fmt.Errorf("runtime: serve on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}

	log.Info("provider shutting down", "addr", ln.Addr().String())
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	shutdownErr := srv.Shutdown(shutdownCtx)
	if shutdownErr != nil {
		_ = srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("runtime: serve on %s: %w", ln.Addr(), err)
	}
	if shutdownErr != nil {
		return fmt.Errorf("runtime: graceful shutdown of %s: %w", ln.Addr(), shutdownErr)
	}
	log.Info("provider stopped", "addr", ln.Addr().String())
	return nil
}

// loopbackAddr checks that addr's host is a loopback IP or "localhost" and
// returns the address to listen on ("localhost" becomes 127.0.0.1, so that
// the listener cannot land on a non-loopback address by name resolution).
func loopbackAddr(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrNotLoopback, err)
	}
	if host == "localhost" {
		return net.JoinHostPort("127.0.0.1", port), nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return "", fmt.Errorf("%w: host %q", ErrNotLoopback, host)
	}
	return addr, nil
}
