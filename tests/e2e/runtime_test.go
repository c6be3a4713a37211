package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestFunctionRoutes checks the local OpenFaaS-style provider: the functions
// and their annotations, the api function behind /function/api, and a tick.
func TestFunctionRoutes(t *testing.T) {
	s := start(t, t.TempDir(), "POUCH_ALLOWED_ROOTS="+t.TempDir())
	var fns []struct {
		Name        string
		Annotations map[string]string
	}
	resp, err := http.Get(s.url + "/system/functions")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.NewDecoder(resp.Body).Decode(&fns); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	names := map[string]map[string]string{}
	for _, f := range fns {
		names[f.Name] = f.Annotations
	}
	for _, n := range []string{"api", "hook", "tick"} {
		if _, ok := names[n]; !ok {
			t.Errorf("function %s not listed: %+v", n, fns)
		}
	}
	if a := names["tick"]; a["topic"] != "cron-function" || a["schedule"] != "* * * * *" {
		t.Errorf("tick annotations %v", a)
	}
	var provs struct{ Providers []struct{ ID string } }
	s.must(http.MethodGet, "/function/api/v1/p1/providers", "p1", nil, &provs)
	if len(provs.Providers) != 2 {
		t.Errorf("providers through /function/api: %+v", provs)
	}
	resp, err = http.Post(s.url+"/function/tick", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"sweep"`) {
		t.Errorf("tick: %d %s", resp.StatusCode, body)
	}
	s.stop()
}

// TestEmbeddedRedisFallback: with no redis-server on PATH, pouch serve still
// runs, on an embedded Redis, and says loudly that state is not durable.
func TestEmbeddedRedisFallback(t *testing.T) {
	s := start(t, t.TempDir(), "PATH="+t.TempDir(), "POUCH_ALLOWED_ROOTS="+t.TempDir())
	var provs struct{ Providers []struct{ ID string } }
	s.must(http.MethodGet, "/v1/p1/providers", "p1", nil, &provs)
	if len(provs.Providers) != 2 {
		t.Errorf("providers: %+v", provs)
	}
	if logs := s.logs.String(); !strings.Contains(logs, "level=WARN") || !strings.Contains(strings.ToLower(logs), "not durable") {
		t.Errorf("no loud warning about the embedded Redis in:\n%s", logs)
	}
	s.stop()
}
