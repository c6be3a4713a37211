package localdir

import (
	"bytes"
	"context"
	"fmt"
	"sync"

	"github.com/pouchdp/pouch/bank"
)

// uploader stores chunks in the bank in the background, at most n at once,
// each from a buffer of its own: n+1 buffers in all, so memory stays
// bounded while reading the next chunk overlaps with the uploads.
type uploader struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	bank   bank.Bank
	prog   progress
	bufs   chan []byte
	wg     sync.WaitGroup
}

func newUploader(ctx context.Context, b bank.Bank, prog progress, n int, size int64) *uploader {
	ctx, cancel := context.WithCancelCause(ctx)
	u := &uploader{ctx: ctx, cancel: cancel, bank: b, prog: prog, bufs: make(chan []byte, n+1)}
	for range n + 1 {
		u.bufs <- make([]byte, size)
	}
	return u
}

// buffer waits for a free buffer; it fails once an upload has failed or
// the context is done.
func (u *uploader) buffer() ([]byte, error) {
	select {
	case b := <-u.bufs:
		return b, nil
	case <-u.ctx.Done():
		return nil, context.Cause(u.ctx)
	}
}

// free gives back a buffer that holds nothing to store.
func (u *uploader) free(buf []byte) { u.bufs <- buf }

// put stores data (a prefix of buf) under key in the background and frees
// buf when done. The first failure stops the others.
func (u *uploader) put(key string, data, buf []byte) {
	u.wg.Add(1)
	go func() {
		defer u.wg.Done()
		defer u.free(buf)
		if err := u.bank.Put(u.ctx, key, bytes.NewReader(data)); err != nil {
			u.cancel(fmt.Errorf("store %s: %w", key, transientIf(err)))
			return
		}
		u.prog.done(int64(len(data)))
	}()
}

// wait waits for every upload and returns the first failure (or the
// context's end), nil if all succeeded.
func (u *uploader) wait() error {
	u.wg.Wait()
	err := context.Cause(u.ctx)
	u.cancel(nil)
	return err
}
