package openstack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/pouchdp/pouch/shared/protection"
)

// Poll says how often and how long to wait for a cloud resource.
type Poll struct {
	Interval time.Duration
	Timeout  time.Duration
}

// ErrTimeout: a resource did not reach the awaited status in time.
var ErrTimeout = errors.New("timed out")

// Check looks at a resource once: its status, whether the wait is over,
// and an error that ends the wait (a failure status, a 404).
type Check func(ctx context.Context) (status string, done bool, err error)

// Wait calls check until it is done, fails, or p.Timeout passes: after
// 1 s, then twice as long each time up to p.Interval, so that a short wait
// is not rounded up to a whole interval. Transient cloud errors (5xx,
// broken connections) are retried until the timeout.
func (p Poll) Wait(ctx context.Context, what string, check Check) error {
	limit := cmpDur(p.Interval, 2*time.Second)
	interval := min(time.Second, limit)
	deadline := time.Now().Add(cmpDur(p.Timeout, 30*time.Minute))
	last := ""
	for {
		status, done, err := check(ctx)
		if err != nil && !IsTransient(err) {
			return fmt.Errorf("%s: %w", what, err)
		}
		if err == nil {
			last = status
			if done {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w after %s waiting for %s (last status %q)", ErrTimeout, p.Timeout, what, last)
		}
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return context.Cause(ctx)
		case <-t.C:
		}
		interval = min(2*interval, limit)
	}
}

func cmpDur(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// IsTransient reports whether a cloud call's error is worth retrying: a
// 5xx, 408, 409 of a resource busy elsewhere is not, 429, or a broken
// connection.
func IsTransient(err error) bool {
	if protection.IsTransient(err) {
		return true
	}
	for _, code := range []int{http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
		http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout} {
		if gophercloud.ResponseCodeIs(err, code) {
			return true
		}
	}
	var ne net.Error
	return errors.As(err, &ne)
}

// Classify turns a cloud call's error into one the engine understands:
// transient ones are marked protection.Transient, a 404 wraps
// protection.ErrNotFound.
func Classify(err error) error {
	switch {
	case err == nil:
		return nil
	case gophercloud.ResponseCodeIs(err, http.StatusNotFound):
		return fmt.Errorf("%w: %w", protection.ErrNotFound, err)
	case IsTransient(err):
		return protection.Transient(err)
	}
	return err
}

// IsNotFound reports whether a cloud call said 404.
func IsNotFound(err error) bool {
	return gophercloud.ResponseCodeIs(err, http.StatusNotFound) || errors.Is(err, protection.ErrNotFound)
}
