package bank

import (
	"context"
	"fmt"
	"io"
)

// Owned is a Bank whose writes belong to one lease owner (an operation): it
// checks the owner's lease before every Put and Delete and refuses them with
// ErrLeaseLost once the lease is gone, so that an operation declared dead
// (and cleaned up) cannot write afterwards. Reads and leases pass through.
type Owned struct {
	Bank
	Owner string
}

func (o Owned) check(ctx context.Context, what, key string) error {
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
func (o Owned) Put(ctx context.Context, key string, r io.Reader) error {
	if err := o.check(ctx, "put", key); err != nil {
		return err
	}
	return o.Bank.Put(ctx, key, r)
}

// Delete implements Bank.
func (o Owned) Delete(ctx context.Context, key string) error {
	if err := o.check(ctx, "delete", key); err != nil {
		return err
	}
	return o.Bank.Delete(ctx, key)
}

// DeletePrefix implements PrefixDeleter, checking the lease once first.
func (o Owned) DeletePrefix(ctx context.Context, prefix string) error {
	if err := o.check(ctx, "delete prefix", prefix); err != nil {
		return err
	}
	return DeletePrefix(ctx, o.Bank, prefix)
}
