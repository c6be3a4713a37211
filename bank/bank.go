package bank

import (
	"context"
	"errors"
	"io"
	"time"
)

// Errors callers branch on. Banks wrap them with %w.
var (
	// ErrNotFound: no object under the key, or no lease for the owner.
	ErrNotFound = errors.New("bank: not found")
	// ErrInvalidKey: the key breaks the key rules.
	ErrInvalidKey = errors.New("bank: invalid key")
	// ErrLeaseHeld: another live lease exists for the owner.
	ErrLeaseHeld = errors.New("bank: lease held")
	// ErrCorrupt: an object read back does not match the checksum it was
	// stored with.
	ErrCorrupt = errors.New("bank: object corrupt")
	// ErrLeaseLost: the writer's operation no longer holds its lease, so
	// it may not write (see Owned).
	ErrLeaseLost = errors.New("bank: operation lost its lease")
	// ErrUnavailable: the bank's service did not answer, or kept failing,
	// through every retry; the request may succeed later.
	ErrUnavailable = errors.New("bank: unavailable")
)

// Sort orders of List.
const (
	Asc  = "asc"
	Desc = "desc"
)

// ListOptions select keys: those starting with Prefix, in Sort order
// (ascending by default), strictly after Marker in that order, at most Limit
// (0: no limit). Marker is a full key.
type ListOptions struct {
	Prefix string
	Marker string
	Limit  int
	Sort   string
}

// Bank is a key/value object store with leases.
type Bank interface {
	// Put stores the bytes read from r under key, replacing any previous
	// object atomically: a reader sees the old object or the new one, never a
	// mix. r is read to EOF without being held whole in memory.
	Put(ctx context.Context, key string, r io.Reader) error
	// Get opens the object under key. The caller closes it.
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	// List returns full keys, see ListOptions. Listing is recursive.
	List(ctx context.Context, opts ListOptions) ([]string, error)
	// Delete removes the object; deleting a missing object is not an error.
	Delete(ctx context.Context, key string) error

	// AcquireLease creates a lease for owner valid for ttl. It fails with
	// ErrLeaseHeld if a live lease for owner already exists.
	AcquireLease(ctx context.Context, owner string, ttl time.Duration) error
	// RenewLease extends owner's lease to now+ttl; ErrNotFound if it has
	// expired or never existed.
	RenewLease(ctx context.Context, owner string, ttl time.Duration) error
	// LeaseValid reports whether owner's lease exists and has not expired.
	LeaseValid(ctx context.Context, owner string) (bool, error)
	// ReleaseLease ends owner's lease now; releasing a missing lease is not an
	// error.
	ReleaseLease(ctx context.Context, owner string) error
}
