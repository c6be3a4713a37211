package standalone

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/pouchdp/pouch/shared/app"
	"github.com/pouchdp/pouch/shared/engine"
)

// Settings configure a deployed function.
type Settings struct {
	Redis        string // POUCH_REDIS: host:port or redis:// URL (required by Open)
	ProvidersDir string // POUCH_PROVIDERS_DIR (default /etc/pouch/providers.d)
	Access       app.Access
	LogLevel     slog.Level    // POUCH_LOG_LEVEL: debug, info, warn, error
	Engine       engine.Config // POUCH_LEASE_TTL, POUCH_LEASE_RENEW
}

// DefaultProvidersDir is where a deployed function reads its provider files
// (stack.yml mounts the pouch-providers secret there).
const DefaultProvidersDir = "/etc/pouch/providers.d"

// Variables are the environment variables FromEnv reads, with what they set.
var Variables = [][2]string{
	{"POUCH_REDIS", "Redis host:port or redis:// URL"},
	{"POUCH_PROVIDERS_DIR", "provider .conf files (" + DefaultProvidersDir + ")"},
	{"POUCH_LOG_LEVEL", "debug, info, warn or error (info)"},
	{"POUCH_AUTH_STRATEGY", "noauth or keystone (noauth)"},
	{"POUCH_KEYSTONE_URL", "Keystone v3 URL"},
	{"POUCH_KEYSTONE_USER", "service user that validates tokens"},
	{"POUCH_KEYSTONE_PASSWORD", "its password"},
	{"POUCH_KEYSTONE_PROJECT", "its project (service)"},
	{"POUCH_KEYSTONE_USER_DOMAIN", "its domain (Default)"},
	{"POUCH_KEYSTONE_PROJECT_DOMAIN", "its project's domain (Default)"},
	{"POUCH_KEYSTONE_CACHE_TTL", "how long a validated token is trusted (5m)"},
	{"POUCH_POLICY_FILE", "oslo.policy file over Karbor's defaults"},
	{"POUCH_LEASE_TTL", "bank lease of an operation: reaped this long after its process dies (10m)"},
	{"POUCH_LEASE_RENEW", "how often a running hook renews it (2m)"},
}

// FromEnv reads Settings from lookup (os.LookupEnv for the process).
func FromEnv(lookup func(string) (string, bool)) (Settings, error) {
	get := func(k, def string) string {
		if v, ok := lookup(k); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
		return def
	}
	s := Settings{
		Redis:        get("POUCH_REDIS", ""),
		ProvidersDir: get("POUCH_PROVIDERS_DIR", DefaultProvidersDir),
	}
	s.Access.Strategy = get("POUCH_AUTH_STRATEGY", "noauth")
	k := &s.Access.Keystone
	k.URL = get("POUCH_KEYSTONE_URL", "")
	k.User = get("POUCH_KEYSTONE_USER", "")
	k.Password = get("POUCH_KEYSTONE_PASSWORD", "")
	k.Project = get("POUCH_KEYSTONE_PROJECT", "service")
	k.UserDomain = get("POUCH_KEYSTONE_USER_DOMAIN", "Default")
	k.ProjectDomain = get("POUCH_KEYSTONE_PROJECT_DOMAIN", "Default")
	ttl, err := time.ParseDuration(get("POUCH_KEYSTONE_CACHE_TTL", "5m"))
	if err != nil {
		return s, fmt.Errorf("POUCH_KEYSTONE_CACHE_TTL: %w", err)
	}
	k.CacheTTL = ttl
	s.Access.PolicyFile = get("POUCH_POLICY_FILE", "")
	for _, d := range []struct {
		name string
		to   *time.Duration
		def  string
	}{{"POUCH_LEASE_TTL", &s.Engine.LeaseTTL, "10m"}, {"POUCH_LEASE_RENEW", &s.Engine.LeaseRenew, "2m"}} {
		v, err := time.ParseDuration(get(d.name, d.def))
		if err != nil || v <= 0 {
			return s, fmt.Errorf("%s: want a positive duration such as 10m, got %q", d.name, get(d.name, d.def))
		}
		*d.to = v
	}
	if s.Engine.LeaseRenew >= s.Engine.LeaseTTL {
		return s, fmt.Errorf("POUCH_LEASE_RENEW (%s) must be shorter than POUCH_LEASE_TTL (%s)", s.Engine.LeaseRenew, s.Engine.LeaseTTL)
	}
	if err := s.LogLevel.UnmarshalText([]byte(get("POUCH_LOG_LEVEL", "info"))); err != nil {
		return s, fmt.Errorf("POUCH_LOG_LEVEL: %w", err)
	}
	return s, nil
}

// Logger is the JSON logger of a deployed function, on stderr (OpenFaaS and
// Lambda collect it).
func (s Settings) Logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: s.LogLevel}))
}

// Open builds the App of a deployed function: Redis at s.Redis (not started
// here), the providers in s.ProvidersDir, hooks dispatched through inv.
func Open(ctx context.Context, s Settings, inv engine.Invoker, log *slog.Logger) (*app.App, error) {
	if s.Redis == "" {
		return nil, fmt.Errorf("POUCH_REDIS is not set: a deployed function needs a shared Redis")
	}
	cfg := app.Config{RedisAddr: s.Redis, ProvidersDir: s.ProvidersDir, Engine: s.Engine}
	var err error
	if cfg.Auth, cfg.Policy, err = s.Access.Build(log); err != nil {
		return nil, err
	}
	return app.New(ctx, cfg, inv, log)
}
