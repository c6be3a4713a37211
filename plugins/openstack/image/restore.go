package image

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/pouchdp/pouch/plugins/openstack"
	"github.com/pouchdp/pouch/shared/protection"
)

// DefaultRestoreName names a restored image whose original had no name.
const DefaultRestoreName = "karbor-restore-image"

// restore creates a new image from the saved data. The new image is
// recorded in new_resources as soon as it exists, so that an attempt run
// again (after a crash) finds it: it fills it if it is still empty, keeps
// it if it is complete, deletes it otherwise. A failure deletes the image.
func (p *Plugin) restore(ctx context.Context, hc *protection.HookContext) error {
	var md Metadata
	if err := openstack.LoadMetadata(ctx, hc, &md); err != nil {
		return err
	}
	if err := checkChunks(ctx, hc, &md); err != nil {
		return fmt.Errorf("restore image %s: %w", hc.Resource.ID, err)
	}
	cl, err := p.Connect(ctx, hc)
	if err != nil {
		return err
	}
	sc, err := cl.Image()
	if err != nil {
		return err
	}
	id, done, err := p.target(ctx, hc, sc, &md)
	if err != nil {
		return fmt.Errorf("restore image %s: %w", hc.Resource.ID, err)
	}
	report := func(status, reason string) error {
		return openstack.Restored(ctx, hc, openstack.TypeImage, hc.Resource.ID, id, status, reason)
	}
	if !done {
		if err := report(openstack.RestoreRestoring, ""); err != nil {
			return err
		}
		if err := p.fill(ctx, hc, sc, id, &md); err != nil {
			err = fmt.Errorf("restore image %s into %s: %w", hc.Resource.ID, id, err)
			p.discard(ctx, hc, sc, id, err.Error())
			return err
		}
	}
	return report(openstack.RestoreAvailable, "")
}

// target returns the image to restore into, and whether it is already
// complete: an earlier attempt's if it is empty or complete, else a new
// one.
func (p *Plugin) target(ctx context.Context, hc *protection.HookContext, sc *gophercloud.ServiceClient, md *Metadata) (string, bool, error) {
	prev, ok, err := hc.NewResources.Get(ctx, hc.Resource.ID)
	if err != nil {
		return "", false, protection.Transient(fmt.Errorf("read new_resources: %w", err))
	}
	if ok {
		im, err := images.Get(ctx, sc, prev).Extract()
		switch {
		case openstack.IsNotFound(err): // the failed attempt deleted it
		case err != nil:
			return "", false, openstack.Classify(err)
		case im.Status == images.ImageStatusQueued:
			hc.Log.InfoContext(ctx, "filling the image an earlier attempt created", "image", prev)
			return prev, false, nil
		case im.Status == images.ImageStatusActive && im.Checksum == md.ImageMetadata.Checksum:
			return prev, true, nil
		default:
			p.discard(ctx, hc, sc, prev, fmt.Sprintf("left %s by an earlier attempt, replaced", im.Status))
		}
	}
	id, err := p.create(ctx, hc, sc, md)
	if err != nil {
		return "", false, err
	}
	if err := hc.NewResources.Set(ctx, hc.Resource.ID, id); err != nil {
		p.discard(ctx, hc, sc, id, "")
		return "", false, protection.Transient(fmt.Errorf("record new image %s: %w", id, err))
	}
	return id, false, nil
}

// create creates the empty image: the restore_name parameter or the saved
// name (or Karbor's default), the saved formats, tags and properties. A visibility the user may
// not give (public, as a member) falls back to private.
func (p *Plugin) create(ctx context.Context, hc *protection.HookContext, sc *gophercloud.ServiceClient, md *Metadata) (string, error) {
	im := &md.ImageMetadata
	opts := images.CreateOpts{
		Name: cmp.Or(hc.StringParam("restore_name", ""), im.Name, DefaultRestoreName), DiskFormat: im.DiskFormat, ContainerFormat: im.ContainerFormat,
		MinDisk: im.MinDisk, MinRAM: im.MinRAM, Tags: im.Tags, Properties: im.Properties,
	}
	if im.Visibility != "" {
		v := images.ImageVisibility(im.Visibility)
		opts.Visibility = &v
	}
	got, err := images.Create(ctx, sc, opts).Extract()
	if gophercloud.ResponseCodeIs(err, http.StatusForbidden) && opts.Visibility != nil &&
		*opts.Visibility != images.ImageVisibilityPrivate {
		hc.Log.WarnContext(ctx, "Glance refused the saved visibility: the image is restored private",
			"visibility", im.Visibility, "err", err)
		private := images.ImageVisibilityPrivate
		opts.Visibility = &private
		got, err = images.Create(ctx, sc, opts).Extract()
	}
	if err != nil {
		return "", fmt.Errorf("create image: %w", openstack.Classify(err))
	}
	hc.Log.InfoContext(ctx, "restoring into a new image", "image", got.ID, "name", got.Name, "size", im.Size)
	return got.ID, nil
}

// errUploadEnded: Glance's side of an upload ended before the data did.
var errUploadEnded = errors.New("upload ended")

// fill uploads the data objects, in order, as one stream into the image.
// The sums are checked before the stream ends: corrupt data makes the
// upload fail instead of completing the image. Then the image must be
// active with the saved checksum.
func (p *Plugin) fill(ctx context.Context, hc *protection.HookContext, sc *gophercloud.ServiceClient, id string, md *Metadata) error {
	start := time.Now()
	im := &md.ImageMetadata
	hc.Progress.AddTotal(im.Size)
	uctx, touch, stop := stall(ctx, sc.ProviderClient.HTTPClient.Timeout)
	defer stop()
	pr, pw := io.Pipe()
	fed := make(chan error, 1)
	go func() {
		s := newSums(im.OSHashAlgo)
		err := readData(uctx, hc, md, io.MultiWriter(s, pw))
		if err == nil {
			err = s.check("protected data", im)
		}
		pw.CloseWithError(err) // nil: the end of the upload
		fed <- err
	}()
	err := imagedata.Upload(uctx, dataClient(sc), id, touchReader{pr, touch}).ExtractErr()
	pr.CloseWithError(errUploadEnded)
	ferr := <-fed
	switch cause := context.Cause(uctx); {
	case ferr != nil && !errors.Is(ferr, errUploadEnded):
		return ferr
	case cause != nil:
		return openstack.Classify(cause)
	case err != nil:
		return fmt.Errorf("upload: %w", openstack.Classify(err))
	}

	got, err := p.waitActive(ctx, sc, id)
	if err != nil {
		return err
	}
	if got.Checksum != im.Checksum || got.SizeBytes != im.Size {
		return fmt.Errorf("%w: Glance's new image has checksum %s and %d bytes, the protected one %s and %d",
			ErrCorrupt, got.Checksum, got.SizeBytes, im.Checksum, im.Size)
	}
	algo, _ := got.Properties["os_hash_algo"].(string)
	value, _ := got.Properties["os_hash_value"].(string)
	if im.OSHashValue != "" && algo == im.OSHashAlgo && value != im.OSHashValue {
		return fmt.Errorf("%w: Glance's new image has %s %s, the protected one %s", ErrCorrupt, algo, value, im.OSHashValue)
	}
	if im.Protected {
		err := images.Update(ctx, sc, id, images.UpdateOpts{images.ReplaceImageProtected{NewProtected: true}}).Err
		if err != nil {
			return fmt.Errorf("protect the new image from deletion: %w", openstack.Classify(err))
		}
	}
	took := time.Since(start)
	hc.Log.InfoContext(ctx, "image restored", "image", id, "from", hc.Resource.ID, "size", im.Size, "chunks", md.ChunksNum,
		"took", took.Round(time.Millisecond), "MB/s", fmt.Sprintf("%.1f", float64(im.Size)/1e6/max(took.Seconds(), 1e-9)))
	return nil
}

// discard deletes a new image that will not be used and, with a reason,
// records it as error in the restore's resources_status.
func (p *Plugin) discard(ctx context.Context, hc *protection.HookContext, sc *gophercloud.ServiceClient, id, reason string) {
	ctx = context.WithoutCancel(ctx)
	if err := images.Delete(ctx, sc, id).ExtractErr(); err != nil && !openstack.IsNotFound(err) {
		hc.Log.WarnContext(ctx, "new image not deleted", "image", id, "err", err)
	}
	if reason == "" {
		return
	}
	if err := openstack.Restored(ctx, hc, openstack.TypeImage, hc.Resource.ID, id, openstack.RestoreError, reason); err != nil {
		hc.Log.WarnContext(ctx, "cannot record the restore's error", "image", id, "err", err)
	}
}
