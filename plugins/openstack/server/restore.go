package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/keypairs"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/volumeattach"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"

	"github.com/pouchdp/pouch/plugins/openstack"
	"github.com/pouchdp/pouch/shared/protection"
)

// restore (on_complete, after the children) rebuilds the server.
func (p *Plugin) restore(ctx context.Context, hc *protection.HookContext) error {
	r := &restorer{Plugin: p, hc: hc, journal: journal{hc.NewResources, hc.Resource.ID + "/"}}
	if err := openstack.LoadMetadata(ctx, hc, &r.md); err != nil {
		return err
	}
	err := r.connect(ctx)
	if err == nil {
		err = r.run(ctx)
	}
	switch {
	case err == nil:
		hc.Log.InfoContext(ctx, "server restored", "new", r.server)
		return openstack.Restored(ctx, hc, openstack.TypeServer, hc.Resource.ID, r.server, openstack.RestoreAvailable, "")
	case openstack.IsTransient(err) && !hc.LastAttempt:
		// The next attempt goes on with what this one made (the journal).
		return err
	}
	r.fail(context.WithoutCancel(ctx), err)
	return err
}

// restorer is one restore of one server.
type restorer struct {
	*Plugin
	hc      *protection.HookContext
	md      Metadata
	journal journal
	compute *gophercloud.ServiceClient
	network *gophercloud.ServiceClient
	volume  *gophercloud.ServiceClient
	image   *gophercloud.ServiceClient
	project string

	server  string   // the new server, once booted
	ports   []string // the new ports, one per saved port
	created []string // the ports this restore created (deleted if it fails)
	fips    []string // the floating IPs it created (deleted if it fails)
}

// journal keeps, in the restore's new_resources, what a restore of one
// server has made, under "<server id>/<what>".
type journal struct {
	nr     protection.NewResources
	prefix string
}

func (j journal) get(ctx context.Context, what string) (string, bool, error) {
	return j.nr.Get(ctx, j.prefix+what)
}

func (j journal) set(ctx context.Context, what, id string) error {
	if err := j.nr.Set(ctx, j.prefix+what, id); err != nil {
		return fmt.Errorf("record %s: %w", what, err)
	}
	return nil
}

func (r *restorer) connect(ctx context.Context) error {
	cl, err := r.Connect(ctx, r.hc)
	if err != nil {
		return err
	}
	r.project = cl.ProjectID
	if r.compute, err = cl.Compute(); err != nil {
		return err
	}
	if r.network, err = cl.Network(); err != nil {
		return err
	}
	if r.volume, err = cl.BlockStorage(); err != nil {
		return err
	}
	r.image, err = cl.Image()
	return err
}

// run boots the server on its ports, waits until it is ACTIVE, attaches
// its volumes and associates its floating IPs.
func (r *restorer) run(ctx context.Context) error {
	opts := servers.CreateOpts{
		Name:             cmp.Or(r.hc.StringParam("restore_name", ""), r.md.Name),
		AvailabilityZone: r.md.ServerMetadata.AvailabilityZone,
		Metadata:         r.md.ServerMetadata.Metadata,
	}
	var err error
	if opts.FlavorRef, err = r.flavor(ctx); err != nil {
		return err
	}
	if err := r.bootSource(ctx, &opts); err != nil {
		return err
	}
	key, err := r.keyName(ctx)
	if err != nil {
		return err
	}
	if opts.Networks, err = r.nics(ctx); err != nil {
		return err
	}
	if len(r.md.Ports) == 0 {
		for _, g := range r.md.ServerMetadata.SecurityGroups {
			opts.SecurityGroups = append(opts.SecurityGroups, g.Name)
		}
	}
	if err := r.boot(ctx, keypairs.CreateOptsExt{CreateOptsBuilder: opts, KeyName: key}); err != nil {
		return err
	}
	if err := r.Poll.Wait(ctx, "server "+r.server+" "+statusActive, serverStatus(r.compute, r.server, statusActive)); err != nil {
		return err
	}
	if err := r.attachVolumes(ctx); err != nil {
		return err
	}
	return r.floatingIPs(ctx)
}

// mapped is what the restore made of the original resource id (new_resources),
// else the original itself if show finds it.
func (r *restorer) mapped(ctx context.Context, what, id string, show func(context.Context, string) error) (string, error) {
	if id == "" {
		return "", fmt.Errorf("%w: the saved %s has no id", protection.ErrInvalid, what)
	}
	n, ok, err := r.hc.NewResources.Get(ctx, id)
	if err != nil {
		return "", fmt.Errorf("new id of %s %s: %w", what, id, err)
	}
	if ok {
		return n, nil
	}
	if err := show(ctx, id); err != nil {
		if openstack.IsNotFound(err) {
			return "", fmt.Errorf("%w: %s %s was not restored and no longer exists", protection.ErrNotFound, what, id)
		}
		return "", fmt.Errorf("show %s %s: %w", what, id, openstack.Classify(err))
	}
	r.hc.Log.InfoContext(ctx, "not restored: the original is used", "type", what, "id", id)
	return id, nil
}

func (r *restorer) showImage(ctx context.Context, id string) error {
	_, err := images.Get(ctx, r.image, id).Extract()
	return err
}

func (r *restorer) showVolume(ctx context.Context, id string) error {
	_, err := volumes.Get(ctx, r.volume, id).Extract()
	return err
}

func (r *restorer) showNetwork(ctx context.Context, id string) error {
	_, err := networks.Get(ctx, r.network, id).Extract()
	return err
}

func (r *restorer) showSubnet(ctx context.Context, id string) error {
	_, err := subnets.Get(ctx, r.network, id).Extract()
	return err
}

// flavor is restore_flavor_id, else the saved flavor if it still exists,
// else a flavor with its name.
func (r *restorer) flavor(ctx context.Context) (string, error) {
	if id := r.hc.StringParam("restore_flavor_id", ""); id != "" {
		_, err := flavors.Get(ctx, r.compute, id).Extract()
		if openstack.IsNotFound(err) {
			return "", fmt.Errorf("%w: restore_flavor_id: no flavor %s", protection.ErrInvalid, id)
		}
		if err != nil {
			return "", fmt.Errorf("show flavor %s: %w", id, openstack.Classify(err))
		}
		return id, nil
	}
	saved := r.md.Flavor
	_, err := flavors.Get(ctx, r.compute, saved.ID).Extract()
	if err == nil {
		return saved.ID, nil
	}
	if !openstack.IsNotFound(err) {
		return "", fmt.Errorf("show flavor %s: %w", saved.ID, openstack.Classify(err))
	}
	if saved.Name != "" {
		pages, err := flavors.ListDetail(r.compute, flavors.ListOpts{AccessType: flavors.AllAccess}).AllPages(ctx)
		if err != nil {
			return "", fmt.Errorf("list flavors: %w", openstack.Classify(err))
		}
		all, err := flavors.ExtractFlavors(pages)
		if err != nil {
			return "", err
		}
		if i := slices.IndexFunc(all, func(f flavors.Flavor) bool { return f.Name == saved.Name }); i >= 0 {
			r.hc.Log.InfoContext(ctx, "flavor gone: one of the same name is used", "saved", saved.ID, "name", saved.Name,
				"flavor", all[i].ID)
			return all[i].ID, nil
		}
	}
	return "", fmt.Errorf("%w: flavor %s (%q) no longer exists and no flavor has its name: give restore_flavor_id",
		protection.ErrNotFound, saved.ID, saved.Name)
}

// bootSource sets the image, or the boot volume, of the new server.
func (r *restorer) bootSource(ctx context.Context, opts *servers.CreateOpts) error {
	bm := r.md.BootMetadata
	switch bm.BootDeviceType {
	case BootImage:
		id, err := r.mapped(ctx, "image", bm.BootImageID, r.showImage)
		opts.ImageRef = id
		return err
	case BootVolume:
		id, err := r.mapped(ctx, "volume", bm.BootVolumeID, r.showVolume)
		opts.BlockDevice = []servers.BlockDevice{{UUID: id, SourceType: servers.SourceVolume,
			DestinationType: servers.DestinationVolume, BootIndex: 0}}
		return err
	}
	return fmt.Errorf("%w: unknown boot device type %q", protection.ErrInvalid, bm.BootDeviceType)
}

// keyName is the saved key pair's name if the restoring user has it.
func (r *restorer) keyName(ctx context.Context) (string, error) {
	name := r.md.ServerMetadata.KeyName
	if name == "" {
		return "", nil
	}
	_, err := keypairs.Get(ctx, r.compute, name, nil).Extract()
	if openstack.IsNotFound(err) {
		r.hc.Log.WarnContext(ctx, "key pair not found: the server is restored without it", "key_name", name)
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("show key pair %s: %w", name, openstack.Classify(err))
	}
	return name, nil
}

// nics makes a port for each saved one and returns them as the server's
// networks.
func (r *restorer) nics(ctx context.Context) ([]servers.Network, error) {
	target := r.hc.StringParam("restore_net_id", "")
	var out []servers.Network
	for _, sp := range r.md.Ports {
		id, err := r.port(ctx, sp, target)
		if err != nil {
			return nil, err
		}
		r.ports = append(r.ports, id)
		out = append(out, servers.Network{Port: id})
	}
	if len(out) == 0 && target != "" {
		out = []servers.Network{{UUID: target}}
	}
	return out, nil
}

// port returns the new port of saved port sp: the one an earlier attempt
// made, the one the network's restore made, or a new one on the restored
// (or target) network with the saved addresses and security groups.
func (r *restorer) port(ctx context.Context, sp Port, target string) (string, error) {
	step := "port/" + sp.ID
	if id, ok, err := r.journal.get(ctx, step); err != nil {
		return "", err
	} else if ok {
		_, err := ports.Get(ctx, r.network, id).Extract()
		if err == nil {
			r.created = append(r.created, id)
			return id, nil
		}
		if !openstack.IsNotFound(err) {
			return "", fmt.Errorf("show port %s: %w", id, openstack.Classify(err))
		}
	}
	if target == "" {
		if id, ok, err := r.hc.NewResources.Get(ctx, sp.ID); err != nil {
			return "", err
		} else if ok {
			return id, r.takePort(ctx, id)
		}
	}
	network := target
	if network == "" {
		var err error
		if network, err = r.mapped(ctx, "network", sp.NetworkID, r.showNetwork); err != nil {
			return "", err
		}
	}
	ips, err := r.fixedIPs(ctx, sp, network)
	if err != nil {
		return "", err
	}
	opts := ports.CreateOpts{NetworkID: network, Name: sp.Name}
	if len(ips) > 0 {
		opts.FixedIPs = ips
	}
	if sgs, err := r.securityGroups(ctx, sp.SecurityGroups); err != nil {
		return "", err
	} else if len(sgs) > 0 {
		opts.SecurityGroups = &sgs
	}
	pt, err := ports.Create(ctx, r.network, opts).Extract()
	if gophercloud.ResponseCodeIs(err, http.StatusConflict) && len(ips) > 0 {
		r.hc.Log.WarnContext(ctx, "saved addresses taken: the port gets new ones", "port", sp.ID, "ips", ips, "err", err)
		for i := range ips {
			ips[i].IPAddress = ""
		}
		pt, err = ports.Create(ctx, r.network, opts).Extract()
	}
	if err != nil {
		return "", fmt.Errorf("create a port on network %s: %w", network, openstack.Classify(err))
	}
	r.created = append(r.created, pt.ID)
	return pt.ID, r.journal.set(ctx, step, pt.ID)
}

// takePort readies a port the network's restore made for the server: it
// must not name a device (a copy of the original's binding).
func (r *restorer) takePort(ctx context.Context, id string) error {
	pt, err := ports.Get(ctx, r.network, id).Extract()
	if err != nil {
		return fmt.Errorf("show restored port %s: %w", id, openstack.Classify(err))
	}
	if pt.DeviceID == "" {
		return nil
	}
	if done, _, err := r.journal.get(ctx, "server"); err == nil && done == pt.DeviceID {
		return nil // bound to this restore's server by an earlier attempt
	}
	empty := ""
	if _, err := ports.Update(ctx, r.network, id, ports.UpdateOpts{DeviceID: &empty, DeviceOwner: &empty}).Extract(); err != nil {
		return fmt.Errorf("free restored port %s: %w", id, openstack.Classify(err))
	}
	return nil
}

// fixedIPs are sp's addresses on the restored subnets of network.
func (r *restorer) fixedIPs(ctx context.Context, sp Port, network string) ([]ports.IP, error) {
	var out []ports.IP
	for _, ip := range sp.FixedIPs {
		subnet, err := r.mapped(ctx, "subnet", ip.SubnetID, r.showSubnet)
		if errors.Is(err, protection.ErrNotFound) {
			r.hc.Log.WarnContext(ctx, "address dropped", "ip", ip.IPAddress, "err", err)
			continue
		}
		if err != nil {
			return nil, err
		}
		sn, err := subnets.Get(ctx, r.network, subnet).Extract()
		if err != nil {
			return nil, fmt.Errorf("show subnet %s: %w", subnet, openstack.Classify(err))
		}
		if sn.NetworkID != network {
			r.hc.Log.WarnContext(ctx, "address dropped: its subnet is not on the port's network", "ip", ip.IPAddress,
				"subnet", subnet, "network", network)
			continue
		}
		out = append(out, ports.IP{SubnetID: subnet, IPAddress: ip.IPAddress})
	}
	return out, nil
}

// securityGroups maps saved group ids to the restored groups, else to the
// project's groups of the same name.
func (r *restorer) securityGroups(ctx context.Context, saved []string) ([]string, error) {
	var out []string
	for _, id := range saved {
		n, ok, err := r.hc.NewResources.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		if !ok {
			i := slices.IndexFunc(r.md.ServerMetadata.SecurityGroups, func(g SecurityGroup) bool { return g.ID == id })
			if i < 0 {
				r.hc.Log.WarnContext(ctx, "security group of unknown name dropped", "security_group", id)
				continue
			}
			name := r.md.ServerMetadata.SecurityGroups[i].Name
			if n, err = r.groupNamed(ctx, name); err != nil {
				return nil, err
			}
			if n == "" {
				r.hc.Log.WarnContext(ctx, "security group not restored and none has its name: dropped",
					"security_group", id, "name", name)
				continue
			}
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out, nil
}

// groupNamed is the id of the project's security group called name ("" if
// there is none).
func (r *restorer) groupNamed(ctx context.Context, name string) (string, error) {
	pages, err := groups.List(r.network, groups.ListOpts{Name: name, ProjectID: r.project}).AllPages(ctx)
	if err != nil {
		return "", fmt.Errorf("list security groups %q: %w", name, openstack.Classify(err))
	}
	all, err := groups.ExtractGroups(pages)
	if err != nil || len(all) == 0 {
		return "", err
	}
	return all[0].ID, nil
}

// boot creates the server, unless an earlier attempt did: the journal says
// so, or one of the ports is bound to a server (a create whose answer was
// lost). The server is reported restoring as soon as its id is known.
func (r *restorer) boot(ctx context.Context, opts servers.CreateOptsBuilder) error {
	id, ok, err := r.journal.get(ctx, "server")
	if err != nil {
		return err
	}
	if ok {
		if _, err := servers.Get(ctx, r.compute, id).Extract(); err != nil && !openstack.IsNotFound(err) {
			return fmt.Errorf("show server %s: %w", id, openstack.Classify(err))
		} else if err != nil {
			ok = false
		}
	}
	if !ok {
		for _, pid := range r.ports {
			pt, err := ports.Get(ctx, r.network, pid).Extract()
			if err != nil {
				return fmt.Errorf("show port %s: %w", pid, openstack.Classify(err))
			}
			if pt.DeviceID != "" {
				id, ok = pt.DeviceID, true
				r.hc.Log.WarnContext(ctx, "a server of an earlier attempt holds the port: it is kept", "server", id, "port", pid)
				break
			}
		}
	}
	if !ok {
		sv, err := servers.Create(ctx, r.compute, opts, nil).Extract()
		if err != nil {
			return fmt.Errorf("create server: %w", openstack.Classify(err))
		}
		id = sv.ID
	}
	r.server = id
	if err := r.journal.set(ctx, "server", id); err != nil {
		return err
	}
	return openstack.Restored(ctx, r.hc, openstack.TypeServer, r.hc.Resource.ID, id, openstack.RestoreRestoring, "")
}

// attachVolumes attaches the restored volumes, but the boot volume, at their
// saved devices and waits until each is in-use.
func (r *restorer) attachVolumes(ctx context.Context) error {
	var att []Attachment
	for _, a := range r.md.AttachMetadata {
		if a.VolumeID != r.md.BootMetadata.BootVolumeID || r.md.BootMetadata.BootDeviceType != BootVolume {
			att = append(att, a)
		}
	}
	slices.SortFunc(att, func(a, b Attachment) int { return cmp.Compare(a.Device, b.Device) })
	for _, a := range att {
		vol, err := r.mapped(ctx, "volume", a.VolumeID, r.showVolume)
		if err != nil {
			return err
		}
		_, err = volumeattach.Get(ctx, r.compute, r.server, vol).Extract()
		switch {
		case openstack.IsNotFound(err):
			_, err = volumeattach.Create(ctx, r.compute, r.server, volumeattach.CreateOpts{VolumeID: vol, Device: a.Device}).Extract()
			if err != nil {
				return fmt.Errorf("attach volume %s at %s: %w", vol, a.Device, openstack.Classify(err))
			}
		case err != nil:
			return fmt.Errorf("show the attachment of volume %s: %w", vol, openstack.Classify(err))
		}
		if err := r.Poll.Wait(ctx, "volume "+vol+" in-use", r.attached(vol)); err != nil {
			return err
		}
		r.hc.Log.InfoContext(ctx, "volume attached", "volume", vol, "device", a.Device)
	}
	return nil
}

// attached checks that volume vol is in-use; an attachment Nova dropped
// (the volume back to available without it) ends the wait.
func (r *restorer) attached(vol string) openstack.Check {
	return func(ctx context.Context) (string, bool, error) {
		v, err := volumes.Get(ctx, r.volume, vol).Extract()
		if err != nil {
			return "", false, openstack.Classify(err)
		}
		switch v.Status {
		case "in-use":
			return v.Status, true, nil
		case "error", "error_attaching":
			return v.Status, false, fmt.Errorf("volume %s: %s", vol, v.Status)
		case "available":
			_, err := volumeattach.Get(ctx, r.compute, r.server, vol).Extract()
			if openstack.IsNotFound(err) {
				return v.Status, false, fmt.Errorf("attaching volume %s failed: it is available and not attached", vol)
			}
		}
		return v.Status, false, nil
	}
}

// floatingIPs associates each port's floating IPs again: the saved address
// if it is free, else a new one on its network.
func (r *restorer) floatingIPs(ctx context.Context) error {
	for i, sp := range r.md.Ports {
		for _, f := range sp.FloatingIPs {
			if err := r.floatingIP(ctx, r.ports[i], f); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *restorer) floatingIP(ctx context.Context, port string, f FloatingIP) error {
	network := f.NetworkID
	if n, ok, err := r.hc.NewResources.Get(ctx, network); err != nil {
		return err
	} else if ok {
		network = n
	}
	pages, err := floatingips.List(r.network, floatingips.ListOpts{FloatingNetworkID: network}).AllPages(ctx)
	if err != nil {
		return fmt.Errorf("list floating IPs: %w", openstack.Classify(err))
	}
	all, err := floatingips.ExtractFloatingIPs(pages)
	if err != nil {
		return err
	}
	if slices.ContainsFunc(all, func(x floatingips.FloatingIP) bool { return x.PortID == port && x.FloatingIP == f.Address }) {
		return nil // an earlier attempt did it
	}
	if i := slices.IndexFunc(all, func(x floatingips.FloatingIP) bool { return x.FloatingIP == f.Address }); i >= 0 && all[i].PortID == "" {
		_, err := floatingips.Update(ctx, r.network, all[i].ID, floatingips.UpdateOpts{PortID: &port}).Extract()
		if err != nil {
			return fmt.Errorf("associate floating IP %s: %w", f.Address, openstack.Classify(err))
		}
		return nil
	}
	step := "floatingip/" + f.Address
	if id, ok, err := r.journal.get(ctx, step); err != nil {
		return err
	} else if ok && slices.ContainsFunc(all, func(x floatingips.FloatingIP) bool { return x.ID == id }) {
		r.fips = append(r.fips, id)
		if slices.ContainsFunc(all, func(x floatingips.FloatingIP) bool { return x.ID == id && x.PortID == port }) {
			return nil
		}
	}
	opts := floatingips.CreateOpts{FloatingNetworkID: network, PortID: port}
	if !slices.ContainsFunc(all, func(x floatingips.FloatingIP) bool { return x.FloatingIP == f.Address }) {
		opts.FloatingIP = f.Address // released: ask for it again (an admin may)
	}
	fip, err := floatingips.Create(ctx, r.network, opts).Extract()
	if err != nil && opts.FloatingIP != "" {
		r.hc.Log.InfoContext(ctx, "saved floating IP not granted", "address", f.Address, "err", err)
		opts.FloatingIP = ""
		fip, err = floatingips.Create(ctx, r.network, opts).Extract()
	}
	if err != nil {
		return fmt.Errorf("create a floating IP on network %s: %w", network, openstack.Classify(err))
	}
	r.fips = append(r.fips, fip.ID)
	if fip.FloatingIP != f.Address {
		r.hc.Log.WarnContext(ctx, "saved floating IP not free: a new one is associated", "saved", f.Address, "new", fip.FloatingIP)
	}
	return r.journal.set(ctx, step, fip.ID)
}

// fail reports the restore of the server failed and deletes what it made.
func (r *restorer) fail(ctx context.Context, cause error) {
	log := r.hc.Log
	if r.server != "" {
		if err := openstack.Restored(ctx, r.hc, openstack.TypeServer, r.hc.Resource.ID, r.server, openstack.RestoreError,
			cause.Error()); err != nil {
			log.WarnContext(ctx, "cannot report the failure", "err", err)
		}
		if err := r.deleteServer(ctx); err != nil {
			log.WarnContext(ctx, "cannot delete the half-made server", "server", r.server, "err", err)
		}
	}
	for _, id := range r.fips {
		if err := floatingips.Delete(ctx, r.network, id).ExtractErr(); err != nil && !openstack.IsNotFound(err) {
			log.WarnContext(ctx, "cannot delete a floating IP the restore made", "floating_ip", id, "err", err)
		}
	}
	for _, id := range r.created {
		if err := ports.Delete(ctx, r.network, id).ExtractErr(); err != nil && !openstack.IsNotFound(err) {
			log.WarnContext(ctx, "cannot delete a port the restore made", "port", id, "err", err)
		}
	}
	log.WarnContext(ctx, "server restore failed: what it made is deleted", "server", r.server, "ports", r.created,
		"err", cause)
}

// deleteServer deletes the new server and waits until it is gone, so that
// its ports and volumes are free.
func (r *restorer) deleteServer(ctx context.Context) error {
	if err := servers.Delete(ctx, r.compute, r.server).ExtractErr(); err != nil {
		if openstack.IsNotFound(err) {
			return nil
		}
		return openstack.Classify(err)
	}
	return r.Poll.Wait(ctx, "server "+r.server+" deleted", func(ctx context.Context) (string, bool, error) {
		sv, err := servers.Get(ctx, r.compute, r.server).Extract()
		if openstack.IsNotFound(err) {
			return "deleted", true, nil
		}
		if err != nil {
			return "", false, openstack.Classify(err)
		}
		return sv.Status, false, nil
	})
}
