package swift

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/pouchdp/pouch/bank"
)

// transient reports whether a request that failed with err may succeed if
// sent again: no answer at all (a broken or refused connection, a timeout),
// or a 408, 422 (the body arrived damaged), 429 or 5xx answer (a proxy
// restarting, an overloaded server).
func transient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, bank.ErrCorrupt) {
		return false
	}
	switch code := statusOf(err); {
	case code == http.StatusRequestTimeout, code == http.StatusUnprocessableEntity,
		code == http.StatusTooManyRequests, code >= 500:
		return true
	case code != 0:
		return false
	}
	return true
}

// retry runs f until it succeeds, fails for good, ctx ends or the attempts
// run out, with jittered exponential backoff (base, doubling, at most 8 s).
func (b *Bank) retry(ctx context.Context, what string, f func() error) error {
	var err error
	for attempt := 1; ; attempt++ {
		if err = f(); err == nil || !transient(err) || attempt >= b.cfg.Attempts {
			if err != nil && transient(err) {
				return fmt.Errorf("%s: after %d attempts: %w: %w", what, attempt, bank.ErrUnavailable, err)
			}
			return err
		}
		d := min(b.cfg.RetryBase<<(attempt-1), 8*time.Second)
		d = d/2 + rand.N(d/2+1)
		b.cfg.Log.WarnContext(ctx, "swift request failed, retrying", "what", what, "attempt", attempt, "in", d, "err", err)
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%s: %w (last error: %v)", what, ctx.Err(), err)
		}
	}
}
