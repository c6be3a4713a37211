package swift

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	ncw "github.com/ncw/swift/v2"

	"github.com/pouchdp/pouch/bank"
)

// expiry is the X-Delete-At of a lease of ttl from now: Swift keeps whole
// seconds, so the time is rounded up and the lease lives at least ttl (at
// most a second more). X-Delete-After would be truncated by the proxy and
// could end a short lease almost at once.
func expiry(ttl time.Duration) string {
	return strconv.FormatInt(int64(math.Ceil(float64(time.Now().Add(ttl).UnixNano())/1e9)), 10)
}

func leaseName(owner string) (string, error) {
	if _, err := bank.CleanKey(owner); err != nil || strings.Contains(owner, "/") {
		return "", fmt.Errorf("%w: lease owner %q", bank.ErrInvalidKey, owner)
	}
	return owner, nil
}

// AcquireLease implements bank.Bank: PUT If-None-Match: *. The body is a
// token of this call, so that a retried PUT whose first try did land is
// told apart from a lease held by someone else.
func (b *Bank) AcquireLease(ctx context.Context, owner string, ttl time.Duration) error {
	obj, err := leaseName(owner)
	if err != nil {
		return err
	}
	token := owner + " " + uuid.NewString()
	tries := 0
	err = b.retry(ctx, "acquire lease "+owner, func() error {
		tries++
		_, err := b.conn.ObjectPut(ctx, b.leases, obj, strings.NewReader(token), false, "", "text/plain",
			ncw.Headers{"If-None-Match": "*", "X-Delete-At": expiry(ttl)})
		return err
	})
	if statusOf(err) == http.StatusPreconditionFailed {
		if tries > 1 && b.leaseBody(ctx, obj) == token {
			return nil // our own earlier try
		}
		return fmt.Errorf("swift bank: lease %s: %w", owner, bank.ErrLeaseHeld)
	}
	if err != nil {
		return fmt.Errorf("swift bank: acquire lease %s: %w", owner, err)
	}
	return nil
}

func (b *Bank) leaseBody(ctx context.Context, obj string) string {
	rc, _, err := b.conn.ObjectOpen(ctx, b.leases, obj, false, nil)
	if err != nil {
		return ""
	}
	defer rc.Close()
	data, _ := io.ReadAll(io.LimitReader(rc, 1024))
	return string(data)
}

// RenewLease implements bank.Bank: a POST, which Swift answers 404 for an
// expired or deleted object, so it never brings a lease back.
func (b *Bank) RenewLease(ctx context.Context, owner string, ttl time.Duration) error {
	obj, err := leaseName(owner)
	if err != nil {
		return err
	}
	err = b.retry(ctx, "renew lease "+owner, func() error {
		return b.conn.ObjectUpdate(ctx, b.leases, obj, ncw.Headers{"X-Delete-At": expiry(ttl)})
	})
	if statusOf(err) == http.StatusNotFound {
		return fmt.Errorf("swift bank: lease %s: %w", owner, bank.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("swift bank: renew lease %s: %w", owner, err)
	}
	return nil
}

// LeaseValid implements bank.Bank: a HEAD of the lease object (Swift
// answers 404 once X-Delete-After has passed, before the expirer runs).
func (b *Bank) LeaseValid(ctx context.Context, owner string) (bool, error) {
	obj, err := leaseName(owner)
	if err != nil {
		return false, err
	}
	err = b.retry(ctx, "check lease "+owner, func() error {
		_, _, err := b.conn.Object(ctx, b.leases, obj)
		return err
	})
	switch {
	case err == nil:
		return true, nil
	case statusOf(err) == http.StatusNotFound:
		return false, nil
	}
	return false, fmt.Errorf("swift bank: check lease %s: %w", owner, err)
}

// LeaseExpiry implements bank.LeaseExpirer: the lease object's X-Delete-At.
func (b *Bank) LeaseExpiry(ctx context.Context, owner string) (time.Time, error) {
	obj, err := leaseName(owner)
	if err != nil {
		return time.Time{}, err
	}
	var h ncw.Headers
	err = b.retry(ctx, "check lease "+owner, func() error {
		var err error
		_, h, err = b.conn.Object(ctx, b.leases, obj)
		return err
	})
	if statusOf(err) == http.StatusNotFound {
		return time.Time{}, fmt.Errorf("swift bank: lease %s: %w", owner, bank.ErrNotFound)
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("swift bank: check lease %s: %w", owner, err)
	}
	at, err := strconv.ParseInt(h["X-Delete-At"], 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("swift bank: lease %s has no expiry (X-Delete-At %q)", owner, h["X-Delete-At"])
	}
	return time.Unix(at, 0), nil
}

// ReleaseLease implements bank.Bank.
func (b *Bank) ReleaseLease(ctx context.Context, owner string) error {
	obj, err := leaseName(owner)
	if err != nil {
		return err
	}
	if err := b.deleteObject(ctx, b.leases, obj); err != nil {
		return fmt.Errorf("swift bank: release lease %s: %w", owner, err)
	}
	return nil
}
