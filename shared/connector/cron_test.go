package connector_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pouchdp/pouch/shared/connector"
	"github.com/pouchdp/pouch/shared/runtime"
)

// calls records the invocations of functions.
type calls struct {
	mu  sync.Mutex
	got []string
}

func (c *calls) handler(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		c.mu.Lock()
		defer c.mu.Unlock()
		if r.Method != http.MethodPost || len(body) != 0 || r.Header.Get("X-Connector") != "cron-connector" ||
			r.Header.Get("X-Topic") != "cron-function" {
			c.got = append(c.got, name+": bad request "+r.Method+" "+r.Header.Get("X-Connector"))
			return
		}
		c.got = append(c.got, name)
	})
}

func (c *calls) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.got
	c.got = nil
	slices.Sort(out)
	return out
}

func TestCronFollowsSchedules(t *testing.T) {
	rec := &calls{}
	cronFn := func(schedule string) map[string]string {
		return map[string]string{"topic": "cron-function", "schedule": schedule}
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	p := runtime.New([]runtime.Function{
		{Name: "tick", Handler: rec.handler("tick"), Annotations: cronFn("* * * * *")},
		{Name: "hourly", Handler: rec.handler("hourly"), Annotations: cronFn("0 * * * *")},
		{Name: "other-topic", Handler: rec.handler("other-topic"), Annotations: map[string]string{"topic": "kafka", "schedule": "* * * * *"}},
		{Name: "plain", Handler: rec.handler("plain")},
	}, log)
	srv := httptest.NewServer(p.Handler())
	defer srv.Close()
	c := &connector.Cron{Gateway: srv.URL, Log: log}
	ctx := context.Background()
	for _, tc := range []struct {
		at   time.Time
		want []string
	}{
		{time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC), []string{"hourly", "tick"}},
		{time.Date(2026, 11, 22, 10, 1, 0, 0, time.UTC), []string{"tick"}},
		{time.Date(2026, 11, 22, 10, 59, 0, 0, time.UTC), []string{"tick"}},
	} {
		n, err := c.Fire(ctx, tc.at)
		if got := rec.take(); err != nil || n != len(tc.want) || !slices.Equal(got, tc.want) {
			t.Errorf("at %s: %d %v %v, want %v", tc.at.Format("15:04"), n, got, err, tc.want)
		}
	}
	// Checked every 10 s, a minute schedule fires once a minute.
	c.Every = 10 * time.Second
	fired := 0
	for s := 0; s < 60; s += 10 {
		n, _ := c.Fire(ctx, time.Date(2026, 11, 22, 11, 0, s, 0, time.UTC))
		fired += n
	}
	if got := rec.take(); fired != 2 || !slices.Equal(got, []string{"hourly", "tick"}) {
		t.Errorf("checked every 10 s over a minute: %d %v", fired, got)
	}

	bad := &connector.Cron{Gateway: srv.URL + "/nowhere", Log: log}
	if _, err := bad.Fire(ctx, time.Now()); err == nil {
		t.Error("a gateway that does not list functions: no error")
	}
}
