package standalone

import (
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		check   func(t *testing.T, s Settings)
		wantErr string
	}{
		{name: "defaults", env: map[string]string{}, check: func(t *testing.T, s Settings) {
			if s.ProvidersDir != DefaultProvidersDir || s.Access.Strategy != "noauth" || s.LogLevel != slog.LevelInfo ||
				s.Access.Keystone.Project != "service" || s.Access.Keystone.CacheTTL != 5*time.Minute {
				t.Errorf("defaults: %+v", s)
			}
		}},
		{name: "set", env: map[string]string{"POUCH_REDIS": "redis://r:6379/1", "POUCH_AUTH_STRATEGY": "keystone",
			"POUCH_KEYSTONE_URL": "http://k/v3", "POUCH_KEYSTONE_CACHE_TTL": "30s", "POUCH_LOG_LEVEL": "debug",
			"POUCH_PROVIDERS_DIR": " /p "}, check: func(t *testing.T, s Settings) {
			if s.Redis != "redis://r:6379/1" || s.Access.Strategy != "keystone" || s.Access.Keystone.URL != "http://k/v3" ||
				s.Access.Keystone.CacheTTL != 30*time.Second || s.LogLevel != slog.LevelDebug || s.ProvidersDir != "/p" {
				t.Errorf("set: %+v", s)
			}
		}},
		{name: "bad ttl", env: map[string]string{"POUCH_KEYSTONE_CACHE_TTL": "soon"}, wantErr: "POUCH_KEYSTONE_CACHE_TTL"},
		{name: "bad level", env: map[string]string{"POUCH_LOG_LEVEL": "loud"}, wantErr: "POUCH_LOG_LEVEL"},
		{name: "leases", env: map[string]string{"POUCH_LEASE_TTL": "30s", "POUCH_LEASE_RENEW": "5s"}, check: func(t *testing.T, s Settings) {
			if s.Engine.LeaseTTL != 30*time.Second || s.Engine.LeaseRenew != 5*time.Second {
				t.Errorf("leases: %+v", s.Engine)
			}
		}},
		{name: "bad lease", env: map[string]string{"POUCH_LEASE_TTL": "-1s"}, wantErr: "POUCH_LEASE_TTL"},
		{name: "renew not shorter", env: map[string]string{"POUCH_LEASE_TTL": "1m", "POUCH_LEASE_RENEW": "1m"}, wantErr: "shorter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := FromEnv(func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, s)
		})
	}
}

func TestOpenNeedsRedis(t *testing.T) {
	_, err := Open(t.Context(), Settings{}, nil, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "POUCH_REDIS") {
		t.Fatalf("err = %v", err)
	}
}
