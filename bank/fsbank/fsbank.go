package fsbank

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/pouchdp/pouch/bank"
	"github.com/pouchdp/pouch/shared/conf"
)

// Section is the provider .conf section this bank reads.
const Section = "file_system_bank_plugin"

// tmpMark is in every temporary file name; it is not a key character, so a
// temporary file can never be taken for an object.
const tmpMark = "~tmp"

// Bank stores objects as files under a directory.
type Bank struct {
	objects string // <path>/<container>
	leases  string // <path>/leases
	now     func() time.Time
}

var _ bank.Bank = (*Bank)(nil)

// New opens (creating if needed) a bank rooted at dir with the given container.
func New(dir, container string) (*Bank, error) {
	if container == "" || container == "leases" || strings.ContainsAny(container, `/\~`) {
		return nil, fmt.Errorf("fsbank: bad container name %q", container)
	}
	b := &Bank{objects: filepath.Join(dir, container), leases: filepath.Join(dir, "leases"), now: time.Now}
	for _, d := range []string{b.objects, b.leases} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return nil, fmt.Errorf("fsbank: %w", err)
		}
	}
	return b, nil
}

// FromConfig builds the bank from a provider configuration file.
func FromConfig(cfg *conf.File) (bank.Bank, error) {
	dir, err := cfg.Required(Section, "file_system_bank_path")
	if err != nil {
		return nil, err
	}
	b, err := New(dir, cfg.String(Section, "bank_object_container", "karbor"))
	if err != nil {
		return nil, cfg.Errorf(Section, "file_system_bank_path", "%v", err)
	}
	return b, nil
}

// missing reports whether err says a path does not exist, including because
// one of its parents is a file (an object) rather than a directory.
func missing(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

func (b *Bank) path(key string) (string, string, error) {
	k, err := bank.CleanKey(key)
	if err != nil {
		return "", "", err
	}
	return k, filepath.Join(b.objects, filepath.FromSlash(k)), nil
}

// Put implements bank.Bank.
func (b *Bank) Put(ctx context.Context, key string, r io.Reader) error {
	k, p, err := b.path(key)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("fsbank: put %s: %w", k, err)
	}
	if err := writeAtomic(ctx, p, r); err != nil {
		return fmt.Errorf("fsbank: put %s: %w", k, err)
	}
	return nil
}

// writeAtomic writes r to a temporary file beside p, fsyncs it, renames it to
// p and fsyncs the directory.
func writeAtomic(ctx context.Context, p string, r io.Reader) error {
	dir := filepath.Dir(p)
	var f *os.File
	var err error
	// A concurrent Delete may remove an emptied parent while MkdirAll builds
	// the path or before CreateTemp fills it: try again.
	for range 10 {
		if err = os.MkdirAll(dir, 0o750); err == nil {
			f, err = os.CreateTemp(dir, filepath.Base(p)+tmpMark+"*")
		}
		if err == nil || !errors.Is(err, fs.ErrNotExist) {
			break
		}
	}
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after a successful rename
	if _, err := io.Copy(f, ctxReader{ctx, r}); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, p); err != nil {
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// ctxReader stops a long copy when the context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// Get implements bank.Bank.
func (b *Bank) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	k, p, err := b.path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if missing(err) {
		return nil, fmt.Errorf("fsbank: %s: %w", k, bank.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("fsbank: get %s: %w", k, err)
	}
	if st, err := f.Stat(); err == nil && st.IsDir() {
		f.Close()
		return nil, fmt.Errorf("fsbank: %s: %w", k, bank.ErrNotFound)
	}
	return f, nil
}

// Delete implements bank.Bank. Directories left empty are removed.
func (b *Bank) Delete(ctx context.Context, key string) error {
	k, p, err := b.path(key)
	if err != nil {
		return err
	}
	st, err := os.Lstat(p)
	if missing(err) || err == nil && st.IsDir() { // a directory is no object
		return nil
	}
	if err == nil {
		err = os.Remove(p)
	}
	if err != nil && !missing(err) {
		return fmt.Errorf("fsbank: delete %s: %w", k, err)
	}
	// Rmdir, not os.Remove: it never removes a file, which may be an object
	// put there meanwhile.
	for dir := filepath.Dir(p); dir != b.objects && strings.HasPrefix(dir, b.objects); dir = filepath.Dir(dir) {
		if syscall.Rmdir(dir) != nil { // not empty (or gone): stop
			break
		}
	}
	return nil
}

// List implements bank.Bank.
func (b *Bank) List(ctx context.Context, opts bank.ListOptions) ([]string, error) {
	prefix, err := bank.CleanPrefix(opts.Prefix)
	if err != nil {
		return nil, err
	}
	if opts.Marker != "" {
		if opts.Marker, err = bank.CleanKey(opts.Marker); err != nil {
			return nil, err
		}
	}
	// Walk the deepest directory that holds every key with the prefix.
	root := b.objects + filepath.FromSlash(prefix[:strings.LastIndex(prefix, "/")+1])
	var keys []string
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if missing(err) { // gone meanwhile, or the prefix runs through an object
				return nil
			}
			return err
		}
		if d.IsDir() || strings.Contains(d.Name(), tmpMark) {
			return nil
		}
		k := filepath.ToSlash(strings.TrimPrefix(p, b.objects))
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
		return ctx.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("fsbank: list %s: %w", prefix, err)
	}
	return bank.Page(keys, opts), nil
}

type leaseFile struct {
	Owner     string    `json:"owner"`
	ExpiresAt time.Time `json:"expires_at"`
}

func (b *Bank) leasePath(owner string) (string, error) {
	if owner == "" || strings.ContainsAny(owner, `/\~`) || owner == "." || owner == ".." {
		return "", fmt.Errorf("fsbank: bad lease owner %q", owner)
	}
	return filepath.Join(b.leases, owner), nil
}

func (b *Bank) readLease(p string) (leaseFile, bool, error) {
	var l leaseFile
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return l, false, nil
	}
	if err != nil {
		return l, false, err
	}
	if err := json.Unmarshal(data, &l); err != nil {
		return l, false, fmt.Errorf("lease %s: %w", p, err)
	}
	return l, b.now().Before(l.ExpiresAt), nil
}

func (b *Bank) writeLease(ctx context.Context, p, owner string, ttl time.Duration) error {
	data, _ := json.Marshal(leaseFile{Owner: owner, ExpiresAt: b.now().Add(ttl)})
	return writeAtomic(ctx, p, strings.NewReader(string(data)))
}

// lockLeases runs f holding an exclusive flock on the leases directory's lock
// file, so that a check and a write of one lease are one step, across
// goroutines and processes: a renew can never bring back a lease that was
// released or expired in between.
func (b *Bank) lockLeases(f func() error) error {
	lf, err := os.OpenFile(filepath.Join(b.leases, "~lock"), os.O_CREATE|os.O_RDWR, 0o640)
	if err != nil {
		return fmt.Errorf("fsbank: lease lock: %w", err)
	}
	defer lf.Close()
	if err := syscall.Flock(int(lf.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("fsbank: lease lock: %w", err)
	}
	defer syscall.Flock(int(lf.Fd()), syscall.LOCK_UN)
	return f()
}

// AcquireLease implements bank.Bank.
func (b *Bank) AcquireLease(ctx context.Context, owner string, ttl time.Duration) error {
	return b.setLease(ctx, owner, ttl, false)
}

// RenewLease implements bank.Bank.
func (b *Bank) RenewLease(ctx context.Context, owner string, ttl time.Duration) error {
	return b.setLease(ctx, owner, ttl, true)
}

// setLease writes owner's lease valid for ttl: a renew needs a live lease,
// an acquire needs none.
func (b *Bank) setLease(ctx context.Context, owner string, ttl time.Duration, renew bool) error {
	p, err := b.leasePath(owner)
	if err != nil {
		return err
	}
	return b.lockLeases(func() error {
		_, live, err := b.readLease(p)
		switch {
		case err != nil:
			return err
		case renew && !live:
			return fmt.Errorf("fsbank: lease %s: %w", owner, bank.ErrNotFound)
		case !renew && live:
			return fmt.Errorf("fsbank: lease %s: %w", owner, bank.ErrLeaseHeld)
		}
		return b.writeLease(ctx, p, owner, ttl)
	})
}

// LeaseValid implements bank.Bank.
func (b *Bank) LeaseValid(ctx context.Context, owner string) (bool, error) {
	p, err := b.leasePath(owner)
	if err != nil {
		return false, err
	}
	_, live, err := b.readLease(p)
	return live, err
}

// LeaseExpiry implements bank.LeaseExpirer.
func (b *Bank) LeaseExpiry(ctx context.Context, owner string) (time.Time, error) {
	p, err := b.leasePath(owner)
	if err != nil {
		return time.Time{}, err
	}
	l, live, err := b.readLease(p)
	if err != nil {
		return time.Time{}, err
	}
	if !live {
		return time.Time{}, fmt.Errorf("fsbank: lease %s: %w", owner, bank.ErrNotFound)
	}
	return l.ExpiresAt, nil
}

// ReleaseLease implements bank.Bank.
func (b *Bank) ReleaseLease(ctx context.Context, owner string) error {
	p, err := b.leasePath(owner)
	if err != nil {
		return err
	}
	return b.lockLeases(func() error {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("fsbank: release lease %s: %w", owner, err)
		}
		return nil
	})
}
