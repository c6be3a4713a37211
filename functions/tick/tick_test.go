package tick

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestTick(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var ran []string
	job := func(name string, n int, err error) Job {
		return Job{Name: name, Run: func(context.Context) (int, error) { ran = append(ran, name); return n, err }}
	}
	for _, tc := range []struct {
		name     string
		jobs     []Job
		wantCode int
		want     map[string]JobResult
	}{
		{"all fine", []Job{job("sweep", 2, nil), job("gc", 0, nil)}, http.StatusOK,
			map[string]JobResult{"sweep": {Done: 2}, "gc": {}}},
		{"one fails, the next still runs", []Job{job("sweep", 0, errors.New("redis down")), job("gc", 1, nil)},
			http.StatusInternalServerError, map[string]JobResult{"sweep": {Error: "redis down"}, "gc": {Done: 1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ran = nil
			rec := httptest.NewRecorder()
			// The cron connector POSTs an empty body.
			Handler(log, tc.jobs).ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", nil))
			if rec.Code != tc.wantCode {
				t.Errorf("status %d, want %d", rec.Code, tc.wantCode)
			}
			var res Result
			if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil {
				t.Fatal(err)
			}
			for name, want := range tc.want {
				got := res.Jobs[name]
				if got.Done != want.Done || got.Error != want.Error {
					t.Errorf("%s: %+v, want %+v", name, got, want)
				}
			}
			if len(ran) != len(tc.jobs) {
				t.Errorf("ran %v, want every job", ran)
			}
		})
	}
}
