package image

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/pouchdp/pouch/bank"
	"github.com/pouchdp/pouch/plugins/openstack"
	"github.com/pouchdp/pouch/shared/protection"
)

// SnapshotPrefix names the temporary snapshot of a server: the prefix and
// the server's id, as Karbor names it.
const SnapshotPrefix = "Temp_image_name_for_karbor"

// Server statuses a snapshot may be taken in (Karbor's, with Nova's name
// of a stopped server).
var snapshotable = []string{"ACTIVE", "SHUTOFF", "STOPPED", "SUSPENDED", "PAUSED"}

// Image statuses that never become active.
var dead = []images.ImageStatus{images.ImageStatusKilled, images.ImageStatusDeleted,
	images.ImageStatusPendingDelete, images.ImageStatusDeactivated}

func (p *Plugin) protect(ctx context.Context, hc *protection.HookContext) error {
	return openstack.Protect(ctx, hc, func() error {
		cl, err := p.Connect(ctx, hc)
		if err != nil {
			return err
		}
		sc, err := cl.Image()
		if err != nil {
			return err
		}
		md := &Metadata{ResourceID: hc.Resource.ID, BackupName: hc.StringParam("backup_name", ""), ChunkSize: p.objectSize}
		id := hc.Resource.ID
		if sid, _ := hc.Resource.ExtraInfo["server_id"].(string); sid != "" && p.serverSnapshot {
			snap, err := p.snapshot(ctx, hc, cl, sid)
			if err != nil {
				return err
			}
			defer deleteSnapshot(ctx, hc, sc, snap)
			md.ServerID, id = sid, snap
		}
		im, err := p.waitActive(ctx, sc, id)
		if err != nil {
			return err
		}
		md.ImageMetadata = describe(im)
		if md.ServerID != "" && hc.Resource.Name != "" {
			md.ImageMetadata.Name = hc.Resource.Name // not the temporary snapshot's
		}
		// A retried attempt starts from nothing: no chunk of an earlier
		// one (of another snapshot, maybe of another size) may stay.
		if err := deleteChunks(ctx, hc); err != nil {
			return err
		}
		if md.ChunksNum, err = p.store(ctx, hc, sc, id, &md.ImageMetadata); err != nil {
			return fmt.Errorf("protect image %s: %w", id, err)
		}
		return openstack.SaveMetadata(ctx, hc, md)
	})
}

// snapshot takes a snapshot image of the server once it is in a status
// that allows one, and returns its id.
func (p *Plugin) snapshot(ctx context.Context, hc *protection.HookContext, cl *openstack.Clients, serverID string) (string, error) {
	cc, err := cl.Compute()
	if err != nil {
		return "", err
	}
	err = p.Poll.Wait(ctx, "server "+serverID+" to allow a snapshot", func(ctx context.Context) (string, bool, error) {
		sv, err := servers.Get(ctx, cc, serverID).Extract()
		if err != nil {
			return "", false, openstack.Classify(err)
		}
		if sv.Status == "ERROR" {
			return sv.Status, false, fmt.Errorf("server %s is in ERROR", serverID)
		}
		return sv.Status, slices.Contains(snapshotable, sv.Status) && sv.TaskState == "", nil
	})
	if err != nil {
		return "", err
	}
	id, err := servers.CreateImage(ctx, cc, serverID, servers.CreateImageOpts{Name: SnapshotPrefix + serverID}).ExtractImageID()
	if gophercloud.ResponseCodeIs(err, http.StatusConflict) { // a task started meanwhile
		return "", protection.Transient(fmt.Errorf("snapshot of server %s: %w", serverID, err))
	}
	if err != nil {
		return "", fmt.Errorf("snapshot of server %s: %w", serverID, openstack.Classify(err))
	}
	hc.Log.InfoContext(ctx, "took a temporary snapshot of the server", "server", serverID, "image", id)
	return id, nil
}

// deleteSnapshot deletes the temporary snapshot, even when the hook is
// being cancelled.
func deleteSnapshot(ctx context.Context, hc *protection.HookContext, sc *gophercloud.ServiceClient, id string) {
	ctx = context.WithoutCancel(ctx)
	if err := images.Delete(ctx, sc, id).ExtractErr(); err != nil && !openstack.IsNotFound(err) {
		hc.Log.WarnContext(ctx, "temporary snapshot not deleted", "image", id, "err", err)
	}
}

// waitActive waits for the image to be active and returns it.
func (p *Plugin) waitActive(ctx context.Context, sc *gophercloud.ServiceClient, id string) (*images.Image, error) {
	var im *images.Image
	err := p.Poll.Wait(ctx, "image "+id+" to be active", func(ctx context.Context) (string, bool, error) {
		got, err := images.Get(ctx, sc, id).Extract()
		if err != nil {
			return "", false, openstack.Classify(err)
		}
		im = got
		if slices.Contains(dead, got.Status) {
			return string(got.Status), false, fmt.Errorf("image %s is %s", id, got.Status)
		}
		return string(got.Status), got.Status == images.ImageStatusActive, nil
	})
	return im, err
}

// Properties Glance shows that are not the user's to set.
var glanceOwned = []string{"os_hash_algo", "os_hash_value", "direct_url", "locations", "stores", "self", "file", "schema"}

// describe is the metadata of an image worth saving.
func describe(im *images.Image) ImageMetadata {
	md := ImageMetadata{
		Name: im.Name, DiskFormat: im.DiskFormat, ContainerFormat: im.ContainerFormat, Checksum: im.Checksum,
		Size: im.SizeBytes, MinDisk: im.MinDiskGigabytes, MinRAM: im.MinRAMMegabytes,
		Visibility: string(im.Visibility), Protected: im.Protected, Tags: im.Tags,
	}
	md.OSHashAlgo, _ = im.Properties["os_hash_algo"].(string)
	md.OSHashValue, _ = im.Properties["os_hash_value"].(string)
	for k, v := range im.Properties {
		s, ok := v.(string)
		if !ok || slices.Contains(glanceOwned, k) || strings.HasPrefix(k, "os_glance") {
			continue
		}
		if md.Properties == nil {
			md.Properties = map[string]string{}
		}
		md.Properties[k] = s
	}
	return md
}

// chunk is one object's worth of the image on its way to the bank.
type chunk struct {
	n         int
	data, buf []byte
}

// store streams the image's data into data_1 .. data_<n> and returns n.
// This goroutine reads from Glance; another hashes each chunk and hands it
// to the uploader, which stores several at once: reading, hashing and
// storing overlap. The sums and the size are checked against Glance's; a
// checksum Glance lacks is filled in.
func (p *Plugin) store(ctx context.Context, hc *protection.HookContext, sc *gophercloud.ServiceClient, id string,
	im *ImageMetadata) (int, error) {
	start := time.Now()
	timeout := sc.ProviderClient.HTTPClient.Timeout
	ctx, touch, stop := stall(ctx, timeout)
	defer stop()
	body, err := imagedata.Download(ctx, dataClient(sc), id).Extract()
	if err != nil {
		return 0, fmt.Errorf("download: %w", openstack.Classify(err))
	}
	defer body.Close()
	hc.Progress.AddTotal(im.Size)

	size := p.objectSize
	if im.Size > 0 {
		size = min(size, im.Size)
	}
	// A stored chunk is progress too: while every buffer waits for the
	// bank, nothing is read.
	up := bank.NewUploader(ctx, hc.Bank, p.uploads, size, func(n int64) {
		touch()
		hc.Progress.AddDone(n)
	})
	s := newSums(im.OSHashAlgo)
	chunks := make(chan chunk, 1)
	hashed := make(chan struct{})
	go func() {
		defer close(hashed)
		for c := range chunks {
			s.Write(c.data)
			up.Put(hc.DataKey(dataName(c.n)), c.data, c.buf)
		}
	}()
	n, read, rerr := cutChunks(touchReader{body, touch}, up, chunks)
	close(chunks)
	<-hashed
	uerr := up.Wait()
	switch cause := context.Cause(ctx); {
	case cause != nil: // cancelled, or stalled
		return 0, openstack.Classify(cause)
	case uerr != nil: // a store failed, which also stopped the reading
		return 0, uerr
	case rerr != nil:
		return 0, fmt.Errorf("download: %w", openstack.Classify(rerr))
	case read < im.Size:
		return 0, protection.Transient(fmt.Errorf("download ended after %d bytes of %d", read, im.Size))
	case read > im.Size:
		return 0, fmt.Errorf("%w: Glance sent %d bytes of an image of %d", ErrCorrupt, read, im.Size)
	}
	if err := s.check("downloaded data", im); err != nil {
		return 0, err
	}
	if im.Checksum == "" {
		im.Checksum = s.checksum()
	}
	took := time.Since(start)
	hc.Log.InfoContext(ctx, "image protected", "image", id, "size", read, "chunks", n, "took", took.Round(time.Millisecond),
		"MB/s", fmt.Sprintf("%.1f", float64(read)/1e6/max(took.Seconds(), 1e-9)))
	return n, nil
}

// cutChunks cuts r into chunks of the uploader's buffers and sends them
// on: how many, how many bytes, and the error that stopped the reading.
func cutChunks(r io.Reader, up *bank.Uploader, out chan<- chunk) (int, int64, error) {
	var (
		n    int
		read int64
	)
	for {
		buf, err := up.Buffer()
		if err != nil {
			return n, read, err
		}
		k, err := io.ReadFull(r, buf)
		if k > 0 {
			n++
			read += int64(k)
			out <- chunk{n: n, data: buf[:k], buf: buf}
		} else {
			up.Free(buf)
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return n, read, nil
		}
		if err != nil {
			return n, read, err
		}
	}
}
