package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/pouchdp/pouch/shared/model"
	"github.com/pouchdp/pouch/shared/store"
)

// BenchmarkPlanList lists plans through the API's HTTP handler with 10,000
// plans of the project in Redis, and reports latency percentiles (target:
// p99 <= 20 ms for the default list). Recorded in docs/benchmarks.md.
func BenchmarkPlanList(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	const plans = 10000
	start := time.Now().Add(-plans * time.Second)
	desc := "benchmark plan"
	for i := range plans {
		p := &model.Plan{ID: uuid.NewString(), Name: fmt.Sprintf("plan-%05d", i), Description: &desc,
			ProviderID: noopProvider, ProjectID: project, Status: model.PlanSuspended,
			Resources: []model.Resource{server(i)}, Parameters: model.Parameters{serverType: {"backup_mode": "full"}},
			CreatedAt: start.Add(time.Duration(i) * time.Second)}
		if err := e.App.Store.Plans.Create(ctx, p); err != nil {
			b.Fatal(err)
		}
	}
	h := e.App.API.Handler()
	for _, q := range []struct{ name, query string }{
		{"default-1000", ""},
		{"limit-20", "limit=20"},
		{"marker-page", ""}, // the marker is the 5,000th plan
		{"sort-name", "sort=name:asc&limit=100"},
		{"filter-name", "name=plan-0999&limit=100"},
	} {
		b.Run(q.name, func(b *testing.B) {
			query := q.query
			if q.name == "marker-page" {
				mid, err := e.App.Store.Plans.List(ctx, store.ListOptions{Project: project, Limit: 5000})
				if err != nil || len(mid) == 0 {
					b.Fatal(err)
				}
				query = "limit=100&marker=" + mid[len(mid)-1].ID
			}
			lat := make([]time.Duration, 0, b.N)
			for b.Loop() {
				req := httptest.NewRequest("GET", "/v1/"+project+"/plans?"+query, nil)
				req.Header.Set("X-Auth-Token", token)
				w := httptest.NewRecorder()
				t0 := time.Now()
				h.ServeHTTP(w, req)
				lat = append(lat, time.Since(t0))
				if w.Code != http.StatusOK {
					b.Fatalf("%d: %s", w.Code, w.Body)
				}
			}
			slices.Sort(lat)
			pct := func(p float64) float64 {
				return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
			}
			b.ReportMetric(pct(0.50), "p50-ms")
			b.ReportMetric(pct(0.99), "p99-ms")
		})
	}
}
