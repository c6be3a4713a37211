package hook

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"

	"github.com/pouchdp/pouch/shared/engine"
)

// maxTask bounds a task payload (one resource and a few ids).
const maxTask = 1 << 20

// Func is the function for in-process invocation.
func Func(e *engine.Engine) func(ctx context.Context, payload []byte) error {
	return e.RunTask
}

// Handler is the function over HTTP: POST a task; 200 once its outcome is
// recorded, 400 for an unreadable task, 500 when it could not be recorded
// (the caller may deliver it again: completion is idempotent).
func Handler(e *engine.Engine, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "POST a task", http.StatusMethodNotAllowed)
			return
		}
		payload, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxTask))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := e.RunTask(r.Context(), payload); err != nil {
			code := http.StatusInternalServerError
			if errors.Is(err, engine.ErrInvalid) {
				code = http.StatusBadRequest
			}
			log.ErrorContext(r.Context(), "hook task failed", "err", err)
			http.Error(w, err.Error(), code)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}
