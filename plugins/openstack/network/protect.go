package network

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/routers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"

	"github.com/pouchdp/pouch/plugins/openstack"
	"github.com/pouchdp/pouch/shared/protection"
)

// protect saves the topology of the project the operation acts in, which
// must be the resource's.
func (p *Plugin) protect(ctx context.Context, hc *protection.HookContext) error {
	return openstack.Protect(ctx, hc, func() error {
		cl, err := p.ConnectProject(ctx, hc)
		if err != nil {
			return err
		}
		sc, err := cl.Network()
		if err != nil {
			return err
		}
		t, err := collect(ctx, neutron{sc: sc, log: hc.Log}, cl.ProjectID)
		if err != nil {
			return err
		}
		size := weight(t)
		hc.Progress.AddTotal(size)
		if err := openstack.SaveMetadata(ctx, hc, t); err != nil {
			return err
		}
		hc.Progress.AddDone(size)
		hc.Log.InfoContext(ctx, "network topology saved", "networks", len(t.Networks), "subnets", len(t.Subnets),
			"routers", len(t.Routers), "interfaces", len(t.RouterInterfaces), "security_groups", len(t.SecurityGroups),
			"ports", len(t.Ports), "server_ports", len(t.ServerPorts), "floating_ips", len(t.FloatingIPs))
		return nil
	})
}

// collect reads the objects project owns. The collections are read one
// after the other while others may change them: what refers to an object
// that is not saved (a subnet of a network created meanwhile, a port on
// another project's network) is left out, so that the topology is
// consistent.
func collect(ctx context.Context, n neutron, project string) (*Topology, error) {
	t := &Topology{ProjectID: project}
	nets, err := listAll[Network](ctx, networks.List(n.sc, networks.ListOpts{ProjectID: project}), "networks")
	if err != nil {
		return nil, err
	}
	for _, nw := range nets {
		if nw.External {
			n.log.InfoContext(ctx, "external network referenced, not saved", "network", nw.ID, "name", nw.Name)
			continue
		}
		t.Networks = append(t.Networks, nw)
	}
	subs, err := listAll[Subnet](ctx, subnets.List(n.sc, subnets.ListOpts{ProjectID: project}), "subnets")
	if err != nil {
		return nil, err
	}
	for _, s := range subs {
		if t.network(s.NetworkID) {
			t.Subnets = append(t.Subnets, s)
		}
	}
	if t.Routers, err = listAll[Router](ctx, routers.List(n.sc, routers.ListOpts{ProjectID: project}), "routers"); err != nil {
		return nil, err
	}
	if t.SecurityGroups, err = listAll[SecurityGroup](ctx, groups.List(n.sc, groups.ListOpts{ProjectID: project}),
		"security_groups"); err != nil {
		return nil, err
	}
	if t.FloatingIPs, err = listAll[FloatingIP](ctx, floatingips.List(n.sc, floatingips.ListOpts{ProjectID: project}),
		"floatingips"); err != nil {
		return nil, err
	}
	all, err := listAll[Port](ctx, ports.List(n.sc, ports.ListOpts{ProjectID: project}), "ports")
	if err != nil {
		return nil, err
	}
	for _, p := range all {
		t.addPort(ctx, n, p)
	}
	return t, nil
}

// addPort files a port as a router interface, a server's port or a
// standalone one; Neutron's other ports (DHCP, gateways) are not saved.
func (t *Topology) addPort(ctx context.Context, n neutron, p Port) {
	switch {
	case p.IsServerPort():
		t.ServerPorts = append(t.ServerPorts, p)
		return
	case !p.isRouterInterface() && !p.isStandalone():
		return
	}
	fixed := slices.DeleteFunc(slices.Clone(p.FixedIPs), func(ip FixedIP) bool { return !t.subnet(ip.SubnetID) })
	if !t.network(p.NetworkID) || (len(p.FixedIPs) > 0 && len(fixed) == 0) {
		n.log.InfoContext(ctx, "port on a network or subnet not saved, left out", "port", p.ID, "network", p.NetworkID)
		return
	}
	p.FixedIPs = fixed
	if !p.isRouterInterface() {
		t.Ports = append(t.Ports, p)
		return
	}
	if !slices.ContainsFunc(t.Routers, func(r Router) bool { return r.ID == p.DeviceID }) {
		n.log.InfoContext(ctx, "interface of a router not saved, left out", "port", p.ID, "router", p.DeviceID)
		return
	}
	t.RouterInterfaces = append(t.RouterInterfaces, RouterInterface{RouterID: p.DeviceID, PortID: p.ID,
		NetworkID: p.NetworkID, FixedIPs: p.FixedIPs})
}

// network tells whether the network id is saved.
func (t *Topology) network(id string) bool {
	return slices.ContainsFunc(t.Networks, func(n Network) bool { return n.ID == id })
}

// subnet tells whether the subnet id is saved.
func (t *Topology) subnet(id string) bool {
	return slices.ContainsFunc(t.Subnets, func(s Subnet) bool { return s.ID == id })
}

// weight is v's size in JSON: the unit of the plugin's progress.
func weight(v any) int64 {
	b, err := json.Marshal(v)
	if err != nil {
		return 0
	}
	return int64(len(b))
}
