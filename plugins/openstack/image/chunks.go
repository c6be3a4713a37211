package image

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/pouchdp/pouch/bank"
	"github.com/pouchdp/pouch/shared/protection"
)

// ErrCorrupt marks protected data that does not match its metadata.
var ErrCorrupt = errors.New("image data is corrupt")

const dataObject = "data_"

func dataName(n int) string { return dataObject + strconv.Itoa(n) }

// chunkNumbers lists the numbers n of the resource's data_<n> objects,
// sorted.
func chunkNumbers(ctx context.Context, hc *protection.HookContext) ([]int, error) {
	prefix := hc.DataPrefix() + dataObject
	keys, err := hc.Bank.List(ctx, bank.ListOptions{Prefix: prefix})
	if err != nil {
		return nil, fmt.Errorf("list %s*: %w", prefix, err)
	}
	var ns []int
	for _, k := range keys {
		n, err := strconv.Atoi(strings.TrimPrefix(k, prefix))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%w: unexpected object %s", ErrCorrupt, k)
		}
		ns = append(ns, n)
	}
	slices.Sort(ns)
	return ns, nil
}

// checkChunks makes sure the data objects are exactly data_1 ..
// data_<chunks_num>.
func checkChunks(ctx context.Context, hc *protection.HookContext, md *Metadata) error {
	ns, err := chunkNumbers(ctx, hc)
	if err != nil {
		return err
	}
	var missing []string
	for n := 1; n <= md.ChunksNum; n++ {
		if _, found := slices.BinarySearch(ns, n); !found {
			missing = append(missing, dataName(n))
		}
	}
	switch {
	case len(missing) == 1:
		return fmt.Errorf("%w: %s is missing (of %d chunks)", ErrCorrupt, missing[0], md.ChunksNum)
	case len(missing) > 1:
		return fmt.Errorf("%w: %d of %d chunks are missing: %s", ErrCorrupt, len(missing), md.ChunksNum,
			strings.Join(missing[:min(len(missing), 5)], ", "))
	case len(ns) > 0 && ns[len(ns)-1] > md.ChunksNum:
		return fmt.Errorf("%w: %s is beyond the %d chunks", ErrCorrupt, dataName(ns[len(ns)-1]), md.ChunksNum)
	}
	return nil
}

// deleteChunks removes every data object (an earlier attempt's).
func deleteChunks(ctx context.Context, hc *protection.HookContext) error {
	ns, err := chunkNumbers(ctx, hc)
	if err != nil {
		return err
	}
	for _, n := range ns {
		if err := hc.Bank.Delete(ctx, hc.DataKey(dataName(n))); err != nil && !errors.Is(err, bank.ErrNotFound) {
			return fmt.Errorf("delete %s: %w", dataName(n), err)
		}
	}
	return nil
}

// readData streams data_1 .. data_<chunks_num> into w in order, checking
// every object's size, and reports each as done.
func readData(ctx context.Context, hc *protection.HookContext, md *Metadata, w io.Writer) error {
	var total int64
	buf := make([]byte, copyBuffer)
	for n := 1; n <= md.ChunksNum; n++ {
		got, err := readObject(ctx, hc, n, w, buf)
		if err != nil {
			return err
		}
		last := n == md.ChunksNum
		if (!last && got != md.ChunkSize) || (last && (got == 0 || got > md.ChunkSize)) {
			return fmt.Errorf("%w: %s holds %d bytes, chunk size %d, %d chunks", ErrCorrupt, dataName(n), got,
				md.ChunkSize, md.ChunksNum)
		}
		total += got
		hc.Progress.AddDone(got)
	}
	if total != md.ImageMetadata.Size {
		return fmt.Errorf("%w: the data objects hold %d bytes, the image had %d", ErrCorrupt, total, md.ImageMetadata.Size)
	}
	return nil
}

// copyBuffer is how much readData moves at once: large enough for sums to
// hash in parallel.
const copyBuffer = 1 << 20

func readObject(ctx context.Context, hc *protection.HookContext, n int, w io.Writer, buf []byte) (int64, error) {
	rc, err := hc.Bank.Get(ctx, hc.DataKey(dataName(n)))
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", dataName(n), err)
	}
	defer rc.Close()
	got, err := io.CopyBuffer(w, struct{ io.Reader }{rc}, buf) // not rc's WriteTo, with its small buffer
	if err != nil {
		return got, fmt.Errorf("read %s: %w", dataName(n), err)
	}
	return got, nil
}

// sums computes, in one pass, Glance's checksum (MD5) and its os_hash_value
// with os_hash_algo when that is an algorithm known here.
type sums struct {
	md5  hash.Hash
	algo string
	os   hash.Hash // nil: algo unknown or absent
}

var osHashes = map[string]func() hash.Hash{"sha512": sha512.New, "sha384": sha512.New384, "sha256": sha256.New}

func newSums(algo string) *sums {
	s := &sums{md5: md5.New(), algo: algo}
	if h, ok := osHashes[algo]; ok {
		s.os = h()
	}
	return s
}

// Write hashes p; both sums at once when p is large.
func (s *sums) Write(p []byte) (int, error) {
	if s.os == nil {
		return s.md5.Write(p)
	}
	if len(p) < 1<<20 {
		s.md5.Write(p)
		return s.os.Write(p)
	}
	var wg sync.WaitGroup
	wg.Go(func() { s.md5.Write(p) })
	s.os.Write(p)
	wg.Wait()
	return len(p), nil
}

// checksum is the MD5 so far, in hex.
func (s *sums) checksum() string { return hex.EncodeToString(s.md5.Sum(nil)) }

// check compares the sums with an image's (what says whose): a mismatch
// wraps ErrCorrupt.
func (s *sums) check(what string, im *ImageMetadata) error {
	if got := s.checksum(); im.Checksum != "" && got != im.Checksum {
		return fmt.Errorf("%w: %s: MD5 %s, Glance's checksum %s", ErrCorrupt, what, got, im.Checksum)
	}
	if s.os != nil && im.OSHashAlgo == s.algo && im.OSHashValue != "" {
		if got := hex.EncodeToString(s.os.Sum(nil)); got != im.OSHashValue {
			return fmt.Errorf("%w: %s: %s %s, Glance's os_hash_value %s", ErrCorrupt, what, s.algo, got, im.OSHashValue)
		}
	}
	return nil
}
