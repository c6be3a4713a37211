package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"syscall"
	"time"

	"github.com/pouchdp/pouch/shared/embedded"
	"github.com/pouchdp/pouch/shared/invoke"
	"github.com/pouchdp/pouch/shared/standalone"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func usage() {
	fmt.Fprint(os.Stderr, `usage: pouch <command> [flags]

commands:
  serve     run every function in this process (the embedded default)
  version   print the version

Run "pouch serve -h" for its flags.
`)
}

func run(args []string) int {
	if len(args) == 0 {
		usage()
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(args[1:])
	case "version":
		v := "devel"
		if bi, ok := debug.ReadBuildInfo(); ok {
			v = bi.Main.Version
			for _, s := range bi.Settings {
				if s.Key == "vcs.revision" {
					v += " " + s.Value
				}
			}
		}
		fmt.Println("pouch", v)
		return 0
	case "-h", "--help", "help":
		usage()
		return 0
	}
	fmt.Fprintf(os.Stderr, "pouch: unknown command %q\n", args[0])
	usage()
	return 2
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func serve(args []string) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var cfg embedded.Config
	workers, _ := strconv.Atoi(env("POUCH_WORKERS", "16"))
	fs.StringVar(&cfg.Listen, "listen", env("POUCH_LISTEN", "127.0.0.1:8799"), "address to serve on (loopback only) [POUCH_LISTEN]")
	fs.StringVar(&cfg.DataDir, "data-dir", env("POUCH_DATA_DIR", ".pouch"), "bank, Redis data and providers.d [POUCH_DATA_DIR]")
	fs.StringVar(&cfg.ProvidersDir, "providers-dir", env("POUCH_PROVIDERS_DIR", ""), "provider .conf files (default <data-dir>/providers.d, seeded with the shipped providers) [POUCH_PROVIDERS_DIR]")
	fs.StringVar(&cfg.RedisAddr, "redis", env("POUCH_REDIS", ""), "Redis host:port or redis:// URL (default: start redis-server in <data-dir>/redis) [POUCH_REDIS]")
	fs.IntVar(&cfg.Workers, "workers", workers, "hooks run at once [POUCH_WORKERS]")
	fs.DurationVar(&cfg.TickEvery, "tick", time.Minute, "how often the cron connector checks the cron functions' schedules (the tick's is \"* * * * *\")")
	level := fs.String("log-level", env("POUCH_LOG_LEVEL", "info"), "debug, info, warn or error [POUCH_LOG_LEVEL]")
	def, err := standalone.FromEnv(os.LookupEnv)
	if err != nil {
		fmt.Fprintf(os.Stderr, "pouch: %v\n", err)
		return 2
	}
	cfg.Access = def.Access
	if cfg.Invoker, err = invoke.ConfigFromEnv(os.LookupEnv); err != nil {
		fmt.Fprintf(os.Stderr, "pouch: %v\n", err)
		return 2
	}
	ic := &cfg.Invoker
	fs.StringVar(&ic.Kind, "invoker", ic.Kind, "how hooks are dispatched: local (in this process), openfaas or lambda [POUCH_INVOKER]")
	fs.StringVar(&ic.OpenFaaS.Gateway, "gateway", ic.OpenFaaS.Gateway, "openfaas: gateway URL (default: this server, whose /async-function queue runs the hooks) [POUCH_GATEWAY]")
	fs.StringVar(&ic.OpenFaaS.Mode, "invoke-mode", ic.OpenFaaS.Mode, "openfaas: async (the gateway queues hooks; default) or sync [POUCH_INVOKE_MODE]")
	fs.StringVar(&ic.OpenFaaS.CallbackURL, "callback-url", ic.OpenFaaS.CallbackURL, "openfaas async: X-Callback-Url for each hook's result [POUCH_CALLBACK_URL]")
	fs.StringVar(&cfg.Access.Strategy, "auth-strategy", def.Access.Strategy, "noauth (token user:project, every caller an admin) or keystone [POUCH_AUTH_STRATEGY]")
	k := &cfg.Access.Keystone
	fs.StringVar(&k.URL, "keystone-url", k.URL, "Keystone v3 URL, e.g. http://127.0.0.1:5000/v3 [POUCH_KEYSTONE_URL]")
	fs.StringVar(&k.User, "keystone-user", k.User, "service user that validates tokens [POUCH_KEYSTONE_USER]")
	fs.StringVar(&k.Password, "keystone-password", "", "its password; prefer the environment, flags show in ps [POUCH_KEYSTONE_PASSWORD]")
	fs.StringVar(&k.Project, "keystone-project", k.Project, "the service user's project [POUCH_KEYSTONE_PROJECT]")
	fs.StringVar(&k.UserDomain, "keystone-user-domain", k.UserDomain, "the service user's domain name [POUCH_KEYSTONE_USER_DOMAIN]")
	fs.StringVar(&k.ProjectDomain, "keystone-project-domain", k.ProjectDomain, "the service project's domain name [POUCH_KEYSTONE_PROJECT_DOMAIN]")
	fs.DurationVar(&k.CacheTTL, "keystone-cache-ttl", k.CacheTTL, "how long a validated token is trusted (bounds how late a revocation is seen; negative: no cache) [POUCH_KEYSTONE_CACHE_TTL]")
	fs.StringVar(&cfg.Access.PolicyFile, "policy-file", def.Access.PolicyFile, "oslo.policy YAML or JSON file overriding Karbor's default rules [POUCH_POLICY_FILE]")
	fs.DurationVar(&cfg.Engine.LeaseTTL, "lease-ttl", def.Engine.LeaseTTL, "bank lease of an operation: one whose process dies is reaped (error, data cleaned) this long after [POUCH_LEASE_TTL]")
	fs.DurationVar(&cfg.Engine.LeaseRenew, "lease-renew", def.Engine.LeaseRenew, "how often a running hook renews its operation's lease [POUCH_LEASE_RENEW]")
	fs.DurationVar(&cfg.Schedule.MinInterval, "trigger-min-interval", 0, "shortest interval between two firings of a trigger (default 1h, Karbor's min_interval)")
	fs.DurationVar(&cfg.Schedule.MinWindow, "trigger-min-window", 0, "smallest trigger window, also the default window (default 15m)")
	fs.DurationVar(&cfg.Schedule.MaxWindow, "trigger-max-window", 0, "largest trigger window (default 30m)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if k.Password == "" {
		k.Password = def.Access.Keystone.Password
	}
	if cfg.Engine.LeaseRenew >= cfg.Engine.LeaseTTL {
		fmt.Fprintf(os.Stderr, "pouch: -lease-renew (%s) must be shorter than -lease-ttl (%s)\n", cfg.Engine.LeaseRenew, cfg.Engine.LeaseTTL)
		return 2
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		fmt.Fprintf(os.Stderr, "pouch: -log-level: %v\n", err)
		return 2
	}
	cfg.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := embedded.Run(ctx, cfg); err != nil {
		cfg.Log.Error("pouch stopped", "err", err)
		return 1
	}
	return 0
}
