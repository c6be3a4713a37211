package tick

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"time"
)

// Job is one thing a tick does. Run returns how many items it handled.
type Job struct {
	Name string
	Run  func(ctx context.Context) (int, error)
}

// Result is what one tick did.
type Result struct {
	Jobs map[string]JobResult `json:"jobs"`
}

// JobResult is what one job did.
type JobResult struct {
	Done  int    `json:"done"`
	Error string `json:"error,omitempty"`
	Took  string `json:"took"`
}

// Run runs every job once; one job's failure does not stop the others.
func Run(ctx context.Context, log *slog.Logger, jobs []Job) (Result, error) {
	res := Result{Jobs: map[string]JobResult{}}
	var errs []error
	for _, j := range jobs {
		start := time.Now()
		n, err := j.Run(ctx)
		jr := JobResult{Done: n, Took: time.Since(start).String()}
		if err != nil {
			jr.Error = err.Error()
			errs = append(errs, err)
			log.ErrorContext(ctx, "tick job failed", "job", j.Name, "err", err)
		} else if n > 0 {
			log.InfoContext(ctx, "tick job", "job", j.Name, "done", n)
		}
		res.Jobs[j.Name] = jr
	}
	return res, errors.Join(errs...)
}

// Func is the function for in-process invocation.
func Func(log *slog.Logger, jobs []Job) func(ctx context.Context, payload []byte) error {
	return func(ctx context.Context, _ []byte) error {
		_, err := Run(ctx, log, jobs)
		return err
	}
}

// Handler is the function over HTTP: any POST (the cron connector sends an
// empty body) runs a tick and answers its Result; 500 if a job failed.
func Handler(log *slog.Logger, jobs []Job) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := Run(r.Context(), log, jobs)
		w.Header().Set("Content-Type", "application/json")
		if err != nil {
			w.WriteHeader(http.StatusInternalServerError)
		}
		_ = json.NewEncoder(w).Encode(res)
	})
}
