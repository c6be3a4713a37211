package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/volumeattach"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"

	"github.com/pouchdp/pouch/bank"
	"github.com/pouchdp/pouch/plugins/openstack"
	"github.com/pouchdp/pouch/shared/protection"
)

// Server statuses the plugin waits for.
const (
	statusActive = "ACTIVE"
	statusPaused = "PAUSED"
	statusError  = "ERROR"
)

// quiesceObject marks a server that protect paused and has to unpause.
const quiesceObject = "quiesce"

// attachMicroversion shows an attachment's delete_on_termination.
const attachMicroversion = "2.79"

// pause (on_prepare_begin, with quiesce) pauses an ACTIVE server and waits
// until it is PAUSED. The bank records it first, so that whatever runs
// next (on_prepare_finish, on_main, a delete after a protect that died)
// unpauses it.
func (p *Plugin) pause(ctx context.Context, hc *protection.HookContext) error {
	if q, err := hc.BoolParam("quiesce", false); err != nil || !q {
		return err
	}
	sc, sv, err := p.show(ctx, hc)
	if err != nil {
		return err
	}
	id := hc.Resource.ID
	if sv.Status != statusActive {
		hc.Log.InfoContext(ctx, "server not paused for quiesce: not ACTIVE", "status", sv.Status)
		return nil
	}
	if err := bank.PutBytes(ctx, hc.Bank, hc.DataKey(quiesceObject), []byte("paused")); err != nil {
		return fmt.Errorf("record the pause: %w", err)
	}
	err = servers.Pause(ctx, sc, id).ExtractErr()
	if err == nil {
		err = p.Poll.Wait(ctx, "server "+id+" "+statusPaused, serverStatus(sc, id, statusPaused))
	}
	if err != nil {
		if uerr := p.unpause(context.WithoutCancel(ctx), hc); uerr != nil {
			hc.Log.WarnContext(ctx, "cannot unpause after a failed pause", "err", uerr)
		}
		return fmt.Errorf("pause server %s: %w", id, openstack.Classify(err))
	}
	hc.Log.InfoContext(ctx, "server paused for quiesce")
	return nil
}

// unpause (on_prepare_finish; also on_main and delete, in case) unpauses
// the server if protect paused it, and waits until it is ACTIVE.
func (p *Plugin) unpause(ctx context.Context, hc *protection.HookContext) error {
	key := hc.DataKey(quiesceObject)
	if _, err := bank.GetBytes(ctx, hc.Bank, key); isBankNotFound(err) {
		return nil
	} else if err != nil {
		return fmt.Errorf("read %s: %w", key, err)
	}
	sc, sv, err := p.show(ctx, hc)
	id := hc.Resource.ID
	switch {
	case errors.Is(err, protection.ErrNotFound):
		hc.Log.WarnContext(ctx, "the paused server is gone")
	case err != nil:
		return err
	case sv.Status == statusPaused:
		if err := servers.Unpause(ctx, sc, id).ExtractErr(); err != nil {
			return fmt.Errorf("unpause server %s: %w", id, openstack.Classify(err))
		}
		if err := p.Poll.Wait(ctx, "server "+id+" "+statusActive, serverStatus(sc, id, statusActive)); err != nil {
			return err
		}
		hc.Log.InfoContext(ctx, "server unpaused")
	default:
		hc.Log.InfoContext(ctx, "server not paused any more", "status", sv.Status)
	}
	if err := hc.Bank.Delete(ctx, key); err != nil && !isBankNotFound(err) {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	return nil
}

// show connects to Nova and shows the hook's server.
func (p *Plugin) show(ctx context.Context, hc *protection.HookContext) (*gophercloud.ServiceClient, *servers.Server, error) {
	cl, err := p.Connect(ctx, hc)
	if err != nil {
		return nil, nil, err
	}
	sc, err := cl.Compute()
	if err != nil {
		return nil, nil, err
	}
	sv, err := servers.Get(ctx, sc, hc.Resource.ID).Extract()
	if err != nil {
		return nil, nil, fmt.Errorf("show server %s: %w", hc.Resource.ID, openstack.Classify(err))
	}
	return sc, sv, nil
}

// serverStatus checks that server id is in status want; ERROR ends the wait
// with the server's fault.
func serverStatus(sc *gophercloud.ServiceClient, id, want string) openstack.Check {
	return func(ctx context.Context) (string, bool, error) {
		sv, err := servers.Get(ctx, sc, id).Extract()
		if err != nil {
			return "", false, openstack.Classify(err)
		}
		if sv.Status == statusError && want != statusError {
			return sv.Status, false, fmt.Errorf("server %s is in ERROR: %s", id, cmp.Or(sv.Fault.Message, "no fault given"))
		}
		return sv.Status, sv.Status == want, nil
	}
}

// protect (on_main) saves the server's definition; no disk is copied.
func (p *Plugin) protect(ctx context.Context, hc *protection.HookContext) error {
	return openstack.Protect(ctx, hc, func() error {
		if err := p.unpause(ctx, hc); err != nil {
			return err
		}
		cl, err := p.Connect(ctx, hc)
		if err != nil {
			return err
		}
		md, err := describe(ctx, cl, hc.Resource.ID)
		if err != nil {
			return err
		}
		hc.Log.InfoContext(ctx, "server definition saved", "boot", md.BootMetadata.BootDeviceType,
			"volumes", len(md.AttachMetadata), "ports", len(md.Ports))
		return openstack.SaveMetadata(ctx, hc, md)
	})
}

// describe reads the definition of server id.
func describe(ctx context.Context, cl *openstack.Clients, id string) (*Metadata, error) {
	sc, err := cl.Compute()
	if err != nil {
		return nil, err
	}
	sv, err := servers.Get(ctx, sc, id).Extract()
	if err != nil {
		return nil, fmt.Errorf("show server %s: %w", id, openstack.Classify(err))
	}
	md := &Metadata{ResourceID: id, Name: sv.Name, ServerMetadata: ServerMetadata{
		AvailabilityZone: sv.AvailabilityZone, KeyName: sv.KeyName, Metadata: sv.Metadata,
		SecurityGroups: []SecurityGroup{}, Networks: []string{}, FloatingIPs: []string{},
	}, Ports: []Port{}}
	if md.Flavor, err = flavor(ctx, sc, sv); err != nil {
		return nil, err
	}
	md.ServerMetadata.Flavor = md.Flavor.ID
	if md.AttachMetadata, err = attachments(ctx, cl, id); err != nil {
		return nil, err
	}
	md.BootMetadata = boot(sv, md.AttachMetadata)
	if err := describePorts(ctx, cl, sv, md); err != nil {
		return nil, err
	}
	return md, nil
}

// flavor describes the server's flavor (only its id if it is gone).
func flavor(ctx context.Context, sc *gophercloud.ServiceClient, sv *servers.Server) (Flavor, error) {
	id, _ := sv.Flavor["id"].(string)
	if id == "" {
		return Flavor{}, fmt.Errorf("server %s shows no flavor id", sv.ID)
	}
	fl, err := flavors.Get(ctx, sc, id).Extract()
	switch {
	case openstack.IsNotFound(err):
		return Flavor{ID: id}, nil // deleted since the boot: restore needs restore_flavor_id
	case err != nil:
		return Flavor{}, fmt.Errorf("show flavor %s: %w", id, openstack.Classify(err))
	}
	return Flavor{ID: fl.ID, Name: fl.Name, VCPUs: fl.VCPUs, RAM: fl.RAM, Disk: fl.Disk}, nil
}

// attachments describes the server's volumes: Nova's attachments (device,
// delete_on_termination) with Cinder's bootable flag and attachment id.
func attachments(ctx context.Context, cl *openstack.Clients, id string) (map[string]Attachment, error) {
	sc, err := cl.Compute()
	if err != nil {
		return nil, err
	}
	sc.Microversion = attachMicroversion
	pages, err := volumeattach.List(sc, id).AllPages(ctx)
	if err != nil {
		return nil, fmt.Errorf("list the volumes of server %s: %w", id, openstack.Classify(err))
	}
	vas, err := volumeattach.ExtractVolumeAttachments(pages)
	if err != nil {
		return nil, err
	}
	bs, err := cl.BlockStorage()
	if err != nil {
		return nil, err
	}
	out := map[string]Attachment{}
	for _, va := range vas {
		a := Attachment{VolumeID: va.VolumeID, ServerID: id, Device: va.Device,
			DeleteOnTermination: va.DeleteOnTermination != nil && *va.DeleteOnTermination}
		v, err := volumes.Get(ctx, bs, va.VolumeID).Extract()
		if err != nil {
			return nil, fmt.Errorf("show volume %s: %w", va.VolumeID, openstack.Classify(err))
		}
		a.Bootable = v.Bootable == "true"
		for _, at := range v.Attachments {
			if at.ServerID == id {
				a.AttachmentID = at.AttachmentID
			}
		}
		out[va.VolumeID] = a
	}
	return out, nil
}

// boot says what the server boots from: its image, else the volume at its
// first device (the root device comes first), preferring bootable ones.
func boot(sv *servers.Server, att map[string]Attachment) BootMetadata {
	if id, _ := sv.Image["id"].(string); id != "" {
		return BootMetadata{BootDeviceType: BootImage, BootImageID: id}
	}
	var root *Attachment
	for _, a := range att {
		if root == nil || a.Bootable && !root.Bootable || a.Bootable == root.Bootable && a.Device < root.Device {
			root = &a
		}
	}
	bm := BootMetadata{BootDeviceType: BootVolume}
	if root != nil {
		bm.BootVolumeID, bm.BootAttachMetadata = root.VolumeID, root
	}
	return bm
}

// describePorts adds the server's Neutron ports, their floating IPs, their
// networks and their security groups.
func describePorts(ctx context.Context, cl *openstack.Clients, sv *servers.Server, md *Metadata) error {
	nc, err := cl.Network()
	if err != nil {
		return err
	}
	pages, err := ports.List(nc, ports.ListOpts{DeviceID: sv.ID}).AllPages(ctx)
	if err != nil {
		return fmt.Errorf("list the ports of server %s: %w", sv.ID, openstack.Classify(err))
	}
	pts, err := ports.ExtractPorts(pages)
	if err != nil {
		return err
	}
	slices.SortFunc(pts, func(a, b ports.Port) int { return a.CreatedAt.Compare(b.CreatedAt) })
	sm := &md.ServerMetadata
	var sgIDs []string
	for _, pt := range pts {
		sp := Port{ID: pt.ID, Name: pt.Name, NetworkID: pt.NetworkID, MACAddress: pt.MACAddress,
			SecurityGroups: pt.SecurityGroups, FixedIPs: []FixedIP{}}
		for _, ip := range pt.FixedIPs {
			sp.FixedIPs = append(sp.FixedIPs, FixedIP{SubnetID: ip.SubnetID, IPAddress: ip.IPAddress})
		}
		if sp.FloatingIPs, err = portFloatingIPs(ctx, nc, pt.ID); err != nil {
			return err
		}
		for _, f := range sp.FloatingIPs {
			sm.FloatingIPs = append(sm.FloatingIPs, f.Address)
		}
		if !slices.Contains(sm.Networks, pt.NetworkID) {
			sm.Networks = append(sm.Networks, pt.NetworkID)
		}
		for _, g := range pt.SecurityGroups {
			if !slices.Contains(sgIDs, g) {
				sgIDs = append(sgIDs, g)
			}
		}
		md.Ports = append(md.Ports, sp)
	}
	for _, g := range sgIDs {
		sg, err := groups.Get(ctx, nc, g).Extract()
		if err != nil {
			return fmt.Errorf("show security group %s: %w", g, openstack.Classify(err))
		}
		sm.SecurityGroups = append(sm.SecurityGroups, SecurityGroup{Name: sg.Name, ID: sg.ID})
	}
	if len(pts) == 0 { // no Neutron port: Nova's names are all there is
		for _, g := range sv.SecurityGroups {
			if name, _ := g["name"].(string); name != "" && !slices.ContainsFunc(sm.SecurityGroups,
				func(s SecurityGroup) bool { return s.Name == name }) {
				sm.SecurityGroups = append(sm.SecurityGroups, SecurityGroup{Name: name})
			}
		}
	}
	return nil
}

// portFloatingIPs are the floating IPs associated with a port.
func portFloatingIPs(ctx context.Context, nc *gophercloud.ServiceClient, port string) ([]FloatingIP, error) {
	pages, err := floatingips.List(nc, floatingips.ListOpts{PortID: port}).AllPages(ctx)
	if err != nil {
		return nil, fmt.Errorf("list the floating IPs of port %s: %w", port, openstack.Classify(err))
	}
	fips, err := floatingips.ExtractFloatingIPs(pages)
	if err != nil {
		return nil, err
	}
	var out []FloatingIP
	for _, f := range fips {
		out = append(out, FloatingIP{Address: f.FloatingIP, NetworkID: f.FloatingNetworkID, FixedIP: f.FixedIP})
	}
	return out, nil
}
