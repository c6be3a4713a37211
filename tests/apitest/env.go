package apitest

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pouchdp/pouch/shared/api"
	"github.com/pouchdp/pouch/shared/app"
	"github.com/pouchdp/pouch/shared/engine"
	"github.com/pouchdp/pouch/shared/invoke"
	"github.com/pouchdp/pouch/shared/provider"
	"github.com/pouchdp/pouch/tests/redistest"
)

// Options change how an Env is built.
type Options struct {
	Auth   api.Authenticator // nil: noauth
	Policy api.Policy        // nil: Karbor's defaults
	// Env adds variables to the provider files' environment (and to the
	// plugins', e.g. OS_* credentials).
	Env map[string]string
	// Providers adds provider files (name → text) to the shipped ones.
	Providers map[string]string
}

// Env is Pouch assembled on a private redis-server and served by httptest.
// Root is the Local Directory Provider's only allowed root; the banks live
// below DataDir.
type Env struct {
	App     *app.App
	Srv     *httptest.Server
	Inv     *invoke.Local
	Log     *slog.Logger
	Root    string
	DataDir string
}

// Logger is the tests' logger: silent unless POUCH_TEST_LOG is set.
func Logger() *slog.Logger {
	to := io.Discard
	if os.Getenv("POUCH_TEST_LOG") != "" {
		to = os.Stderr
	}
	return slog.New(slog.NewTextHandler(to, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// New builds an Env with the shipped providers; it is closed when tb ends.
func New(tb testing.TB, o Options) *Env {
	tb.Helper()
	addr := redistest.Addr(tb)
	dir := tb.TempDir()
	e := &Env{Root: filepath.Join(dir, "root"), DataDir: filepath.Join(dir, "data"), Log: Logger()}
	provDir := filepath.Join(dir, "providers.d")
	if err := os.Mkdir(e.Root, 0o750); err != nil {
		tb.Fatal(err)
	}
	if _, err := provider.WriteDefaults(provDir); err != nil {
		tb.Fatal(err)
	}
	for name, text := range o.Providers {
		if err := os.WriteFile(filepath.Join(provDir, name), []byte(text), 0o600); err != nil {
			tb.Fatal(err)
		}
	}
	env := map[string]string{"POUCH_DATA_DIR": e.DataDir, "POUCH_ALLOWED_ROOTS": e.Root}
	for k, v := range o.Env {
		env[k] = v
	}
	e.Inv = invoke.NewLocal(8, e.Log)
	a, err := app.New(context.Background(), app.Config{
		RedisAddr: addr, ProvidersDir: provDir,
		Env:    app.EnvWith(env),
		Engine: engine.Config{RetryBase: 5 * time.Millisecond, RetryMax: 50 * time.Millisecond},
		Auth:   o.Auth, Policy: o.Policy,
	}, e.Inv, e.Log)
	if err != nil {
		tb.Fatal(err)
	}
	e.App = a
	e.Inv.Register("hook", a.Engine.RunTask)
	e.Srv = httptest.NewServer(a.API.Handler())
	tb.Cleanup(func() {
		e.Srv.Close()
		e.Inv.Close()
		a.Close()
	})
	return e
}

// Settle waits until no task is queued or running: every operation started
// so far has finished, including the bookkeeping after its status changed.
func (e *Env) Settle(tb testing.TB) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := e.Inv.Wait(ctx); err != nil {
		tb.Fatalf("operations did not settle: %v", err)
	}
}
