package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pouchdp/pouch/bank"
	"github.com/pouchdp/pouch/bank/fsbank"
	"github.com/pouchdp/pouch/bank/swift"
	"github.com/pouchdp/pouch/plugins/localdir"
	"github.com/pouchdp/pouch/plugins/noop"
	"github.com/pouchdp/pouch/plugins/openstack/image"
	"github.com/pouchdp/pouch/plugins/openstack/network"
	"github.com/pouchdp/pouch/plugins/openstack/project"
	"github.com/pouchdp/pouch/plugins/openstack/server"
	"github.com/pouchdp/pouch/plugins/openstack/volume"
	"github.com/pouchdp/pouch/shared/api"
	"github.com/pouchdp/pouch/shared/auth"
	"github.com/pouchdp/pouch/shared/engine"
	"github.com/pouchdp/pouch/shared/protection"
	"github.com/pouchdp/pouch/shared/provider"
	"github.com/pouchdp/pouch/shared/schedule"
	"github.com/pouchdp/pouch/shared/scheduler"
	"github.com/pouchdp/pouch/shared/store"
)

// Config is what an App is built from.
type Config struct {
	RedisAddr    string // host:port, or a redis:// URL
	ProvidersDir string
	Engine       engine.Config
	// Env resolves ${VAR} in provider files (nil: the process environment).
	Env func(string) (string, bool)
	// Recorder receives the noop plugin's hook runs (nil: debug log).
	Recorder noop.Recorder
	// Plugins adds protection plugins to (or replaces some of) Plugins().
	Plugins protection.Registry
	// Auth tells who calls the API (nil: noauth); Policy what they may do
	// (nil: Karbor's defaults).
	Auth   api.Authenticator
	Policy api.Policy
	// Schedule bounds trigger properties (zero: Karbor's defaults: a minimum
	// interval of 3600 s, windows of 900 to 1800 s).
	Schedule schedule.Config
}

// App is Pouch assembled.
type App struct {
	Redis     *redis.Client
	Providers *provider.Set
	Catalog   *protection.Catalog
	Store     *store.Store
	Engine    *engine.Engine
	API       *api.API
	Log       *slog.Logger
	// BeatTick records that the tick function is alive (os-services).
	BeatTick func(ctx context.Context)
	// Scheduler fires time triggers (the tick's job).
	Scheduler *scheduler.Scheduler
}

// Banks are the bank plugins Pouch has, under Pouch's and Karbor's names.
func Banks() bank.Registry {
	return bank.Registry{
		"pouch-fs-bank-plugin":     fsbank.FromConfig,
		"karbor-fs-bank-plugin":    fsbank.FromConfig,
		"pouch-swift-bank-plugin":  swift.FromConfig,
		"karbor-swift-bank-plugin": swift.FromConfig,
	}
}

// Plugins are the protection plugins Pouch has, under Pouch's and Karbor's
// names.
func Plugins(rec noop.Recorder) protection.Registry {
	return protection.Registry{
		"pouch-noop-protection-plugin":  noop.New(rec),
		"karbor-noop-protection-plugin": noop.New(rec),
		"pouch-local-directory-plugin":  localdir.New,

		"karbor-image-protection-plugin":   image.New,
		"karbor-volume-protection-plugin":  volume.New,
		"karbor-volume-snapshot-plugin":    volume.NewSnapshot,
		"karbor-server-protection-plugin":  server.New,
		"karbor-network-protection-plugin": network.New,
		"pouch-project-protection-plugin":  project.New,
	}
}

// New assembles an App whose engine dispatches through inv.
func New(ctx context.Context, cfg Config, inv engine.Invoker, log *slog.Logger) (*App, error) {
	opts, err := redisOptions(cfg.RedisAddr)
	if err != nil {
		return nil, err
	}
	rdb := redis.NewClient(opts)
	if err := rdb.Ping(ctx).Err(); err != nil {
		rdb.Close()
		return nil, fmt.Errorf("redis %s: %w", cfg.RedisAddr, err)
	}
	rec := cfg.Recorder
	if rec == nil {
		rec = noop.Logger{Log: log}
	}
	plugins := Plugins(rec)
	for name, f := range cfg.Plugins {
		plugins[name] = f
	}
	loader := &provider.Loader{Banks: Banks(), Plugins: plugins, Env: cfg.Env, Log: log}
	providers, err := loader.LoadDir(cfg.ProvidersDir)
	if err != nil {
		rdb.Close()
		return nil, err
	}
	catalog := protection.NewCatalog(log)
	providers.Protectables(catalog)
	if cfg.Engine.Prefix == "" {
		cfg.Engine.Prefix = "pouch:"
	}
	st := store.New(rdb, cfg.Engine.Prefix)
	services := store.NewServices(rdb, cfg.Engine.Prefix)
	host := hostname()
	beat := func(binary string) func(context.Context) {
		return func(ctx context.Context) {
			if err := services.Beat(ctx, binary, host); err != nil {
				log.WarnContext(ctx, "heartbeat not recorded", "binary", binary, "err", err)
			}
		}
	}
	eng := engine.New(engine.Deps{Redis: rdb, Providers: providers, Catalog: catalog, Store: st, Invoker: inv, Log: log,
		Beat: beat(api.BinaryHook)}, cfg.Engine)
	a := &App{Redis: rdb, Providers: providers, Catalog: catalog, Store: st, Engine: eng, Log: log,
		API: &api.API{Providers: providers, Catalog: catalog, Store: st, Engine: eng, Log: log, Now: time.Now,
			Quotas: store.NewQuotas(rdb, cfg.Engine.Prefix), Services: services,
			Host: host, Auth: cfg.Auth, Policy: cfg.Policy}}
	a.BeatTick = beat(api.BinaryTick)
	a.API.Schedule = cfg.Schedule
	a.Scheduler = &scheduler.Scheduler{Redis: rdb, Prefix: cfg.Engine.Prefix, Store: st, Engine: eng, Config: cfg.Schedule,
		Quotas: a.API.Quotas, Log: log, Now: time.Now,
		Disabled: func(ctx context.Context) (bool, error) { return services.Disabled(ctx, api.BinaryTick) }}
	a.API.Scheduler = a.Scheduler
	if k, ok := cfg.Auth.(*auth.Keystone); ok {
		a.API.Delegator, a.Scheduler.Trusts = k, k
	}
	for _, p := range providers.All() {
		log.Info("provider loaded", "id", p.ID, "name", p.Name, "file", p.Source, "types", p.ResourceTypes())
	}
	return a, nil
}

func redisOptions(addr string) (*redis.Options, error) {
	if addr == "" {
		return nil, fmt.Errorf("no Redis address")
	}
	if strings.HasPrefix(addr, "redis://") || strings.HasPrefix(addr, "rediss://") {
		return redis.ParseURL(addr)
	}
	return &redis.Options{Addr: addr, PoolSize: 64}, nil
}

// Close releases the App's connections.
func (a *App) Close() error { return a.Redis.Close() }

// EnvWith returns an environment lookup where vars override the process
// environment.
func EnvWith(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		if v, ok := vars[k]; ok {
			return v, true
		}
		return os.LookupEnv(k)
	}
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "localhost"
	}
	return h
}
