package swift

import (
	"bytes"
	"cmp"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	ncw "github.com/ncw/swift/v2"

	"github.com/pouchdp/pouch/bank"
	"github.com/pouchdp/pouch/shared/conf"
)

// Sections of a provider .conf this bank reads (Karbor's names).
const (
	ClientSection = "swift_client"
	BankSection   = "swift_bank_plugin"
)

// Metadata headers Pouch sets on every object.
const (
	hdrMD5  = "X-Object-Meta-Pouch-Md5"
	hdrSize = "X-Object-Meta-Pouch-Size"
	hdrSLO  = "X-Static-Large-Object"
)

// Config says how to reach Swift and how to store.
type Config struct {
	AuthURL     string // http://host:8080/auth/v1.0 (tempauth) or http://host:5000/v3 (Keystone)
	AuthVersion int    // 1 or 3; 0: guessed from AuthURL
	User, Key   string
	// Keystone v3 only.
	Project, UserDomain, ProjectDomain, Region string

	Container string // objects ("karbor"); segments and leases go to <Container>_segments and _leases
	// SegmentSize: objects larger than this are static large objects of
	// segments this big (64 MiB). Memory in use by one Put is at most
	// (Concurrency+1)*SegmentSize.
	SegmentSize int64
	Concurrency int           // segments uploaded at once (4)
	Attempts    int           // tries of each request on transient errors (6)
	RetryBase   time.Duration // first backoff (250ms), doubling up to 8s
	Timeout     time.Duration // a request idle this long fails (60s)
	Transport   http.RoundTripper
	Log         *slog.Logger
}

func (c *Config) defaults() {
	c.Container = cmp.Or(c.Container, "karbor")
	if c.SegmentSize <= 0 {
		c.SegmentSize = 64 << 20
	}
	c.Concurrency = cmp.Or(max(c.Concurrency, 0), 4)
	c.Attempts = cmp.Or(max(c.Attempts, 0), 6)
	c.RetryBase = cmp.Or(max(c.RetryBase, 0), 250*time.Millisecond)
	c.Timeout = cmp.Or(max(c.Timeout, 0), 60*time.Second)
	if c.AuthVersion == 0 {
		c.AuthVersion = 1
		if strings.Contains(c.AuthURL, "/v3") {
			c.AuthVersion = 3
		}
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
}

// Bank is a Swift bank.
type Bank struct {
	cfg      Config
	conn     *ncw.Connection
	objects  string
	segments string
	leases   string
	buffers  chan []byte // segment buffers: bounds the memory of all Puts
}

var _ bank.Bank = (*Bank)(nil)

// New connects to Swift and creates the bank's containers if needed.
func New(ctx context.Context, cfg Config) (*Bank, error) {
	cfg.defaults()
	if cfg.AuthURL == "" || cfg.User == "" {
		return nil, errors.New("swift bank: auth URL and user are required")
	}
	if strings.ContainsAny(cfg.Container, "/") {
		return nil, fmt.Errorf("swift bank: bad container name %q", cfg.Container)
	}
	conn := &ncw.Connection{
		AuthUrl: cfg.AuthURL, AuthVersion: cfg.AuthVersion, UserName: cfg.User, ApiKey: cfg.Key,
		Tenant: cfg.Project, Domain: cfg.UserDomain, TenantDomain: cmp.Or(cfg.ProjectDomain, cfg.UserDomain),
		Region: cfg.Region, Transport: cfg.Transport, Timeout: cfg.Timeout, ConnectTimeout: 10 * time.Second,
		Retries:   1, // a re-authentication; transient errors are retried here, with backoff
		UserAgent: "pouch-swift-bank",
	}
	b := &Bank{cfg: cfg, conn: conn, objects: cfg.Container, segments: cfg.Container + "_segments",
		leases: cfg.Container + "_leases", buffers: make(chan []byte, cfg.Concurrency+1)}
	for range cfg.Concurrency + 1 {
		b.buffers <- nil // allocated on first use
	}
	err := b.retry(ctx, "authenticate", func() error { return conn.Authenticate(ctx) })
	if err != nil {
		return nil, fmt.Errorf("swift bank: %w", err)
	}
	for _, c := range []string{b.objects, b.segments, b.leases} {
		if err := b.retry(ctx, "create container "+c, func() error { return conn.ContainerCreate(ctx, c, nil) }); err != nil {
			return nil, fmt.Errorf("swift bank: %w", err)
		}
	}
	return b, nil
}

// FromConfig builds the bank from a provider configuration file: Karbor's
// [swift_client] (swift_auth_url, swift_auth_version, swift_user,
// swift_key, swift_tenant_name, swift_user_domain_name,
// swift_project_domain_name, swift_region_name) and [swift_bank_plugin]
// (bank_swift_object_container, segment_size, upload_concurrency,
// request_attempts).
func FromConfig(cfg *conf.File) (bank.Bank, error) {
	var c Config
	var err error
	if c.AuthURL, err = cfg.Required(ClientSection, "swift_auth_url"); err != nil {
		return nil, err
	}
	if c.User, err = cfg.Required(ClientSection, "swift_user"); err != nil {
		return nil, err
	}
	c.Key = cfg.String(ClientSection, "swift_key", "")
	c.Project = cfg.String(ClientSection, "swift_tenant_name", "")
	c.UserDomain = cfg.String(ClientSection, "swift_user_domain_name", "Default")
	c.ProjectDomain = cfg.String(ClientSection, "swift_project_domain_name", "Default")
	c.Region = cfg.String(ClientSection, "swift_region_name", "")
	if c.AuthVersion, err = cfg.Int(ClientSection, "swift_auth_version", 0); err != nil {
		return nil, err
	}
	c.Container = cfg.String(BankSection, "bank_swift_object_container", "karbor")
	seg, err := cfg.Int(BankSection, "segment_size", 64<<20)
	if err != nil {
		return nil, err
	}
	if seg < 1<<20 {
		return nil, cfg.Errorf(BankSection, "segment_size", "must be at least 1 MiB (Swift's smallest SLO segment), not %d", seg)
	}
	c.SegmentSize = int64(seg)
	if c.Concurrency, err = cfg.Int(BankSection, "upload_concurrency", 4); err != nil {
		return nil, err
	}
	if c.Attempts, err = cfg.Int(BankSection, "request_attempts", 6); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	b, err := New(ctx, c)
	if err != nil {
		return nil, cfg.Errorf(ClientSection, "swift_auth_url", "%v", err)
	}
	return b, nil
}

// SetLogger sets where the bank logs (retries, leftovers); the provider
// loader calls it.
func (b *Bank) SetLogger(log *slog.Logger) { b.cfg.Log = log }

// name maps a key to its object name.
func name(key string) (string, error) {
	k, err := bank.CleanKey(key)
	if err != nil {
		return "", err
	}
	return k[1:], nil
}

func statusOf(err error) int {
	var se *ncw.Error
	if errors.As(err, &se) {
		return se.StatusCode
	}
	switch {
	case errors.Is(err, ncw.ObjectNotFound), errors.Is(err, ncw.ContainerNotFound):
		return http.StatusNotFound
	}
	return 0
}

// Put implements bank.Bank: one PUT for an object up to one segment, a
// static large object above. The segments of a large object replaced by
// this Put are deleted after it; those of one replaced by a small object
// only with the object's Delete (or its prefix's).
func (b *Bank) Put(ctx context.Context, key string, r io.Reader) error {
	obj, err := name(key)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("swift bank: put %s: %w", key, err)
	}
	// Small objects (most metadata) need no segment buffer.
	head := make([]byte, smallObject)
	n, rerr := io.ReadFull(r, head)
	switch {
	case rerr == io.EOF || rerr == io.ErrUnexpectedEOF:
		err = b.putSmall(ctx, obj, head[:n])
	case rerr != nil:
		err = rerr
	default:
		err = b.putStream(ctx, obj, head, r)
	}
	if err != nil {
		return fmt.Errorf("swift bank: put %s: %w", key, err)
	}
	return nil
}

// smallObject: objects up to this size are read whole before any buffer of
// a segment's size is taken.
const smallObject = 64 << 10

// putStream writes an object whose first bytes are head: one PUT if it fits
// in one segment, else a static large object.
func (b *Bank) putStream(ctx context.Context, obj string, head []byte, r io.Reader) error {
	buf, err := b.buffer(ctx)
	if err != nil {
		return err
	}
	n := copy(buf, head)
	m, rerr := io.ReadFull(r, buf[n:])
	n += m
	switch {
	case rerr == io.EOF || rerr == io.ErrUnexpectedEOF:
		defer b.release(buf)
		return b.putSmall(ctx, obj, buf[:n])
	case rerr != nil:
		b.release(buf)
		return rerr
	}
	// A stream of exactly one segment is a plain object: look a byte ahead.
	var one [1]byte
	k, perr := io.ReadFull(r, one[:])
	switch {
	case perr == io.EOF:
		defer b.release(buf)
		return b.putSmall(ctx, obj, buf[:n])
	case perr != nil:
		b.release(buf)
		return perr
	}
	r = io.MultiReader(bytes.NewReader(one[:k]), r)
	wasSLO, err := b.isSLO(ctx, obj)
	if err != nil && !errors.Is(err, bank.ErrNotFound) {
		b.release(buf)
		return err
	}
	prefix, err := b.putLarge(ctx, obj, buf, r)
	if err != nil || !wasSLO {
		return err
	}
	// The replaced object's segments: every other upload's under the key.
	if err := b.deletePrefixIn(ctx, b.segments, obj+"/", prefix); err != nil {
		b.cfg.Log.WarnContext(ctx, "segments of a replaced object not deleted", "object", obj, "err", err)
	}
	return nil
}

func (b *Bank) putSmall(ctx context.Context, obj string, data []byte) error {
	sum := md5.Sum(data)
	etag := hex.EncodeToString(sum[:])
	h := ncw.Headers{hdrMD5: etag, hdrSize: strconv.Itoa(len(data))}
	return b.retry(ctx, "put "+obj, func() error {
		_, err := b.conn.ObjectPut(ctx, b.objects, obj, bytes.NewReader(data), true, etag, "application/octet-stream", h)
		return err
	})
}

// buffer takes a segment buffer, waiting while all are in use.
func (b *Bank) buffer(ctx context.Context) ([]byte, error) {
	select {
	case buf := <-b.buffers:
		if buf == nil {
			buf = make([]byte, b.cfg.SegmentSize)
		}
		return buf, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (b *Bank) release(buf []byte) { b.buffers <- buf }

// Get implements bank.Bank. The reader checks the object's MD5 at EOF and
// resumes a broken read.
func (b *Bank) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	obj, err := name(key)
	if err != nil {
		return nil, err
	}
	rd := &reader{b: b, ctx: ctx, obj: obj, sum: md5.New()}
	if err := rd.open(); err != nil {
		return nil, fmt.Errorf("swift bank: get %s: %w", key, err)
	}
	return rd, nil
}

// Delete implements bank.Bank; a static large object goes with its segments.
func (b *Bank) Delete(ctx context.Context, key string) error {
	obj, err := name(key)
	if err != nil {
		return err
	}
	slo, err := b.isSLO(ctx, obj)
	if errors.Is(err, bank.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("swift bank: delete %s: %w", key, err)
	}
	if err := b.deleteObject(ctx, b.objects, obj); err != nil {
		return fmt.Errorf("swift bank: delete %s: %w", key, err)
	}
	if slo {
		// Every upload's segments of this key, replaced ones included.
		return b.deletePrefixIn(ctx, b.segments, obj+"/", "")
	}
	return nil
}

func (b *Bank) deleteObject(ctx context.Context, container, obj string) error {
	err := b.retry(ctx, "delete "+obj, func() error { return b.conn.ObjectDelete(ctx, container, obj) })
	if statusOf(err) == http.StatusNotFound {
		return nil
	}
	return err
}

// List implements bank.Bank.
func (b *Bank) List(ctx context.Context, opts bank.ListOptions) ([]string, error) {
	prefix, err := bank.CleanPrefix(opts.Prefix)
	if err != nil {
		return nil, err
	}
	if opts.Limit < 0 {
		return nil, fmt.Errorf("%w: negative limit %d", bank.ErrInvalidKey, opts.Limit)
	}
	var marker string
	if opts.Marker != "" {
		if marker, err = name(opts.Marker); err != nil {
			return nil, err
		}
	}
	desc := false
	switch opts.Sort {
	case "", bank.Asc:
	case bank.Desc:
		desc = true
	default:
		return nil, fmt.Errorf("%w: sort %q: want asc or desc", bank.ErrInvalidKey, opts.Sort)
	}
	var keys []string
	for {
		page := 10000
		if opts.Limit > 0 {
			page = min(page, opts.Limit-len(keys))
		}
		q := url.Values{"limit": {strconv.Itoa(page)}, "prefix": {prefix[1:]}}
		if marker != "" {
			q.Set("marker", marker)
		}
		if desc {
			q.Set("reverse", "true")
		}
		var names []string
		err := b.retry(ctx, "list", func() error {
			resp, _, err := b.call(ctx, ncw.RequestOpts{Container: b.objects, Operation: "GET", Parameters: q})
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			data, err := io.ReadAll(resp.Body)
			if err != nil {
				return err
			}
			names = strings.Fields(string(data))
			return nil
		})
		if statusOf(err) == http.StatusNotFound {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("swift bank: list %s: %w", prefix, err)
		}
		for _, n := range names {
			keys = append(keys, "/"+n)
		}
		if len(names) < page || (opts.Limit > 0 && len(keys) >= opts.Limit) {
			return keys, nil
		}
		marker = names[len(names)-1]
	}
}

// call runs a request on the storage URL.
func (b *Bank) call(ctx context.Context, p ncw.RequestOpts) (*http.Response, ncw.Headers, error) {
	u, err := b.conn.GetStorageUrl(ctx)
	if err != nil {
		return nil, nil, err
	}
	// Called by Call under the connection's auth lock, so it reads the field.
	p.OnReAuth = func() (string, error) { return b.conn.StorageUrl, nil }
	return b.conn.Call(ctx, u, p)
}
