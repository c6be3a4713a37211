package image

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/pouchdp/pouch/shared/protection"
)

// dataClient is sc for moving image data: an API call's time limit (the
// HTTP client's Timeout, which also bounds reading the body) would cut a
// large transfer, so it waits that long for the response headers only; a
// transfer is bounded by its context and by stalled (see stall).
func dataClient(sc *gophercloud.ServiceClient) *gophercloud.ServiceClient {
	from := sc.ProviderClient
	tr, ok := from.HTTPClient.Transport.(*http.Transport)
	if !ok || tr == nil {
		tr = http.DefaultTransport.(*http.Transport)
	}
	tr = tr.Clone()
	tr.ResponseHeaderTimeout = from.HTTPClient.Timeout
	pc := &gophercloud.ProviderClient{
		HTTPClient: http.Client{Transport: tr},
		UserAgent:  from.UserAgent,
	}
	pc.CopyTokenFrom(from) // checked once, when a transfer starts
	c := *sc
	c.ProviderClient = pc
	return &c
}

// errStalled: a transfer moved no byte for a whole request timeout.
var errStalled = errors.New("image transfer stalled")

// stall returns a context that is cancelled with errStalled when touch is
// not called for d, and a stop function that releases it.
func stall(ctx context.Context, d time.Duration) (context.Context, func(), func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	if d <= 0 {
		return ctx, func() {}, func() { cancel(nil) }
	}
	t := time.AfterFunc(d, func() {
		cancel(protection.Transient(fmt.Errorf("%w: nothing moved for %s", errStalled, d)))
	})
	return ctx, func() { t.Reset(d) }, func() { t.Stop(); cancel(nil) }
}

// touchReader calls touch after every read that moved bytes.
type touchReader struct {
	r     io.Reader
	touch func()
}

func (t touchReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n > 0 {
		t.touch()
	}
	return n, err
}
