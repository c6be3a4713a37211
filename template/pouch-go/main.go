// Command handler is one of Pouch's functions deployed on its own, behind
// OpenFaaS's of-watchdog in http mode (it listens where upstream_url says,
// on loopback).
//
// Which function it is was fixed when it was built: build.sh sets
// main.function to the Go package name of the handler folder (functions/api,
// functions/hook or functions/tick). Everything else comes from the
// environment: the App from the POUCH_* variables of shared/standalone, the
// invoker that dispatches hooks from those of shared/invoke.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/pouchdp/pouch/functions"
	"github.com/pouchdp/pouch/functions/hook"
	"github.com/pouchdp/pouch/shared/invoke"
	"github.com/pouchdp/pouch/shared/runtime"
	"github.com/pouchdp/pouch/shared/standalone"
)

// function is the name of the function this binary serves, set by build.sh
// with -ldflags "-X main.function=NAME".
var function string

// defaultUpstream is the of-watchdog's upstream_url in the template's image.
const defaultUpstream = "http://127.0.0.1:8082"

func main() {
	os.Exit(run())
}

func run() int {
	if function == "" {
		fmt.Fprintln(os.Stderr, "handler: built without a function name: build it with template/pouch-go/build.sh")
		return 2
	}
	s, err := standalone.FromEnv(os.LookupEnv)
	if err != nil {
		fmt.Fprintf(os.Stderr, "handler: %v\n", err)
		return 2
	}
	log := s.Logger().With("function", function)
	if err := serve(log, s); err != nil {
		log.Error("function stopped", "err", err)
		return 1
	}
	return 0
}

func serve(log *slog.Logger, s standalone.Settings) error {
	addr, err := listenAddr(os.Getenv("upstream_url"))
	if err != nil {
		return err
	}
	ic, err := invoke.ConfigFromEnv(os.LookupEnv)
	if err != nil {
		return err
	}
	inv, err := ic.New(log)
	if err != nil {
		return err
	}
	defer inv.Close()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, err := standalone.Open(ctx, s, inv, log)
	if err != nil {
		return err
	}
	defer a.Close()
	if l, ok := inv.(*invoke.Local); ok {
		l.Register(functions.Hook, hook.Func(a.Engine))
	}
	fn, ok := functions.Find(functions.All(a, log), function)
	if !ok {
		return fmt.Errorf("this binary was built for function %q, which Pouch does not have", function)
	}
	log.Info("serving", "addr", addr, "invoker", ic.Kind)
	err = runtime.Serve(ctx, addr, fn.Handler, log)

	// Hooks handed to this process (local invoker, openfaas sync) finish first.
	wctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if werr := inv.Wait(wctx); werr != nil {
		log.Warn("stopping with calls still running", "err", werr)
	}
	return err
}

// listenAddr is the host:port of the watchdog's upstream URL.
func listenAddr(upstream string) (string, error) {
	if upstream == "" {
		upstream = defaultUpstream
	}
	u, err := url.Parse(upstream)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("upstream_url %q: want http://127.0.0.1:PORT", upstream)
	}
	if u.Port() == "" {
		return net.JoinHostPort(u.Hostname(), "80"), nil
	}
	return u.Host, nil
}
