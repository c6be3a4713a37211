package swift

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/google/uuid"
	ncw "github.com/ncw/swift/v2"

	"github.com/pouchdp/pouch/bank"
)

// segment is one entry of a static large object's manifest.
type segment struct {
	Path string `json:"path"` // /<container>/<object>
	ETag string `json:"etag"`
	Size int64  `json:"size_bytes"`
}

// isSLO reports whether obj is a static large object (a HEAD);
// bank.ErrNotFound if there is no such object.
func (b *Bank) isSLO(ctx context.Context, obj string) (bool, error) {
	var h ncw.Headers
	err := b.retry(ctx, "head "+obj, func() error {
		var err error
		_, h, err = b.conn.Object(ctx, b.objects, obj)
		return err
	})
	if statusOf(err) == http.StatusNotFound {
		return false, fmt.Errorf("%s: %w", obj, bank.ErrNotFound)
	}
	if err != nil {
		return false, err
	}
	return strings.EqualFold(h[hdrSLO], "true"), nil
}

// deleteSegments removes the segments of an upload that failed. A failure
// only leaves garbage in the segments container: it is logged.
func (b *Bank) deleteSegments(ctx context.Context, segs []segment) {
	for _, s := range segs {
		container, obj, ok := strings.Cut(strings.TrimPrefix(s.Path, "/"), "/")
		if !ok {
			continue
		}
		if err := b.deleteObject(ctx, container, obj); err != nil {
			b.cfg.Log.WarnContext(ctx, "segment not deleted", "segment", s.Path, "err", err)
		}
	}
}

// upload is one static large object being written.
type upload struct {
	b      *Bank
	obj    string
	prefix string // of its segments: <obj>/<upload id>/

	mu   sync.Mutex
	segs []segment
	err  error
}

// putLarge writes a static large object and returns the prefix of its
// segments: first holds the first segment's bytes, r the rest. Segments go up in parallel, each from its own buffer;
// reading waits for a free buffer, so memory stays bounded. The whole
// content's MD5 goes into the manifest's metadata.
func (b *Bank) putLarge(ctx context.Context, obj string, first []byte, r io.Reader) (string, error) {
	u := &upload{b: b, obj: obj, prefix: obj + "/" + uuid.NewString() + "/"}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	whole := md5.New()
	var size int64
	var wg sync.WaitGroup
	buf := first
	n := len(first)
	var rerr error
	for i := 0; ; i++ {
		whole.Write(buf[:n])
		size += int64(n)
		u.start(ctx, cancel, &wg, i, buf, n)
		if rerr != nil {
			break
		}
		if buf, rerr = b.buffer(ctx); rerr != nil {
			break
		}
		n, rerr = io.ReadFull(r, buf)
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			rerr = io.EOF
			if n == 0 {
				b.release(buf)
				break
			}
			continue // the last segment, then stop
		}
		if rerr != nil {
			b.release(buf)
			cancel(rerr)
			break
		}
	}
	wg.Wait()
	err := u.err
	if err == nil && rerr != nil && rerr != io.EOF {
		err = rerr
	}
	if err == nil {
		err = context.Cause(ctx)
	}
	if err == nil {
		err = u.commit(ctx, whole, size)
	}
	if err != nil {
		b.deleteSegments(context.WithoutCancel(ctx), u.segs)
		return "", err
	}
	return u.prefix, nil
}

// start uploads segment i (the first n bytes of buf) in the background and
// gives buf back when done. The first failure cancels the upload.
func (u *upload) start(ctx context.Context, cancel context.CancelCauseFunc, wg *sync.WaitGroup, i int, buf []byte, n int) {
	seg := u.prefix + fmt.Sprintf("%08d", i)
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer u.b.release(buf)
		data := buf[:n]
		sum := md5.Sum(data)
		etag := hex.EncodeToString(sum[:])
		err := u.b.retry(ctx, "put segment "+seg, func() error {
			_, err := u.b.conn.ObjectPut(ctx, u.b.segments, seg, bytes.NewReader(data), true, etag, "application/octet-stream", nil)
			return err
		})
		u.mu.Lock()
		defer u.mu.Unlock()
		if err != nil {
			if u.err == nil {
				u.err = err
				cancel(err)
			}
			return
		}
		u.segs = append(u.segs, segment{Path: "/" + u.b.segments + "/" + seg, ETag: etag, Size: int64(n)})
	}()
}

// commit writes the manifest in segment order; Swift checks every
// segment's ETag and size against it.
func (u *upload) commit(ctx context.Context, whole hash.Hash, size int64) error {
	segs := u.segs
	slices.SortFunc(segs, func(a, b segment) int { return strings.Compare(a.Path, b.Path) }) // zero-padded numbers
	manifest, err := json.Marshal(segs)
	if err != nil {
		return err
	}
	h := ncw.Headers{hdrMD5: hex.EncodeToString(whole.Sum(nil)), hdrSize: strconv.FormatInt(size, 10),
		"Content-Type": "application/octet-stream"}
	return u.b.retry(ctx, "put manifest "+u.obj, func() error {
		_, _, err := u.b.call(ctx, ncw.RequestOpts{Container: u.b.objects, ObjectName: u.obj, Operation: "PUT",
			Parameters: url.Values{"multipart-manifest": {"put"}}, Headers: h, Body: bytes.NewReader(manifest),
			NoResponse: true})
		return err
	})
}

// DeletePrefix implements bank.PrefixDeleter: the objects under prefix, and
// every segment under it, including those of uploads that never got their
// manifest (their process died).
func (b *Bank) DeletePrefix(ctx context.Context, prefix string) error {
	p, err := bank.CleanPrefix(prefix)
	if err != nil {
		return err
	}
	for _, c := range []string{b.objects, b.segments} {
		if err := b.deletePrefixIn(ctx, c, p[1:], ""); err != nil {
			return fmt.Errorf("swift bank: delete prefix %s: %w", prefix, err)
		}
	}
	return nil
}

// deletePrefixIn deletes the objects of container whose names start with
// prefix, but for those under keep (if not empty).
func (b *Bank) deletePrefixIn(ctx context.Context, container, prefix, keep string) error {
	var names []string
	err := b.retry(ctx, "list "+container, func() error {
		var err error
		names, err = b.conn.ObjectNamesAll(ctx, container, &ncw.ObjectsOpts{Prefix: prefix})
		return err
	})
	if err != nil {
		return err
	}
	for _, n := range names {
		if keep != "" && strings.HasPrefix(n, keep) {
			continue
		}
		if err := b.deleteObject(ctx, container, n); err != nil {
			return err
		}
	}
	return nil
}
