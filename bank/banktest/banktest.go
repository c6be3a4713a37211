package banktest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pouchdp/pouch/bank"
)

// Lease timing. ttl is short enough to keep the suite fast and long enough for
// banks whose expiry has one-second resolution; slack covers that resolution.
const (
	leaseTTL   = 2 * time.Second
	leaseSlack = 1100 * time.Millisecond
	longTTL    = time.Minute // for tests where expiry must not happen
)

type test struct {
	name     string
	parallel bool
	run      func(t *testing.T, b bank.Bank)
}

var tests = []test{
	{name: "put_get/empty", run: testPutGetEmpty},
	{name: "put_get/small", run: testPutGetSmall},
	{name: "put_get/large_stream", run: testPutGetLargeStream},
	{name: "put_get/overwrite", run: testOverwrite},
	{name: "put_get/valid_key_characters", run: testValidKeyCharacters},
	{name: "get/missing", run: testGetMissing},
	{name: "get/directory_like", run: testGetDirectoryLike},
	{name: "keys/normalised", run: testKeysNormalised},
	{name: "keys/invalid", run: testKeysInvalid},
	{name: "delete/removes", run: testDeleteRemoves},
	{name: "delete/missing", run: testDeleteMissing},
	{name: "delete/directory_like", run: testDeleteDirectoryLike},
	{name: "delete/then_put", run: testDeleteThenPut},
	{name: "list/prefix", run: testListPrefix},
	{name: "list/sort", run: testListSort},
	{name: "list/marker", run: testListMarker},
	{name: "list/limit", run: testListLimit},
	{name: "list/paginate", run: testListPaginate},
	{name: "list/invalid", run: testListInvalid},
	{name: "shared_prefixes", run: testSharedPrefixes},
	{name: "atomic_overwrite", run: testAtomicOverwrite},
	{name: "concurrent_siblings", run: testConcurrentSiblings},
	{name: "context/cancelled_put", run: testCancelledPut},
	{name: "context/failing_reader", run: testFailingReader},
	{name: "lease/acquire", parallel: true, run: testLeaseAcquire},
	{name: "lease/held", parallel: true, run: testLeaseHeld},
	{name: "lease/renew_extends", parallel: true, run: testLeaseRenew},
	{name: "lease/expires", parallel: true, run: testLeaseExpires},
	{name: "lease/release", parallel: true, run: testLeaseRelease},
	{name: "lease/missing", parallel: true, run: testLeaseMissing},
	{name: "lease/independent_owners", parallel: true, run: testLeaseIndependent},
	{name: "lease/renew_never_resurrects", parallel: true, run: testLeaseRenewRace},
}

// Run runs the conformance suite. open returns a fresh, empty bank; it is
// called once per subtest, possibly from parallel subtests.
func Run(t *testing.T, open func(t *testing.T) bank.Bank) {
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.parallel {
				t.Parallel()
			}
			b := open(t)
			if b == nil {
				t.Fatal("open returned a nil bank")
			}
			tc.run(t, b)
		})
	}
}

// --- helpers ---

func put(t *testing.T, b bank.Bank, key string, data []byte) {
	t.Helper()
	if err := b.Put(t.Context(), key, bytes.NewReader(data)); err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
}

func get(t *testing.T, b bank.Bank, key string) []byte {
	t.Helper()
	rc, err := b.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	data, err := io.ReadAll(rc)
	if err != nil {
		rc.Close()
		t.Fatalf("Get(%q): read: %v", key, err)
	}
	if err := rc.Close(); err != nil {
		t.Fatalf("Get(%q): close: %v", key, err)
	}
	return data
}

func wantData(t *testing.T, b bank.Bank, key string, want []byte) {
	t.Helper()
	if got := get(t, b, key); !bytes.Equal(got, want) {
		t.Fatalf("Get(%q) = %s, want %s", key, show(got), show(want))
	}
}

func wantNotFound(t *testing.T, b bank.Bank, key string) {
	t.Helper()
	rc, err := b.Get(t.Context(), key)
	if err == nil {
		rc.Close()
		t.Fatalf("Get(%q) succeeded, want ErrNotFound", key)
	}
	if !errors.Is(err, bank.ErrNotFound) {
		t.Fatalf("Get(%q) error = %v, want ErrNotFound", key, err)
	}
}

func del(t *testing.T, b bank.Bank, key string) {
	t.Helper()
	if err := b.Delete(t.Context(), key); err != nil {
		t.Fatalf("Delete(%q): %v", key, err)
	}
}

func list(t *testing.T, b bank.Bank, opts bank.ListOptions) []string {
	t.Helper()
	keys, err := b.List(t.Context(), opts)
	if err != nil {
		t.Fatalf("List(%+v): %v", opts, err)
	}
	return keys
}

func wantList(t *testing.T, b bank.Bank, opts bank.ListOptions, want []string) {
	t.Helper()
	if got := list(t, b, opts); !slices.Equal(got, want) {
		t.Fatalf("List(%+v) = %q, want %q", opts, got, want)
	}
}

func show(data []byte) string {
	if len(data) <= 64 {
		return fmt.Sprintf("%q", data)
	}
	return fmt.Sprintf("%d bytes %q...", len(data), data[:32])
}

func reversed(keys []string) []string {
	out := slices.Clone(keys)
	slices.Reverse(out)
	return out
}

// --- put and get ---

func testPutGetEmpty(t *testing.T, b bank.Bank) {
	put(t, b, "/empty", nil)
	wantData(t, b, "/empty", []byte{})
	wantList(t, b, bank.ListOptions{}, []string{"/empty"})
}

func testPutGetSmall(t *testing.T, b bank.Bank) {
	data := []byte(`{"version": "0.9", "status": "protecting"}` + "\x00\xff\n")
	put(t, b, "/checkpoints/cp1/index.json", data)
	wantData(t, b, "/checkpoints/cp1/index.json", data)
	wantList(t, b, bank.ListOptions{}, []string{"/checkpoints/cp1/index.json"})
}

// streamReader yields n position-dependent bytes and deliberately implements
// nothing but Read (no Seek, no WriterTo, no Len).
type streamReader struct {
	n, off int64
}

func (r *streamReader) Read(p []byte) (int, error) {
	if r.off >= r.n {
		return 0, io.EOF
	}
	if rest := r.n - r.off; int64(len(p)) > rest {
		p = p[:rest]
	}
	for i := range p {
		o := r.off + int64(i)
		p[i] = byte(o*31) ^ byte(o>>11)
	}
	r.off += int64(len(p))
	return len(p), nil
}

func testPutGetLargeStream(t *testing.T, b bank.Bank) {
	const size = 6<<20 + 12345
	key := "/checkpoints/cp1/resource-data/img/data_1"
	if err := b.Put(t.Context(), key, &streamReader{n: size}); err != nil {
		t.Fatalf("Put(%q, %d bytes stream): %v", key, int64(size), err)
	}
	want := sha256.New()
	io.Copy(want, &streamReader{n: size})

	rc, err := b.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	defer rc.Close()
	got := sha256.New()
	n, err := io.Copy(got, rc)
	if err != nil {
		t.Fatalf("Get(%q): read: %v", key, err)
	}
	if n != size {
		t.Fatalf("Get(%q) returned %d bytes, want %d", key, n, int64(size))
	}
	if !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
		t.Fatalf("Get(%q): content differs from what was put", key)
	}
}

func testOverwrite(t *testing.T, b bank.Bank) {
	put(t, b, "/o", []byte("first, longer value"))
	put(t, b, "/o", []byte("second"))
	wantData(t, b, "/o", []byte("second"))
	put(t, b, "/o", nil)
	wantData(t, b, "/o", []byte{})
	put(t, b, "/o", []byte("third"))
	wantData(t, b, "/o", []byte("third"))
	wantList(t, b, bank.ListOptions{}, []string{"/o"})
}

func testValidKeyCharacters(t *testing.T, b bank.Bank) {
	keys := []string{
		"/ABCXYZ/abcxyz/0123456789",
		"/x/_-.@",
		"/indices/by-provider/p1/proj/1500000000@cp-1",
		"/a/.../b",
		"/.hidden",
		"/a/..b",
	}
	for i, k := range keys {
		put(t, b, k, []byte(fmt.Sprint("value ", i)))
	}
	for i, k := range keys {
		wantData(t, b, k, []byte(fmt.Sprint("value ", i)))
	}
	want := slices.Clone(keys)
	slices.Sort(want)
	wantList(t, b, bank.ListOptions{}, want)
}

func testGetMissing(t *testing.T, b bank.Bank) {
	wantNotFound(t, b, "/missing")
	put(t, b, "/present", []byte("x"))
	wantNotFound(t, b, "/missing")
	wantNotFound(t, b, "/presen")
	wantNotFound(t, b, "/present2")
}

// Keys that are prefixes of other keys, or extend an existing key, are not
// objects.
func testGetDirectoryLike(t *testing.T, b bank.Bank) {
	put(t, b, "/d/e/f", []byte("f"))
	wantNotFound(t, b, "/d")
	wantNotFound(t, b, "/d/e")
	wantNotFound(t, b, "/d/e/f/g")
	wantNotFound(t, b, "/d/e/f/g/h")
}

// --- keys ---

func testKeysNormalised(t *testing.T, b bank.Bank) {
	put(t, b, "/a//b", []byte("1"))
	for _, k := range []string{"/a/b", "a/b", "/a//b", "//a/b", "a///b"} {
		wantData(t, b, k, []byte("1"))
	}
	put(t, b, "a/b", []byte("2"))
	wantData(t, b, "/a/b", []byte("2"))
	put(t, b, "///a/b", []byte("3"))
	wantData(t, b, "a//b", []byte("3"))
	wantList(t, b, bank.ListOptions{}, []string{"/a/b"})
	del(t, b, "a//b")
	wantNotFound(t, b, "/a/b")
	wantList(t, b, bank.ListOptions{}, nil)
}

var invalidKeys = []string{
	"",
	"/",
	"//",
	"a/",
	"/a/b/",
	".",
	"..",
	"/.",
	"/..",
	"/a/./b",
	"/a/../b",
	"a/..",
	"../a",
	"/a b",
	" ",
	"/a~b",
	"/a#b",
	"/a%20b",
	"/a?b",
	"/a*b",
	`/a\b`,
	"/a:b",
	"/a\nb",
	"/a\x00b",
	"/caf\u00e9",
}

func testKeysInvalid(t *testing.T, b bank.Bank) {
	ctx := t.Context()
	put(t, b, "/a/b", []byte("keep"))
	for _, k := range invalidKeys {
		if err := b.Put(ctx, k, strings.NewReader("x")); !errors.Is(err, bank.ErrInvalidKey) {
			t.Errorf("Put(%q) error = %v, want ErrInvalidKey", k, err)
		}
		rc, err := b.Get(ctx, k)
		if err == nil {
			rc.Close()
		}
		if !errors.Is(err, bank.ErrInvalidKey) {
			t.Errorf("Get(%q) error = %v, want ErrInvalidKey", k, err)
		}
		if err := b.Delete(ctx, k); !errors.Is(err, bank.ErrInvalidKey) {
			t.Errorf("Delete(%q) error = %v, want ErrInvalidKey", k, err)
		}
	}
	// Nothing was created, nothing was deleted.
	wantList(t, b, bank.ListOptions{}, []string{"/a/b"})
	wantData(t, b, "/a/b", []byte("keep"))
}

// --- delete ---

func testDeleteRemoves(t *testing.T, b bank.Bank) {
	put(t, b, "/k/1", []byte("1"))
	put(t, b, "/k/2", []byte("2"))
	del(t, b, "/k/1")
	wantNotFound(t, b, "/k/1")
	wantData(t, b, "/k/2", []byte("2"))
	wantList(t, b, bank.ListOptions{}, []string{"/k/2"})
	wantList(t, b, bank.ListOptions{Prefix: "/k/1"}, nil)
	del(t, b, "/k/2")
	wantList(t, b, bank.ListOptions{}, nil)
	wantList(t, b, bank.ListOptions{Prefix: "/k/"}, nil)
}

func testDeleteMissing(t *testing.T, b bank.Bank) {
	del(t, b, "/never")
	del(t, b, "/never/nested/deep")
	put(t, b, "/once", []byte("x"))
	del(t, b, "/once")
	del(t, b, "/once")
	wantNotFound(t, b, "/once")
}

// Deleting a key that is only a prefix of other keys, or that extends an
// existing key, deletes nothing.
func testDeleteDirectoryLike(t *testing.T, b bank.Bank) {
	put(t, b, "/d/e/f", []byte("f"))
	del(t, b, "/d")
	del(t, b, "/d/e")
	wantData(t, b, "/d/e/f", []byte("f"))
	del(t, b, "/d/e/f/g")
	del(t, b, "/d/e/f/g/h")
	wantData(t, b, "/d/e/f", []byte("f"))
	wantList(t, b, bank.ListOptions{}, []string{"/d/e/f"})
}

func testDeleteThenPut(t *testing.T, b bank.Bank) {
	put(t, b, "/r/s/t", []byte("1"))
	del(t, b, "/r/s/t")
	put(t, b, "/r/s/t", []byte("2"))
	wantData(t, b, "/r/s/t", []byte("2"))
	put(t, b, "/r/s/u", []byte("3"))
	wantList(t, b, bank.ListOptions{Prefix: "/r/"}, []string{"/r/s/t", "/r/s/u"})
}

// --- list ---

// listKeys in ascending byte order.
var listKeys = []string{"/a/b/1", "/a/b/2/x", "/a/bc/x", "/a/c", "/ab", "/z"}

func putListKeys(t *testing.T, b bank.Bank) {
	t.Helper()
	// Put in an order that is neither ascending nor descending.
	for _, i := range []int{3, 0, 5, 1, 4, 2} {
		put(t, b, listKeys[i], []byte(listKeys[i]))
	}
}

func testListPrefix(t *testing.T, b bank.Bank) {
	putListKeys(t, b)
	cases := []struct {
		prefix string
		want   []string
	}{
		{"", listKeys},
		{"/", listKeys},
		{"//", listKeys},
		{"/a", []string{"/a/b/1", "/a/b/2/x", "/a/bc/x", "/a/c", "/ab"}},
		{"/a/", []string{"/a/b/1", "/a/b/2/x", "/a/bc/x", "/a/c"}},
		{"/a/b", []string{"/a/b/1", "/a/b/2/x", "/a/bc/x"}},
		{"a/b", []string{"/a/b/1", "/a/b/2/x", "/a/bc/x"}},
		{"/a/b/", []string{"/a/b/1", "/a/b/2/x"}},
		{"a//b//", []string{"/a/b/1", "/a/b/2/x"}},
		{"/a/b/2", []string{"/a/b/2/x"}},
		{"/a/b/2/x", []string{"/a/b/2/x"}},
		{"/a/bc", []string{"/a/bc/x"}},
		{"/a/c", []string{"/a/c"}},
		{"/z", []string{"/z"}},
		{"/nope", nil},
		{"/nope/", nil},
		{"/nope/deeper/", nil},
		{"/a/c/", nil},
		{"/a/c/d", nil},
		{"/a/c/d/", nil},
		{"/a/b/1/", nil},
		{"/zz", nil},
	}
	for _, c := range cases {
		got, err := b.List(t.Context(), bank.ListOptions{Prefix: c.prefix})
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("List(Prefix %q) = %q, %v; want %q", c.prefix, got, err, c.want)
		}
	}
}

func testListSort(t *testing.T, b bank.Bank) {
	putListKeys(t, b)
	wantList(t, b, bank.ListOptions{}, listKeys)
	wantList(t, b, bank.ListOptions{Sort: bank.Asc}, listKeys)
	wantList(t, b, bank.ListOptions{Sort: bank.Desc}, reversed(listKeys))
	wantList(t, b, bank.ListOptions{Prefix: "/a/b", Sort: bank.Desc},
		[]string{"/a/bc/x", "/a/b/2/x", "/a/b/1"})
}

func testListMarker(t *testing.T, b bank.Bank) {
	putListKeys(t, b)
	cases := []struct {
		opts bank.ListOptions
		want []string
	}{
		{bank.ListOptions{Marker: "/a/bc/x"}, []string{"/a/c", "/ab", "/z"}},
		{bank.ListOptions{Marker: "a//bc/x"}, []string{"/a/c", "/ab", "/z"}},
		{bank.ListOptions{Marker: "/a/b/3"}, []string{"/a/bc/x", "/a/c", "/ab", "/z"}},
		{bank.ListOptions{Marker: "/0"}, listKeys},
		{bank.ListOptions{Marker: "/z"}, nil},
		{bank.ListOptions{Marker: "/zz"}, nil},
		{bank.ListOptions{Marker: "/a/bc/x", Sort: bank.Desc}, []string{"/a/b/2/x", "/a/b/1"}},
		{bank.ListOptions{Marker: "/a/b/3", Sort: bank.Desc}, []string{"/a/b/2/x", "/a/b/1"}},
		{bank.ListOptions{Marker: "/zz", Sort: bank.Desc}, reversed(listKeys)},
		{bank.ListOptions{Marker: "/a/b/1", Sort: bank.Desc}, nil},
		{bank.ListOptions{Marker: "/0", Sort: bank.Desc}, nil},
		{bank.ListOptions{Prefix: "/a/b/", Marker: "/a/b/1"}, []string{"/a/b/2/x"}},
		{bank.ListOptions{Prefix: "/a/", Marker: "/a/b/2/x", Sort: bank.Desc}, []string{"/a/b/1"}},
		{bank.ListOptions{Prefix: "/a/", Marker: "/0"}, []string{"/a/b/1", "/a/b/2/x", "/a/bc/x", "/a/c"}},
		{bank.ListOptions{Prefix: "/a/", Marker: "/b"}, nil},
	}
	for _, c := range cases {
		got, err := b.List(t.Context(), c.opts)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("List(%+v) = %q, %v; want %q", c.opts, got, err, c.want)
		}
	}
}

func testListLimit(t *testing.T, b bank.Bank) {
	putListKeys(t, b)
	cases := []struct {
		opts bank.ListOptions
		want []string
	}{
		{bank.ListOptions{Limit: 1}, listKeys[:1]},
		{bank.ListOptions{Limit: 2}, listKeys[:2]},
		{bank.ListOptions{Limit: len(listKeys)}, listKeys},
		{bank.ListOptions{Limit: 100}, listKeys},
		{bank.ListOptions{Limit: 2, Sort: bank.Desc}, []string{"/z", "/ab"}},
		{bank.ListOptions{Limit: 2, Marker: "/a/b/2/x"}, []string{"/a/bc/x", "/a/c"}},
		{bank.ListOptions{Limit: 2, Marker: "/ab", Sort: bank.Desc}, []string{"/a/c", "/a/bc/x"}},
		{bank.ListOptions{Limit: 2, Prefix: "/a/b/"}, []string{"/a/b/1", "/a/b/2/x"}},
		{bank.ListOptions{Limit: 1, Prefix: "/a/", Sort: bank.Desc}, []string{"/a/c"}},
	}
	for _, c := range cases {
		got, err := b.List(t.Context(), c.opts)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("List(%+v) = %q, %v; want %q", c.opts, got, err, c.want)
		}
	}
}

func testListPaginate(t *testing.T, b bank.Bank) {
	var all []string
	for i := range 23 {
		k := fmt.Sprintf("/p/%c/%02d", 'a'+i%4, i)
		if i%5 == 0 {
			k += "/deep/er"
		}
		all = append(all, k)
		put(t, b, k, []byte(k))
	}
	put(t, b, "/q/outside", []byte("x"))
	slices.Sort(all)

	for _, sort := range []string{bank.Asc, bank.Desc} {
		want := all
		if sort == bank.Desc {
			want = reversed(all)
		}
		for _, limit := range []int{1, 4, 7, 23} {
			var got []string
			marker := ""
			for page := 0; ; page++ {
				if page > len(all) {
					t.Fatalf("sort %s limit %d: pagination does not end", sort, limit)
				}
				keys := list(t, b, bank.ListOptions{Prefix: "/p/", Marker: marker, Limit: limit, Sort: sort})
				if len(keys) > limit {
					t.Fatalf("sort %s limit %d: page of %d keys", sort, limit, len(keys))
				}
				if len(keys) == 0 {
					break
				}
				got = append(got, keys...)
				marker = keys[len(keys)-1]
			}
			if !slices.Equal(got, want) {
				t.Errorf("sort %s limit %d: pages visited %q, want %q", sort, limit, got, want)
			}
		}
	}
}

func testListInvalid(t *testing.T, b bank.Bank) {
	put(t, b, "/a/b", []byte("x"))
	for _, p := range []string{"/a b", "/a/../", "/./", "/a~", "/a#/", "/a%"} {
		if _, err := b.List(t.Context(), bank.ListOptions{Prefix: p}); !errors.Is(err, bank.ErrInvalidKey) {
			t.Errorf("List(Prefix %q) error = %v, want ErrInvalidKey", p, err)
		}
	}
	for _, m := range []string{"/a b", "/a/../b", "/a~"} {
		if _, err := b.List(t.Context(), bank.ListOptions{Marker: m}); !errors.Is(err, bank.ErrInvalidKey) {
			t.Errorf("List(Marker %q) error = %v, want ErrInvalidKey", m, err)
		}
	}
}

// --- structure and concurrency ---

func testSharedPrefixes(t *testing.T, b bank.Bank) {
	keys := []string{
		"/x/index.json",
		"/x/resource-data/r1/data_1",
		"/x/resource-data/r1/data_2",
		"/x/resource-data/r1/metadata",
		"/x/resource-data/r1/status",
		"/x/resource-data/r2/status",
		"/xy/index.json",
	}
	for _, k := range keys {
		put(t, b, k, []byte("value of "+k))
	}
	for _, k := range keys {
		wantData(t, b, k, []byte("value of "+k))
	}
	wantList(t, b, bank.ListOptions{Prefix: "/x/"}, keys[:6])
	wantList(t, b, bank.ListOptions{Prefix: "/x/resource-data/r1/"}, keys[1:5])
	wantList(t, b, bank.ListOptions{Prefix: "/x/resource-data/r1/data_"}, keys[1:3])

	del(t, b, "/x/resource-data/r1/status")
	del(t, b, "/x/resource-data/r2/status")
	wantList(t, b, bank.ListOptions{Prefix: "/x"}, []string{
		"/x/index.json",
		"/x/resource-data/r1/data_1",
		"/x/resource-data/r1/data_2",
		"/x/resource-data/r1/metadata",
		"/xy/index.json",
	})
	wantData(t, b, "/x/index.json", []byte("value of /x/index.json"))
	wantData(t, b, "/x/resource-data/r1/data_1", []byte("value of /x/resource-data/r1/data_1"))
}

// testAtomicOverwrite: concurrent Puts of different values to one key while
// readers Get it. Every read must be exactly one written value.
func testAtomicOverwrite(t *testing.T, b bank.Bank) {
	const (
		writers = 4
		writes  = 20
		size    = 256 << 10
		readers = 4
		key     = "/atomic/object"
	)
	value := func(id int) []byte { return bytes.Repeat([]byte{byte(id)}, size) }
	// check returns "" if data is one whole value, else what is wrong.
	check := func(data []byte) string {
		if len(data) != size {
			return fmt.Sprintf("read %d bytes, want %d", len(data), size)
		}
		id := data[0]
		if int(id) > writers*writes {
			return fmt.Sprintf("read value %d that was never written", id)
		}
		for i, c := range data {
			if c != id {
				return fmt.Sprintf("read a mix: value %d up to byte %d, then %d", id, i, c)
			}
		}
		return ""
	}
	put(t, b, key, value(0))

	ctx := t.Context()
	var (
		wg, rg sync.WaitGroup
		done   = make(chan struct{})
		mu     sync.Mutex
		reads  int
	)
	for w := range writers {
		wg.Go(func() {
			for i := range writes {
				id := 1 + w*writes + i
				if err := b.Put(ctx, key, bytes.NewReader(value(id))); err != nil {
					t.Errorf("writer %d: Put: %v", w, err)
					return
				}
			}
		})
	}
	for r := range readers {
		rg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				rc, err := b.Get(ctx, key)
				if err != nil {
					t.Errorf("reader %d: Get: %v", r, err)
					return
				}
				data, err := io.ReadAll(rc)
				rc.Close()
				if err != nil {
					t.Errorf("reader %d: read: %v", r, err)
					return
				}
				if msg := check(data); msg != "" {
					t.Errorf("reader %d: %s", r, msg)
					return
				}
				mu.Lock()
				reads++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(done)
	rg.Wait()
	if reads == 0 {
		t.Errorf("readers completed no read")
	}
	if final := get(t, b, key); check(final) != "" {
		t.Errorf("final object: %s", check(final))
	} else if final[0] == 0 {
		t.Errorf("final object is the initial value: no write took effect")
	}
	wantList(t, b, bank.ListOptions{}, []string{key})
}

// testConcurrentSiblings puts and deletes keys under shared parents from
// several goroutines: none of the operations may fail, and each goroutine
// reads back what it wrote.
func testConcurrentSiblings(t *testing.T, b bank.Bank) {
	const workers, rounds = 4, 50
	ctx := t.Context()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range rounds {
				key := fmt.Sprintf("/s/w%d/deep/er/k", w)
				want := fmt.Sprintf("worker %d round %d", w, i)
				if err := b.Put(ctx, key, strings.NewReader(want)); err != nil {
					t.Errorf("worker %d round %d: Put: %v", w, i, err)
					return
				}
				data, err := bank.GetBytes(ctx, b, key)
				if err != nil {
					t.Errorf("worker %d round %d: Get: %v", w, i, err)
					return
				}
				if string(data) != want {
					t.Errorf("worker %d round %d: Get = %q, want %q", w, i, data, want)
					return
				}
				if err := b.Delete(ctx, key); err != nil {
					t.Errorf("worker %d round %d: Delete: %v", w, i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	wantList(t, b, bank.ListOptions{}, nil)
}

// --- context and failing readers ---

func testCancelledPut(t *testing.T, b bank.Bank) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := b.Put(ctx, "/c/new", strings.NewReader("data")); err == nil {
		t.Fatal("Put with a cancelled context succeeded")
	}
	wantNotFound(t, b, "/c/new")
	wantList(t, b, bank.ListOptions{}, nil)

	put(t, b, "/c/old", []byte("old"))
	if err := b.Put(ctx, "/c/old", strings.NewReader("new")); err == nil {
		t.Fatal("Put with a cancelled context over an existing object succeeded")
	}
	wantData(t, b, "/c/old", []byte("old"))

	// The bank still works.
	put(t, b, "/c/new", []byte("later"))
	wantData(t, b, "/c/new", []byte("later"))
	wantList(t, b, bank.ListOptions{}, []string{"/c/new", "/c/old"})
}

var errReader = errors.New("banktest: reader failed")

// failingReader returns n bytes, then fails.
type failingReader struct{ n int }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, errReader
	}
	k := min(len(p), r.n)
	for i := range p[:k] {
		p[i] = 'f'
	}
	r.n -= k
	return k, nil
}

func testFailingReader(t *testing.T, b bank.Bank) {
	ctx := t.Context()
	if err := b.Put(ctx, "/f/new", &failingReader{n: 100 << 10}); err == nil {
		t.Fatal("Put from a failing reader succeeded")
	}
	wantNotFound(t, b, "/f/new")
	wantList(t, b, bank.ListOptions{}, nil)

	put(t, b, "/f/old", []byte("old"))
	if err := b.Put(ctx, "/f/old", &failingReader{n: 10}); err == nil {
		t.Fatal("Put from a failing reader over an existing object succeeded")
	}
	wantData(t, b, "/f/old", []byte("old"))
	wantList(t, b, bank.ListOptions{}, []string{"/f/old"})
}

// --- leases ---

func acquire(t *testing.T, b bank.Bank, owner string, ttl time.Duration) {
	t.Helper()
	if err := b.AcquireLease(t.Context(), owner, ttl); err != nil {
		t.Fatalf("AcquireLease(%q, %v): %v", owner, ttl, err)
	}
	t.Cleanup(func() { b.ReleaseLease(context.Background(), owner) })
}

func renew(t *testing.T, b bank.Bank, owner string, ttl time.Duration) {
	t.Helper()
	if err := b.RenewLease(t.Context(), owner, ttl); err != nil {
		t.Fatalf("RenewLease(%q, %v): %v", owner, ttl, err)
	}
}

func release(t *testing.T, b bank.Bank, owner string) {
	t.Helper()
	if err := b.ReleaseLease(t.Context(), owner); err != nil {
		t.Fatalf("ReleaseLease(%q): %v", owner, err)
	}
}

func wantValid(t *testing.T, b bank.Bank, owner string, want bool) {
	t.Helper()
	ok, err := b.LeaseValid(t.Context(), owner)
	if err != nil {
		t.Fatalf("LeaseValid(%q): %v", owner, err)
	}
	if ok != want {
		t.Fatalf("LeaseValid(%q) = %v, want %v", owner, ok, want)
	}
}

func wantRenewNotFound(t *testing.T, b bank.Bank, owner string) {
	t.Helper()
	if err := b.RenewLease(t.Context(), owner, longTTL); !errors.Is(err, bank.ErrNotFound) {
		t.Fatalf("RenewLease(%q) error = %v, want ErrNotFound", owner, err)
	}
}

func wantHeld(t *testing.T, b bank.Bank, owner string, ttl time.Duration) {
	t.Helper()
	if err := b.AcquireLease(t.Context(), owner, ttl); !errors.Is(err, bank.ErrLeaseHeld) {
		t.Fatalf("second AcquireLease(%q) error = %v, want ErrLeaseHeld", owner, err)
	}
}

func sleepUntil(t time.Time) { time.Sleep(time.Until(t)) }

func testLeaseAcquire(t *testing.T, b bank.Bank) {
	owner := "6f1e2d3c-acquire"
	wantValid(t, b, owner, false)
	acquire(t, b, owner, longTTL)
	wantValid(t, b, owner, true)
	// Leases are not objects.
	wantList(t, b, bank.ListOptions{}, nil)
}

func testLeaseHeld(t *testing.T, b bank.Bank) {
	owner := "6f1e2d3c-held"
	acquire(t, b, owner, longTTL)
	wantHeld(t, b, owner, longTTL)
	wantHeld(t, b, owner, leaseTTL)
	// The failed attempts changed nothing.
	wantValid(t, b, owner, true)
	renew(t, b, owner, longTTL)
	wantValid(t, b, owner, true)
}

func testLeaseRenew(t *testing.T, b bank.Bank) {
	owner := "6f1e2d3c-renew"
	start := time.Now()
	acquire(t, b, owner, leaseTTL)
	time.Sleep(leaseTTL / 2)
	wantValid(t, b, owner, true)
	renew(t, b, owner, 2*leaseTTL) // now expires about start + 5s
	// Past the original expiry (with slack for coarse expiry), before the
	// renewed one.
	sleepUntil(start.Add(leaseTTL + leaseSlack))
	wantValid(t, b, owner, true)
	renew(t, b, owner, longTTL)
	wantValid(t, b, owner, true)
}

func testLeaseExpires(t *testing.T, b bank.Bank) {
	owner := "6f1e2d3c-expires"
	start := time.Now()
	acquire(t, b, owner, leaseTTL)
	wantValid(t, b, owner, true)
	sleepUntil(start.Add(leaseTTL + leaseSlack))
	wantValid(t, b, owner, false)
	wantRenewNotFound(t, b, owner)
	wantValid(t, b, owner, false)
	// An expired lease can be acquired again.
	acquire(t, b, owner, longTTL)
	wantValid(t, b, owner, true)
	wantHeld(t, b, owner, longTTL)
}

func testLeaseRelease(t *testing.T, b bank.Bank) {
	owner := "6f1e2d3c-release"
	acquire(t, b, owner, longTTL)
	release(t, b, owner)
	wantValid(t, b, owner, false)
	wantRenewNotFound(t, b, owner)
	release(t, b, owner)
	// Released, so it can be acquired again at once.
	acquire(t, b, owner, longTTL)
	wantValid(t, b, owner, true)
	release(t, b, owner)
	wantValid(t, b, owner, false)
}

func testLeaseMissing(t *testing.T, b bank.Bank) {
	owner := "6f1e2d3c-missing"
	wantValid(t, b, owner, false)
	wantRenewNotFound(t, b, owner)
	wantValid(t, b, owner, false)
	release(t, b, owner)
	wantValid(t, b, owner, false)
}

func testLeaseIndependent(t *testing.T, b bank.Bank) {
	a, c := "6f1e2d3c-owner-a", "6f1e2d3c-owner-c"
	acquire(t, b, a, longTTL)
	wantValid(t, b, c, false)
	acquire(t, b, c, leaseTTL)
	wantValid(t, b, a, true)
	wantValid(t, b, c, true)
	release(t, b, a)
	wantValid(t, b, a, false)
	wantValid(t, b, c, true)
	renew(t, b, c, longTTL)
	wantRenewNotFound(t, b, a)
	release(t, b, c)
	wantValid(t, b, c, false)
	wantList(t, b, bank.ListOptions{}, nil)
}

// testLeaseRenewRace: renews racing a release never bring the lease back.
// An operation whose lease was released (or expired) must stay dead.
func testLeaseRenewRace(t *testing.T, b bank.Bank) {
	ctx := context.Background()
	for i := range 20 {
		owner := fmt.Sprintf("race-owner-%d", i)
		if err := b.AcquireLease(ctx, owner, time.Minute); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				for range 30 {
					_ = b.RenewLease(ctx, owner, time.Minute) // fails once released
				}
			}()
		}
		close(start)
		time.Sleep(time.Millisecond)
		if err := b.ReleaseLease(ctx, owner); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		if valid, err := b.LeaseValid(ctx, owner); err != nil || valid {
			t.Fatalf("%s: valid=%v err=%v after release and racing renews", owner, valid, err)
		}
	}
}
