package network

import (
	"context"
	"fmt"
	"net/http"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/routers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"

	"github.com/pouchdp/pouch/plugins/openstack"
	"github.com/pouchdp/pouch/shared/protection"
)

// restorer recreates a saved topology in the project the restore acts in.
type restorer struct {
	n       neutron
	hc      *protection.HookContext
	t       *Topology
	project string
	public  string            // public_network_id: the gateway network of restored routers
	ids     map[string]string // saved id → new id, as recorded in NewResources
}

// restore recreates the saved topology, in dependency order. An object a
// previous attempt of the same restore created (NewResources says so) and
// that still exists is reused, so that a retried attempt creates only
// what is missing.
func (p *Plugin) restore(ctx context.Context, hc *protection.HookContext) error {
	var t Topology
	if err := openstack.LoadMetadata(ctx, hc, &t); err != nil {
		return err
	}
	cl, err := p.Connect(ctx, hc)
	if err != nil {
		return err
	}
	sc, err := cl.Network()
	if err != nil {
		return err
	}
	r := &restorer{n: neutron{sc: sc, log: hc.Log}, hc: hc, t: &t, project: cl.ProjectID,
		public: hc.StringParam(ParamPublicNetwork, ""), ids: map[string]string{}}
	steps := []struct {
		what string
		run  func(context.Context) error
		of   any // the saved objects: the step's weight in progress
	}{
		{"security groups", r.securityGroups, t.SecurityGroups},
		{"networks", r.networks, t.Networks},
		{"subnets", r.subnets, t.Subnets},
		{"routers", r.routers, t.Routers},
		{"router interfaces", r.interfaces, t.RouterInterfaces},
		{"ports", r.ports, t.Ports},
	}
	for _, s := range steps {
		hc.Progress.AddTotal(weight(s.of))
	}
	for _, s := range steps {
		if err := s.run(ctx); err != nil {
			return fmt.Errorf("restore %s: %w", s.what, err)
		}
		hc.Progress.AddDone(weight(s.of))
	}
	hc.Log.InfoContext(ctx, "network topology restored", "saved_project", t.ProjectID, "project", r.project,
		"objects", len(r.ids))
	return nil
}

// created returns the id a previous attempt created for the saved object
// old, if that object still exists (read into v unless nil).
func (r *restorer) created(ctx context.Context, k kind, old string, v any) (string, bool, error) {
	id, ok, err := r.hc.NewResources.Get(ctx, old)
	if err != nil {
		return "", false, fmt.Errorf("new id of %s %s: %w", k.key, old, err)
	}
	if !ok {
		return "", false, nil
	}
	if err := r.n.get(ctx, k, id, v); err != nil {
		if openstack.IsNotFound(err) {
			r.hc.Log.InfoContext(ctx, "created by an earlier attempt but gone: creating it again", "kind", k.key,
				"saved", old, "new", id)
			return "", false, nil
		}
		return "", false, err
	}
	r.ids[old] = id
	return id, true, nil
}

// record notes that the saved object old is now newID.
func (r *restorer) record(ctx context.Context, old, newID string) error {
	r.ids[old] = newID
	if err := r.hc.NewResources.Set(ctx, old, newID); err != nil {
		return fmt.Errorf("record new id of %s: %w", old, err)
	}
	return nil
}

// securityGroups creates the groups, then their rules (which may refer to
// each other). The saved default group is the project's own.
func (r *restorer) securityGroups(ctx context.Context) error {
	for _, g := range r.t.SecurityGroups {
		_, ok, err := r.created(ctx, kindGroup, g.ID, nil)
		if err != nil {
			return err
		}
		if ok {
			continue
		}
		var id string
		if g.IsDefault() {
			id, err = r.defaultGroup(ctx)
		} else {
			attrs := map[string]any{"name": g.Name, "description": g.Description}
			if g.Stateful != nil && !*g.Stateful {
				attrs["stateful"] = false
			}
			id, err = r.n.create(ctx, kindGroup, attrs, nil)
		}
		if err != nil {
			return err
		}
		if err := r.record(ctx, g.ID, id); err != nil {
			return err
		}
	}
	for _, g := range r.t.SecurityGroups {
		if err := r.rules(ctx, g); err != nil {
			return err
		}
	}
	return nil
}

// defaultGroup is the id of the project's default group.
func (r *restorer) defaultGroup(ctx context.Context) (string, error) {
	gs, err := listAll[SecurityGroup](ctx, groups.List(r.n.sc, groups.ListOpts{Name: "default", ProjectID: r.project}),
		"security_groups")
	if err != nil {
		return "", err
	}
	if len(gs) == 0 {
		return "", fmt.Errorf("project %s has no default security group", r.project)
	}
	return gs[0].ID, nil
}

// rules adds to g's new group the saved rules it lacks (a new group has
// Neutron's default egress rules, the default group its own).
func (r *restorer) rules(ctx context.Context, g SecurityGroup) error {
	gid := r.ids[g.ID]
	var cur SecurityGroup
	if err := r.n.get(ctx, kindGroup, gid, &cur); err != nil {
		return err
	}
	for _, rule := range g.Rules {
		want, ok, err := r.mapRule(ctx, rule)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if i := indexRule(cur.Rules, want); i >= 0 {
			if err := r.record(ctx, rule.ID, cur.Rules[i].ID); err != nil {
				return err
			}
			continue
		}
		id, err := r.n.create(ctx, kindRule, want.attrs(gid), nil)
		if gophercloud.ResponseCodeIs(err, http.StatusConflict) {
			// Neutron found it the same as one there (it normalizes more).
			r.hc.Log.InfoContext(ctx, "rule already in the group", "group", gid, "rule", rule.ID, "err", err)
			continue
		}
		if err != nil {
			return err
		}
		if err := r.record(ctx, rule.ID, id); err != nil {
			return err
		}
	}
	return nil
}

// mapRule points a saved rule's remote group at its new group. A remote
// group not saved (another project's) is kept if it still exists; else the
// rule is skipped (false).
func (r *restorer) mapRule(ctx context.Context, rule Rule) (Rule, bool, error) {
	if rule.RemoteGroupID == "" {
		return rule, true, nil
	}
	if id, ok := r.ids[rule.RemoteGroupID]; ok {
		rule.RemoteGroupID = id
		return rule, true, nil
	}
	ok, err := r.n.exists(ctx, kindGroup, rule.RemoteGroupID)
	if err == nil && !ok {
		r.hc.Log.WarnContext(ctx, "rule skipped: its remote group is gone", "rule", rule.ID, "remote_group", rule.RemoteGroupID)
	}
	return rule, ok, err
}

// indexRule finds a rule like want (but for ids and description) in rs.
func indexRule(rs []Rule, want Rule) int {
	for i, r := range rs {
		if r.Direction == want.Direction && r.EtherType == want.EtherType && r.Protocol == want.Protocol &&
			intOr(r.PortRangeMin) == intOr(want.PortRangeMin) && intOr(r.PortRangeMax) == intOr(want.PortRangeMax) &&
			r.RemoteIPPrefix == want.RemoteIPPrefix && r.RemoteGroupID == want.RemoteGroupID &&
			r.RemoteAddressGroupID == want.RemoteAddressGroupID {
			return i
		}
	}
	return -1
}

func intOr(p *int) int {
	if p == nil {
		return -1
	}
	return *p
}

// attrs are the attributes to create the rule in group gid.
func (rule Rule) attrs(gid string) map[string]any {
	a := map[string]any{"security_group_id": gid, "direction": rule.Direction, "ethertype": rule.EtherType}
	for k, v := range map[string]string{"protocol": rule.Protocol, "remote_ip_prefix": rule.RemoteIPPrefix,
		"remote_group_id": rule.RemoteGroupID, "remote_address_group_id": rule.RemoteAddressGroupID,
		"description": rule.Description} {
		if v != "" {
			a[k] = v
		}
	}
	if rule.PortRangeMin != nil {
		a["port_range_min"] = *rule.PortRangeMin
	}
	if rule.PortRangeMax != nil {
		a["port_range_max"] = *rule.PortRangeMax
	}
	return a
}

// networks creates the networks and reports each in resources_status.
func (r *restorer) networks(ctx context.Context) error {
	for _, nw := range r.t.Networks {
		id, ok, err := r.created(ctx, kindNetwork, nw.ID, nil)
		if err != nil {
			return err
		}
		if !ok {
			attrs := map[string]any{"name": nw.Name, "description": nw.Description, "admin_state_up": nw.AdminStateUp}
			if nw.PortSecurityEnabled != nil {
				attrs["port_security_enabled"] = *nw.PortSecurityEnabled
			}
			extra := map[string]any{} // what a member may not set, or this cloud not take
			if nw.MTU > 0 {
				extra["mtu"] = nw.MTU
			}
			if nw.Shared {
				extra["shared"] = true
			}
			full, fallback := attrs, map[string]any(nil)
			if len(extra) > 0 {
				full, fallback = with(attrs, extra), attrs
			}
			if id, err = r.n.create(ctx, kindNetwork, full, fallback); err != nil {
				return err
			}
		}
		r.ids[nw.ID] = id
		if err := openstack.Restored(ctx, r.hc, openstack.TypeNetwork, nw.ID, id, openstack.RestoreAvailable, ""); err != nil {
			return err
		}
	}
	return nil
}

// subnets creates the subnets with the same addresses.
func (r *restorer) subnets(ctx context.Context) error {
	for _, s := range r.t.Subnets {
		_, ok, err := r.created(ctx, kindSubnet, s.ID, nil)
		if err != nil {
			return err
		}
		net, found := r.ids[s.NetworkID]
		if ok || !found {
			continue
		}
		attrs := map[string]any{"network_id": net, "name": s.Name, "description": s.Description, "cidr": s.CIDR,
			"ip_version": s.IPVersion, "enable_dhcp": s.EnableDHCP, "gateway_ip": nil}
		if s.GatewayIP != "" {
			attrs["gateway_ip"] = s.GatewayIP
		}
		if len(s.AllocationPools) > 0 {
			attrs["allocation_pools"] = s.AllocationPools
		}
		if len(s.DNSNameservers) > 0 {
			attrs["dns_nameservers"] = s.DNSNameservers
		}
		if len(s.HostRoutes) > 0 {
			attrs["host_routes"] = s.HostRoutes
		}
		if s.IPv6AddressMode != "" {
			attrs["ipv6_address_mode"] = s.IPv6AddressMode
		}
		if s.IPv6RAMode != "" {
			attrs["ipv6_ra_mode"] = s.IPv6RAMode
		}
		id, err := r.n.create(ctx, kindSubnet, attrs, nil)
		if err != nil {
			return err
		}
		if err := r.record(ctx, s.ID, id); err != nil {
			return err
		}
	}
	return nil
}

// routers creates the routers, with a gateway for those that had one.
func (r *restorer) routers(ctx context.Context) error {
	for _, rt := range r.t.Routers {
		_, ok, err := r.created(ctx, kindRouter, rt.ID, nil)
		if err != nil {
			return err
		}
		if ok {
			continue
		}
		gw, err := r.gatewayNetwork(ctx, rt)
		if err != nil {
			return err
		}
		attrs := map[string]any{"name": rt.Name, "description": rt.Description, "admin_state_up": rt.AdminStateUp}
		var fallback map[string]any
		if gw != "" {
			attrs["external_gateway_info"] = map[string]any{"network_id": gw}
			if snat := rt.Gateway.EnableSNAT; snat != nil && !*snat { // an admin's choice
				fallback = attrs
				attrs = with(attrs, map[string]any{"external_gateway_info": map[string]any{"network_id": gw, "enable_snat": false}})
			}
		}
		id, err := r.n.create(ctx, kindRouter, attrs, fallback)
		if err != nil {
			return err
		}
		if err := r.record(ctx, rt.ID, id); err != nil {
			return err
		}
	}
	return nil
}

// gatewayNetwork is the external network of a restored router that had a
// gateway: public_network_id if given, else its saved one if it still
// exists, else none.
func (r *restorer) gatewayNetwork(ctx context.Context, rt Router) (string, error) {
	if rt.Gateway == nil || rt.Gateway.NetworkID == "" {
		return "", nil
	}
	if r.public != "" {
		return r.public, nil
	}
	ok, err := r.n.exists(ctx, kindNetwork, rt.Gateway.NetworkID)
	if err != nil || ok {
		return rt.Gateway.NetworkID, err
	}
	r.hc.Log.WarnContext(ctx, "router restored without gateway: its external network is gone and no "+
		ParamPublicNetwork+" was given", "router", rt.ID, "name", rt.Name, "external_network", rt.Gateway.NetworkID)
	return "", nil
}

// interfaces plugs the routers into the new subnets at the saved
// addresses (a port with those fixed IPs, added as the interface), then
// sets the routers' static routes, whose next hops are now reachable.
func (r *restorer) interfaces(ctx context.Context) error {
	for _, ri := range r.t.RouterInterfaces {
		router, ok := r.ids[ri.RouterID]
		if !ok {
			continue
		}
		var port Port
		id, ok, err := r.created(ctx, kindPort, ri.PortID, &port)
		if err != nil {
			return err
		}
		if !ok {
			attrs := map[string]any{"network_id": r.ids[ri.NetworkID], "fixed_ips": r.fixedIPs(ri.FixedIPs),
				"security_groups": []string{}}
			if id, err = r.n.create(ctx, kindPort, attrs, nil); err != nil {
				return err
			}
			if err := r.record(ctx, ri.PortID, id); err != nil {
				return err
			}
		}
		if port.DeviceID == router {
			continue
		}
		if _, err := routers.AddInterface(ctx, r.n.sc, router, routers.AddInterfaceOpts{PortID: id}).Extract(); err != nil {
			return fmt.Errorf("add port %s to router %s: %w", id, router, openstack.Classify(err))
		}
	}
	for _, rt := range r.t.Routers {
		if len(rt.Routes) == 0 {
			continue
		}
		routes := make([]routers.Route, len(rt.Routes))
		for i, rr := range rt.Routes {
			routes[i] = routers.Route{DestinationCIDR: rr.Destination, NextHop: rr.NextHop}
		}
		if _, err := routers.Update(ctx, r.n.sc, r.ids[rt.ID], routers.UpdateOpts{Routes: &routes}).Extract(); err != nil {
			return fmt.Errorf("set routes of router %s: %w", r.ids[rt.ID], openstack.Classify(err))
		}
	}
	return nil
}

// ports creates the standalone ports with their fixed IPs and groups.
func (r *restorer) ports(ctx context.Context) error {
	for _, p := range r.t.Ports {
		_, ok, err := r.created(ctx, kindPort, p.ID, nil)
		if err != nil {
			return err
		}
		net, found := r.ids[p.NetworkID]
		if ok || !found {
			continue
		}
		sgs, err := r.groups(ctx, p.SecurityGroups)
		if err != nil {
			return err
		}
		attrs := map[string]any{"network_id": net, "name": p.Name, "description": p.Description,
			"admin_state_up": p.AdminStateUp, "fixed_ips": r.fixedIPs(p.FixedIPs), "security_groups": sgs}
		if p.PortSecurityEnabled != nil {
			attrs["port_security_enabled"] = *p.PortSecurityEnabled
		}
		if len(p.AllowedAddressPairs) > 0 {
			attrs["allowed_address_pairs"] = p.AllowedAddressPairs
		}
		full, fallback := attrs, map[string]any(nil)
		if p.MACAddress != "" { // a policy may keep it to admins
			full, fallback = with(attrs, map[string]any{"mac_address": p.MACAddress}), attrs
		}
		id, err := r.n.create(ctx, kindPort, full, fallback)
		if err != nil {
			return err
		}
		if err := r.record(ctx, p.ID, id); err != nil {
			return err
		}
	}
	return nil
}

// fixedIPs are the saved addresses on the new subnets.
func (r *restorer) fixedIPs(saved []FixedIP) []FixedIP {
	out := []FixedIP{}
	for _, ip := range saved {
		if id, ok := r.ids[ip.SubnetID]; ok {
			out = append(out, FixedIP{SubnetID: id, IPAddress: ip.IPAddress})
		}
	}
	return out
}

// groups maps a port's security groups to the new ones; a group not saved
// (another project's) is kept if it still exists.
func (r *restorer) groups(ctx context.Context, saved []string) ([]string, error) {
	out := []string{}
	for _, old := range saved {
		if id, ok := r.ids[old]; ok {
			out = append(out, id)
			continue
		}
		ok, err := r.n.exists(ctx, kindGroup, old)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, old)
		} else {
			r.hc.Log.WarnContext(ctx, "security group gone, left off the port", "group", old)
		}
	}
	return out, nil
}
