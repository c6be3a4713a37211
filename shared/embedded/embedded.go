package embedded

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/pouchdp/pouch/functions/api"
	"github.com/pouchdp/pouch/functions/hook"
	"github.com/pouchdp/pouch/functions/tick"
	"github.com/pouchdp/pouch/shared/app"
	"github.com/pouchdp/pouch/shared/auth"
	"github.com/pouchdp/pouch/shared/connector"
	"github.com/pouchdp/pouch/shared/invoke"
	"github.com/pouchdp/pouch/shared/policy"
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
	// AuthStrategy is "noauth" (the default: token "user:project", every
	// caller an admin) or "keystone" (tokens validated with Keystone).
	AuthStrategy string
	Keystone     auth.KeystoneConfig // the keystone strategy's settings
	PolicyFile   string              // oslo policy file over Karbor's defaults ("": none)
	Schedule     schedule.Config     // trigger bounds (zero: Karbor's defaults)
}

// Run serves until ctx ends, then stops gracefully.
func Run(ctx context.Context, cfg Config) error {
	log := cfg.Log
	var appCfg app.Config
	if err := cfg.Schedule.Validate(); err != nil {
		return err
	}
	if err := withAuth(&appCfg, cfg); err != nil {
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
	jobs := tick.Jobs(a)
	inv.Register("hook", hook.Func(a.Engine))
	apiHandler := api.Handler(a)
	faas := runtime.New([]runtime.Function{
		{Name: "api", Handler: apiHandler},
		{Name: "hook", Handler: hook.Handler(a.Engine, log)},
		{Name: "tick", Handler: tick.Handler(log, jobs),
			Annotations: map[string]string{"topic": "cron-function", "schedule": "* * * * *"}},
	}, log)
	mux := http.NewServeMux()
	for _, prefix := range []string{"/function/", "/system/", "/healthz"} {
		mux.Handle(prefix, faas.Handler())
	}
	mux.Handle("/", apiHandler)

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

// withAuth sets the API's authenticator and policy from cfg.
func withAuth(ac *app.Config, cfg Config) error {
	pol, err := policy.New(cfg.PolicyFile)
	if err != nil {
		return err
	}
	ac.Policy = pol
	switch cfg.AuthStrategy {
	case "", "noauth":
		ac.Auth = auth.NoAuth{}
	case "keystone":
		kc := cfg.Keystone
		kc.IsAdmin = pol.IsAdmin
		k, err := auth.NewKeystone(kc, cfg.Log.With("component", "keystone"))
		if err != nil {
			return err
		}
		ac.Auth = k
	default:
		return fmt.Errorf("auth strategy %q: want noauth or keystone", cfg.AuthStrategy)
	}
	cfg.Log.Info("auth", "strategy", cmp.Or(cfg.AuthStrategy, "noauth"), "keystone", cfg.Keystone.URL,
		"policy_file", cfg.PolicyFile)
	return nil
}

func closeLogged(log *slog.Logger, what string, c io.Closer) {
	if err := c.Close(); err != nil {
		log.Warn("close", "what", what, "err", err)
	}
}
