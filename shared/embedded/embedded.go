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
	Workers      int           // hook workers
	TickEvery    time.Duration // local cron period of the tick function (1m)
	Log          *slog.Logger
	Access       app.Access      // authentication and policy
	Schedule     schedule.Config // trigger bounds (zero: Karbor's defaults)
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
	appCfg.RedisAddr, appCfg.ProvidersDir, appCfg.Schedule = redisAddr, provDir, cfg.Schedule
	appCfg.Env = app.EnvWith(map[string]string{"POUCH_DATA_DIR": dataDir})
	inv := invoke.NewLocal(cfg.Workers, log)
	a, err := app.New(ctx, appCfg, inv, log)
	if err != nil {
		inv.Close()
		return err
	}
	defer closeLogged(log, "app", a)
	inv.Register(functions.Hook, hook.Func(a.Engine))
	fns := functions.All(a, log)
	faas := runtime.New(fns, log)
	mux := http.NewServeMux()
	for _, prefix := range []string{"/function/", "/system/", "/healthz"} {
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
		"data", dataDir, "providers", provDir, "redis", redisAddr)
	err = runtime.Serve(ctx, cfg.Listen, mux, log)
	// Let running hooks record their outcome before the connections close.
	wctx, wcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer wcancel()
	if werr := inv.Wait(wctx); werr != nil {
		log.Warn("stopping with hooks still running; their operations finish after a restart or fail by lease", "err", werr)
	}
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
