package embedded

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/pouchdp/pouch/functions"
	"github.com/pouchdp/pouch/functions/hook"
	"github.com/pouchdp/pouch/shared/app"
	"github.com/pouchdp/pouch/shared/connector"
	"github.com/pouchdp/pouch/shared/engine"
	"github.com/pouchdp/pouch/shared/invoke"
	"github.com/pouchdp/pouch/shared/provider"
	"github.com/pouchdp/pouch/shared/redisserver"
	"github.com/pouchdp/pouch/shared/runtime"
	"github.com/pouchdp/pouch/shared/schedule"
)

// Config of the embedded runtime.
type Config struct {
	Listen       string        // 127.0.0.1:8799
	DataDir      string        // bank, Redis data, providers.d
	ProvidersDir string        // default <DataDir>/providers.d, seeded with the shipped providers
	RedisAddr    string        // empty: start redis-server (or an embedded Redis) in <DataDir>/redis
	Workers      int           // hook workers (local invoker), queue workers of /async-function
	Invoker      invoke.Config // how hooks are dispatched (zero: in process); openfaas without a gateway: this server
	TickEvery    time.Duration // local cron period of the tick function (1m)
	Log          *slog.Logger
	Access       app.Access      // authentication and policy
	Schedule     schedule.Config // trigger bounds (zero: Karbor's defaults)
	Engine       engine.Config   // lease and retry tuning (zero: the defaults)
}

// Run serves until ctx ends, then stops gracefully.
func Run(ctx context.Context, cfg Config) error {
	log := cfg.Log
	var appCfg app.Config
	err := cfg.Schedule.Validate()
	if err != nil {
		return err
	}
	if appCfg.Auth, appCfg.Policy, err = cfg.Access.Build(log); err != nil {
		return err
	}
	dataDir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return err
	}
	provDir := cfg.ProvidersDir
	if provDir == "" {
		provDir = filepath.Join(dataDir, "providers.d")
		if wrote, err := provider.WriteDefaults(provDir); err != nil {
			return err
		} else if wrote {
			log.Info("wrote the shipped providers; edit them to change banks and allowed roots", "dir", provDir)
		}
	}
	redisAddr := cfg.RedisAddr
	if redisAddr == "" {
		addr, closer, err := redisserver.Auto(ctx, redisserver.Options{Dir: filepath.Join(dataDir, "redis"), AppendOnly: true, Log: log})
		if err != nil {
			return fmt.Errorf("start redis: %w", err)
		}
		defer closeLogged(log, "redis", closer)
		redisAddr = addr
	}
	appCfg.RedisAddr, appCfg.ProvidersDir, appCfg.Schedule, appCfg.Engine = redisAddr, provDir, cfg.Schedule, cfg.Engine
	appCfg.Env = app.EnvWith(map[string]string{"POUCH_DATA_DIR": dataDir})
	ic := cfg.Invoker
	ic.Workers = cfg.Workers
	if ic.Kind == invoke.KindOpenFaaS && ic.OpenFaaS.Gateway == "" {
		ic.OpenFaaS.Gateway = "http://" + cfg.Listen // hooks go through this server's /async-function/hook
	}
	inv, err := ic.New(log)
	if err != nil {
		return err
	}
	a, err := app.New(ctx, appCfg, inv, log)
	if err != nil {
		inv.Close()
		return err
	}
	defer closeLogged(log, "app", a)
	if l, ok := inv.(*invoke.Local); ok {
		l.Register(functions.Hook, hook.Func(a.Engine))
	}
	fns := functions.All(a, log)
	faas := runtime.New(fns, log, runtime.QueueWorkers(cfg.Workers))
	mux := http.NewServeMux()
	for _, prefix := range []string{"/function/", "/async-function/", "/system/", "/healthz"} {
		mux.Handle(prefix, faas.Handler())
	}
	apiFn, _ := functions.Find(fns, functions.API)
	mux.Handle("/", apiFn.Handler)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The cron connector invokes the tick function over HTTP, as OpenFaaS's
	// does: listed with its annotations, POSTed with X-Connector/X-Topic.
	go (&connector.Cron{Gateway: "http://" + cfg.Listen, Every: cfg.TickEvery, Log: log}).Run(ctx)
	log.Info("pouch is serving", "api", "http://"+cfg.Listen+"/v1/<project>", "functions", "http://"+cfg.Listen+"/function/{api,hook,tick}",
		"data", dataDir, "providers", provDir, "redis", redisAddr, "invoker", ic.Kind)
	serveCtx, stopServing := context.WithCancel(context.WithoutCancel(ctx))
	defer stopServing()
	errc := make(chan error, 1)
	go func() { errc <- runtime.Serve(serveCtx, cfg.Listen, mux, log) }()
	select {
	case err = <-errc:
	case <-ctx.Done():
		// Let queued and running hooks record their outcome while the server
		// still answers: with the openfaas invoker their successors come
		// back through it. The queue first (its calls dispatch through
		// inv), then inv (a sync call's successors are its own calls).
		wctx, wcancel := context.WithTimeout(context.Background(), 30*time.Second)
		for _, w := range []interface{ Wait(context.Context) error }{faas, inv, faas} {
			if werr := w.Wait(wctx); werr != nil {
				log.Warn("stopping with hooks still running; their operations finish after a restart or fail by lease", "err", werr)
				break
			}
		}
		wcancel()
		stopServing()
		err = <-errc
	}
	faas.Close()
	inv.Close()
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

func closeLogged(log *slog.Logger, what string, c io.Closer) {
	if err := c.Close(); err != nil {
		log.Warn("close", "what", what, "err", err)
	}
}
