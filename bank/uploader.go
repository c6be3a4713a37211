package bank

import (
	"bytes"
	"context"
	"fmt"
	"sync"
)

// Uploader stores chunks in a bank in the background, at most n at once,
// each from a buffer of its own: n+1 buffers in all, so memory stays
// bounded while reading the next chunk overlaps with the uploads.
//
//	for {
//		buf, err := u.Buffer()  // waits for a free buffer
//		n, _ := io.ReadFull(src, buf)
//		u.Put(key, buf[:n], buf) // frees buf when stored
//	}
//	err := u.Wait()
type Uploader struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	bank   Bank
	done   func(int64)
	bufs   chan []byte
	wg     sync.WaitGroup
}

// NewUploader returns an Uploader into b with n uploads at once of chunks
// of at most size bytes; done (if not nil) is told the bytes of each chunk
// stored.
func NewUploader(ctx context.Context, b Bank, n int, size int64, done func(int64)) *Uploader {
	ctx, cancel := context.WithCancelCause(ctx)
	n = max(n, 1)
	u := &Uploader{ctx: ctx, cancel: cancel, bank: b, done: done, bufs: make(chan []byte, n+1)}
	for range n + 1 {
		u.bufs <- make([]byte, size)
	}
	return u
}

// Buffer waits for a free buffer; it fails once an upload has failed or
// the context is done.
func (u *Uploader) Buffer() ([]byte, error) {
	select {
	case b := <-u.bufs:
		return b, nil
	case <-u.ctx.Done():
		return nil, context.Cause(u.ctx)
	}
}

// Free gives back a buffer that holds nothing to store.
func (u *Uploader) Free(buf []byte) { u.bufs <- buf }

// Put stores data (a prefix of buf) under key in the background and frees
// buf when done. The first failure stops the others.
func (u *Uploader) Put(key string, data, buf []byte) {
	u.wg.Add(1)
	go func() {
		defer u.wg.Done()
		defer u.Free(buf)
		if err := u.bank.Put(u.ctx, key, bytes.NewReader(data)); err != nil {
			u.cancel(fmt.Errorf("store %s: %w", key, err))
			return
		}
		if u.done != nil {
			u.done(int64(len(data)))
		}
	}()
}

// Wait waits for every upload and returns the first failure (or the
// context's end), nil if all succeeded.
func (u *Uploader) Wait() error {
	u.wg.Wait()
	err := context.Cause(u.ctx)
	u.cancel(nil)
	return err
}
