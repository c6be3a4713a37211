package swift

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	ncw "github.com/ncw/swift/v2"

	"github.com/pouchdp/pouch/bank"
)

// reader streams an object, resuming a broken read from where it stopped on
// the same object (If-Match its ETag), and checks the content's MD5 at EOF.
type reader struct {
	b    *Bank
	ctx  context.Context
	obj  string
	body io.ReadCloser
	etag string // of the object being read, pinned by the first open
	want string // content MD5
	sum  hash.Hash
	off  int64
	done bool
}

func (r *reader) open() error {
	h := ncw.Headers{}
	if r.etag != "" {
		h["If-Match"] = r.etag
		h["Range"] = "bytes=" + strconv.FormatInt(r.off, 10) + "-"
	}
	var body io.ReadCloser
	var hdr ncw.Headers
	get := func() error {
		return r.b.retry(r.ctx, "get "+r.obj, func() error {
			resp, rh, err := r.b.call(r.ctx, ncw.RequestOpts{Container: r.b.objects, ObjectName: r.obj, Operation: "GET", Headers: h})
			if err != nil {
				return err
			}
			body, hdr = resp.Body, rh
			return nil
		})
	}
	err := get()
	// An object server answers 404 for an object being overwritten when a
	// newer PUT removes the file it was about to open (seen with one
	// replica; with more, the proxy asks the others). Ask again before
	// saying it is missing.
	for _, wait := range []time.Duration{50 * time.Millisecond, 150 * time.Millisecond} {
		if statusOf(err) != http.StatusNotFound || r.etag != "" {
			break
		}
		select {
		case <-time.After(wait):
		case <-r.ctx.Done():
			return r.ctx.Err()
		}
		err = get()
	}
	switch code := statusOf(err); {
	case code == http.StatusNotFound && r.etag == "":
		return fmt.Errorf("%s: %w", r.obj, bank.ErrNotFound)
	case code == http.StatusPreconditionFailed:
		return fmt.Errorf("%s changed while being read: %w", r.obj, err)
	case err != nil:
		return err
	}
	if r.etag == "" {
		r.etag = strings.Trim(hdr["Etag"], `"`)
		r.want = hdr[hdrMD5]
		if r.want == "" && !strings.EqualFold(hdr[hdrSLO], "true") {
			r.want = r.etag // a plain object written by another client
		}
	}
	r.body = body
	return nil
}

// Read implements io.Reader.
func (r *reader) Read(p []byte) (int, error) {
	if r.done {
		return 0, io.EOF
	}
	for attempt := 1; ; attempt++ {
		n, err := r.body.Read(p)
		r.sum.Write(p[:n])
		r.off += int64(n)
		switch {
		case err == nil:
			return n, nil
		case err == io.EOF:
			r.done = true
			return n, r.check()
		case n > 0:
			return n, nil // report the bytes; the error comes back on the next Read
		case r.ctx.Err() != nil || attempt >= r.b.cfg.Attempts:
			return 0, fmt.Errorf("swift bank: read %s at byte %d: %w", r.obj, r.off, err)
		}
		r.b.cfg.Log.WarnContext(r.ctx, "swift read broken, resuming", "object", r.obj, "offset", r.off, "err", err)
		r.body.Close()
		if oerr := r.open(); oerr != nil {
			return 0, fmt.Errorf("swift bank: resume %s at byte %d: %w (read error: %v)", r.obj, r.off, oerr, err)
		}
	}
}

func (r *reader) check() error {
	if r.want == "" {
		return io.EOF // nothing to check against
	}
	if got := hex.EncodeToString(r.sum.Sum(nil)); got != r.want {
		return fmt.Errorf("swift bank: %s: content MD5 %s, stored %s: %w", r.obj, got, r.want, bank.ErrCorrupt)
	}
	return io.EOF
}

// Close implements io.Closer.
func (r *reader) Close() error {
	if r.body == nil {
		return nil
	}
	err := r.body.Close()
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}
