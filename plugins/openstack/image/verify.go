package image

import (
	"context"
	"fmt"

	"github.com/pouchdp/pouch/plugins/openstack"
	"github.com/pouchdp/pouch/shared/protection"
)

// verify re-reads the protected data: the resource must be available and
// every data object readable, of the right size, their whole MD5 (and
// os_hash_value) the saved one. The result goes to the verification's
// resources_status under the image's own key.
func (p *Plugin) verify(ctx context.Context, hc *protection.HookContext) error {
	err := check(ctx, hc)
	status, reason := openstack.StatusAvailable, ""
	if err != nil {
		err = fmt.Errorf("verify image %s: %w", hc.Resource.ID, err)
		status, reason = openstack.StatusError, err.Error()
	}
	if hc.Status != nil {
		if serr := hc.Status.ReportStatus(ctx, hc.Resource.StatusKey(), status, reason); serr != nil && err == nil {
			return fmt.Errorf("report verification of image %s: %w", hc.Resource.ID, serr)
		}
	}
	return err
}

func check(ctx context.Context, hc *protection.HookContext) error {
	if err := openstack.VerifyStatus(ctx, hc); err != nil {
		return err
	}
	var md Metadata
	if err := openstack.LoadMetadata(ctx, hc, &md); err != nil {
		return err
	}
	if err := checkChunks(ctx, hc, &md); err != nil {
		return err
	}
	hc.Progress.AddTotal(md.ImageMetadata.Size)
	s := newSums(md.ImageMetadata.OSHashAlgo)
	if err := readData(ctx, hc, &md, s); err != nil {
		return err
	}
	return s.check("protected data", &md.ImageMetadata)
}
