package bank

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// LeaseExpirer is a Bank that can tell when a lease expires (Swift's
// X-Delete-At, the fs bank's expiry): Owned then checks once per lease
// period instead of before every write.
type LeaseExpirer interface {
	// LeaseExpiry returns when owner's lease expires; ErrNotFound if it has
	// expired or never existed.
	LeaseExpiry(ctx context.Context, owner string) (time.Time, error)
}

// Owned is a Bank whose writes belong to one lease owner (an operation): it
// checks the owner's lease before Put and Delete and refuses them with
// ErrLeaseLost once the lease is gone, so that an operation declared dead
// (and cleaned up) cannot write afterwards. Reads and leases pass through.
//
// With a LeaseExpirer it trusts a lease until Margin before its expiry
// without asking again; only the owner releases its lease, and the reaper
// acts only after expiry, so a write started before then lands before any
// cleanup. Margin must cover the longest write.
type Owned struct {
	Bank
	Owner  string
	Margin time.Duration

	mu    sync.Mutex
	until time.Time // writes need no check before this
}

// NewOwned returns the bank b as seen by owner's writers.
func NewOwned(b Bank, owner string, margin time.Duration) *Owned {
	return &Owned{Bank: b, Owner: owner, Margin: margin}
}

func (o *Owned) check(ctx context.Context, what, key string) error {
	o.mu.Lock()
	trusted := time.Now().Before(o.until)
	o.mu.Unlock()
	if trusted {
		return nil
	}
	if le, ok := o.Bank.(LeaseExpirer); ok {
		exp, err := le.LeaseExpiry(ctx, o.Owner)
		switch {
		case errors.Is(err, ErrNotFound):
			return fmt.Errorf("%s %s refused: %s: %w", what, key, o.Owner, ErrLeaseLost)
		case err != nil:
			return fmt.Errorf("%s %s: check lease of %s: %w", what, key, o.Owner, err)
		}
		o.mu.Lock()
		o.until = exp.Add(-o.Margin)
		o.mu.Unlock()
		if time.Now().Before(exp) {
			return nil
		}
		return fmt.Errorf("%s %s refused: %s: %w", what, key, o.Owner, ErrLeaseLost)
	}
	valid, err := o.Bank.LeaseValid(ctx, o.Owner)
	if err != nil {
		return fmt.Errorf("%s %s: check lease of %s: %w", what, key, o.Owner, err)
	}
	if !valid {
		return fmt.Errorf("%s %s refused: %s: %w", what, key, o.Owner, ErrLeaseLost)
	}
	return nil
}

// Put implements Bank.
func (o *Owned) Put(ctx context.Context, key string, r io.Reader) error {
	if err := o.check(ctx, "put", key); err != nil {
		return err
	}
	return o.Bank.Put(ctx, key, r)
}

// Delete implements Bank.
func (o *Owned) Delete(ctx context.Context, key string) error {
	if err := o.check(ctx, "delete", key); err != nil {
		return err
	}
	return o.Bank.Delete(ctx, key)
}

// DeletePrefix implements PrefixDeleter, checking the lease once first.
func (o *Owned) DeletePrefix(ctx context.Context, prefix string) error {
	if err := o.check(ctx, "delete prefix", prefix); err != nil {
		return err
	}
	return DeletePrefix(ctx, o.Bank, prefix)
}
