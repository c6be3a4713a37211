package openstack_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/projects"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/roles"

	"github.com/pouchdp/pouch/bank"
	"github.com/pouchdp/pouch/bank/fsbank"
	"github.com/pouchdp/pouch/plugins/openstack"
	"github.com/pouchdp/pouch/plugins/openstack/network"
	"github.com/pouchdp/pouch/shared/conf"
	"github.com/pouchdp/pouch/shared/model"
	"github.com/pouchdp/pouch/shared/protection"
	"github.com/pouchdp/pouch/tests/apitest"
	"github.com/pouchdp/pouch/tests/openstacktest"
)

// TestNetworkTopology is Karbor's R6: protect the demo project's network
// topology (networks, subnets, a router with a gateway and two
// interfaces, security groups, a standalone port, a floating IP), delete
// it all, restore it into the same project with a public network, and
// compare what came back with what was saved, field by field. Other
// tests' networks in the demo project are protected and restored too:
// only this test's are compared, every copy is deleted.
func TestNetworkTopology(t *testing.T) {
	s := openstacktest.Start(t)
	p := newPouch(t, s, nil)
	project := s.Env["DEMO_PROJECT_ID"]
	n := newNeutronT(t, s.Demo(t))
	ext := externalNetwork(t, s)
	d := makeDemoTopology(t, n, ext)
	want := d.read(t, n)

	plan := p.plan(t, osInfra, []model.Resource{topologyResource(project)}, nil)
	cp := p.protect(t, osInfra, plan, 3*time.Minute)
	if st := cp.Str(t, "checkpoint", "status"); st != model.CheckpointAvailable {
		t.Fatalf("checkpoint %s: %s", st, cp.Raw)
	}
	cpID := cp.Str(t, "checkpoint", "id")
	saved := loadTopology(t, p, osInfra, cpID, project)
	d.checkSaved(t, saved)

	if err := n.purge(d.objects()); err != nil {
		t.Fatalf("delete the protected topology: %v", err)
	}
	before := n.projectIDs(project)
	var restoredNets []string
	t.Cleanup(func() { n.purgeRestored(project, saved, before, restoredNets) })

	r := p.restore(t, osInfra, cpID, obj{openstack.TypeNetwork: obj{network.ParamPublicNetwork: ext}}, 5*time.Minute)
	restoredNets = restoredNetworks(t, r, len(saved.Networks))
	if st := r.Str(t, "restore", "status"); st != model.RestoreSuccess {
		t.Fatalf("restore %s: %s", st, r.Raw)
	}
	got := d.find(t, n, restoredNets)
	compareTopology(t, want, got, ext)
}

// TestNetworkTopologyIntoAnotherProject restores the demo project's
// topology into a new, empty project (restore_auth): the saved default
// group becomes that project's own, given the rules it lacked, with its
// remote groups pointing at the new groups. The empty project's own
// topology protects (and restores) as an empty one.
func TestNetworkTopologyIntoAnotherProject(t *testing.T) {
	s := openstacktest.Start(t)
	p := newPouch(t, s, nil)
	project := s.Env["DEMO_PROJECT_ID"]
	n := newNeutronT(t, s.Demo(t))
	ext := externalNetwork(t, s)
	target, lookup := newDemoProject(t, s)
	tn := newNeutronT(t, connectAs(t, s, lookup))
	t.Cleanup(func() { tn.purgeProject(t, s, target) })

	t.Run("EmptyProject", func(t *testing.T) {
		h := newHookRunner(t, lookup, target)
		top := h.run(t, model.OpProtect, nil)
		if len(top.Networks)+len(top.Subnets)+len(top.Routers)+len(top.Ports) != 0 {
			t.Fatalf("the new project's topology is not empty: %+v", top)
		}
		h.run(t, model.OpRestore, nil)
		if len(h.newres.m) != len(top.SecurityGroups)+rulesOf(top.SecurityGroups) {
			t.Errorf("restoring an empty topology mapped %v", h.newres.m)
		}
	})

	name := openstacktest.Name(t, "topo")
	net := n.create(cNetworks, obj{"name": name + "-net"})
	t.Cleanup(func() { n.logErr(n.deleteNetwork(net)) })
	n.create(cSubnets, obj{"network_id": net, "name": name + "-subnet", "cidr": "10.77.5.0/24", "ip_version": 4})
	sg := n.create(cGroups, obj{"name": name + "-sg"})
	t.Cleanup(func() { n.logErr(n.del(cGroups, sg)) })
	n.create(cRules, obj{"security_group_id": sg, "direction": "ingress", "ethertype": "IPv4", "remote_group_id": sg})
	demoDefault := n.defaultGroup(project)
	extra := n.create(cRules, obj{"security_group_id": demoDefault.ID, "direction": "ingress", "ethertype": "IPv4",
		"protocol": "tcp", "port_range_min": 4000 + time.Now().Nanosecond()%1000, "port_range_max": 4999,
		"remote_ip_prefix": "192.0.2.7/32"})
	t.Cleanup(func() { n.logErr(n.del(cRules, extra)) })

	plan := p.plan(t, osInfra, []model.Resource{topologyResource(project)}, nil)
	cp := p.protect(t, osInfra, plan, 3*time.Minute)
	if st := cp.Str(t, "checkpoint", "status"); st != model.CheckpointAvailable {
		t.Fatalf("checkpoint %s: %s", st, cp.Raw)
	}
	saved := loadTopology(t, p, osInfra, cp.Str(t, "checkpoint", "id"), project)
	// restore_auth logs in to the caller's project: the target (noauth
	// callers are admins, who may restore others' checkpoints).
	id := p.Do(t, "demo:"+target, "POST", "/v1/"+target+"/restores", obj{"restore": obj{"provider_id": osInfra,
		"checkpoint_id":  cp.Str(t, "checkpoint", "id"),
		"parameters":     obj{openstack.TypeNetwork: obj{network.ParamPublicNetwork: ext}},
		"restore_target": s.Env["OS_AUTH_URL"],
		"restore_auth":   obj{"type": "password", "username": s.Env["DEMO_USER"], "password": s.Env["DEMO_PASSWORD"]},
	}}).OK(t).Str(t, "restore", "id")
	r := p.wait(t, "restores/"+id, "restore", 5*time.Minute, model.RestoreSuccess, model.RestoreFail)
	if st := r.Str(t, "restore", "status"); st != model.RestoreSuccess {
		t.Fatalf("restore %s: %s", st, r.Raw)
	}
	restoredNetworks(t, r, len(saved.Networks))

	var nets []network.Network
	tn.list(cNetworks, url.Values{"project_id": {target}, "name": {name + "-net"}}, &nets)
	if len(nets) != 1 {
		t.Fatalf("networks named %s-net in the target project: %+v", name, nets)
	}
	var groups []network.SecurityGroup
	tn.list(cGroups, url.Values{"project_id": {target}}, &groups)
	names := map[string]string{}
	for _, g := range groups {
		names[g.ID] = g.Name
	}
	for _, g := range groups {
		switch g.Name {
		case "default":
			sigs := ruleSigs(g, names)
			old := ruleSigs(demoDefault, map[string]string{demoDefault.ID: "default"})
			old = append(old, ruleSigs(network.SecurityGroup{Rules: []network.Rule{n.rule(extra)}}, nil)...)
			for _, o := range old {
				if !slices.Contains(sigs, o) {
					t.Errorf("target default group lacks the saved rule %s: has %v", o, sigs)
				}
			}
		case name + "-sg":
			if sigs := ruleSigs(g, names); !slices.Contains(sigs, "ingress/IPv4//-//"+name+"-sg") {
				t.Errorf("restored group's rules %v lack the one on itself", sigs)
			}
		}
	}
	if !slices.ContainsFunc(groups, func(g network.SecurityGroup) bool { return g.Name == name+"-sg" }) {
		t.Errorf("group %s-sg not restored into the target project: %v", name, names)
	}
}

// TestNetworkRestoreRetry runs the restore hook twice on the same
// restore (NewResources): the second attempt reuses what the first made
// and creates again only what is gone. Without public_network_id, a
// router's gateway is on its saved external network if it still exists,
// else it has none; enable_snat, which a member may not set, is dropped.
// An empty topology restores to nothing.
func TestNetworkRestoreRetry(t *testing.T) {
	s := openstacktest.Start(t)
	n := newNeutronT(t, s.Demo(t))
	ext := externalNetwork(t, s)
	h := newHookRunner(t, s.DemoLookup, s.Env["DEMO_PROJECT_ID"])
	name := openstacktest.Name(t, "retry")
	mtu, on, off := 1400, true, false
	ptr := func(i int) *int { return &i }
	top := network.Topology{
		ProjectID: "saved-project",
		Networks: []network.Network{{ID: "saved-net", Name: name + "-net", AdminStateUp: true, MTU: mtu,
			PortSecurityEnabled: &on}},
		Subnets: []network.Subnet{{ID: "saved-subnet", NetworkID: "saved-net", Name: name + "-subnet", CIDR: "10.78.3.0/24",
			IPVersion: 4, GatewayIP: "10.78.3.1", EnableDHCP: true,
			AllocationPools: []network.AllocationPool{{Start: "10.78.3.100", End: "10.78.3.200"}}}},
		Routers: []network.Router{{ID: "saved-router", Name: name + "-router", AdminStateUp: true,
			Routes: []network.Route{{Destination: "192.0.2.0/24", NextHop: "10.78.3.5"}}},
			{ID: "saved-router-ext", Name: name + "-router-ext", Gateway: &network.GatewayInfo{NetworkID: ext, EnableSNAT: &off}},
			{ID: "saved-router-gone", Name: name + "-router-gone", Gateway: &network.GatewayInfo{NetworkID: "no-such-network"}},
		},
		RouterInterfaces: []network.RouterInterface{{RouterID: "saved-router", PortID: "saved-iface", NetworkID: "saved-net",
			FixedIPs: []network.FixedIP{{SubnetID: "saved-subnet", IPAddress: "10.78.3.1"}}}},
		SecurityGroups: []network.SecurityGroup{{ID: "saved-sg", Name: name + "-sg", Rules: []network.Rule{
			{ID: "saved-rule-1", Direction: "ingress", EtherType: "IPv4", Protocol: "icmp", PortRangeMin: ptr(8),
				PortRangeMax: ptr(0)},
			{ID: "saved-rule-2", Direction: "ingress", EtherType: "IPv4", RemoteGroupID: "saved-sg"},
		}}},
		Ports: []network.Port{{ID: "saved-port", NetworkID: "saved-net", Name: name + "-port", AdminStateUp: true,
			FixedIPs:       []network.FixedIP{{SubnetID: "saved-subnet", IPAddress: "10.78.3.30"}},
			SecurityGroups: []string{"saved-sg"}}},
	}
	t.Cleanup(func() { n.logErr(n.purge(h.newres.created(&top))) })
	h.run(t, model.OpRestore, &top)
	first := maps.Clone(h.newres.m)
	for _, old := range []string{"saved-net", "saved-subnet", "saved-router", "saved-iface", "saved-sg", "saved-rule-1",
		"saved-rule-2", "saved-port"} {
		if first[old] == "" {
			t.Errorf("no new id for %s: %v", old, first)
		}
	}
	if st := h.status.m[openstack.TypeNetwork+"#"+first["saved-net"]]; st != openstack.RestoreAvailable {
		t.Errorf("network status %q in %v", st, h.status.m)
	}
	var rule network.Rule
	n.get(cRules, first["saved-rule-1"], &rule)
	if got := ruleSigs(network.SecurityGroup{Rules: []network.Rule{rule}}, nil); got[0] != "ingress/IPv4/icmp/8-0//" {
		t.Errorf("icmp rule restored as %+v", rule)
	}

	// The port is gone, as if the first attempt had failed before it.
	if err := n.del(cPorts, first["saved-port"]); err != nil {
		t.Fatal(err)
	}
	h.run(t, model.OpRestore, &top)
	for old, id := range h.newres.m {
		if old != "saved-port" && id != first[old] {
			t.Errorf("retry replaced %s: %s, was %s", old, id, first[old])
		}
	}
	var port network.Port
	if h.newres.m["saved-port"] == first["saved-port"] || n.get(cPorts, h.newres.m["saved-port"], &port) != nil {
		t.Fatalf("the deleted port was not created again: %v", h.newres.m)
	}
	if len(port.FixedIPs) != 1 || port.FixedIPs[0].IPAddress != "10.78.3.30" ||
		!slices.Equal(port.SecurityGroups, []string{first["saved-sg"]}) {
		t.Errorf("port restored as %+v", port)
	}
	for c, nm := range map[coll]string{cNetworks: name + "-net", cRouters: name + "-router", cGroups: name + "-sg"} {
		var objs []map[string]any
		n.list(c, url.Values{"name": {nm}}, &objs)
		if len(objs) != 1 {
			t.Errorf("%d %s named %s after a retry, want 1", len(objs), c.many, nm)
		}
	}
	var ifaces []network.Port
	n.list(cPorts, url.Values{"device_id": {first["saved-router"]}, "device_owner": {"network:router_interface"}}, &ifaces)
	if len(ifaces) != 1 || ifaces[0].FixedIPs[0].IPAddress != "10.78.3.1" {
		t.Errorf("router interfaces after a retry: %+v", ifaces)
	}
	var router, withExt, withGone network.Router
	n.get(cRouters, first["saved-router"], &router)
	if !slices.Equal(router.Routes, top.Routers[0].Routes) || router.Gateway != nil {
		t.Errorf("router restored as %+v", router)
	}
	n.get(cRouters, first["saved-router-ext"], &withExt)
	n.get(cRouters, first["saved-router-gone"], &withGone)
	if withExt.Gateway == nil || withExt.Gateway.NetworkID != ext || withGone.Gateway != nil || withGone.AdminStateUp {
		t.Errorf("routers restored with gateways %+v (want on %s) and %+v (want none)", withExt.Gateway, ext, withGone.Gateway)
	}
	if h.progress.total() == 0 || h.progress.total() != h.progress.done() {
		t.Errorf("progress %d of %d", h.progress.done(), h.progress.total())
	}

	t.Run("Empty", func(t *testing.T) {
		e := newHookRunner(t, s.DemoLookup, s.Env["DEMO_PROJECT_ID"])
		e.run(t, model.OpRestore, &network.Topology{ProjectID: "saved-project"})
		if len(e.newres.m)+len(e.status.m) != 0 {
			t.Errorf("an empty topology restored %v %v", e.newres.m, e.status.m)
		}
		e.run(t, model.OpVerify, nil)
		e.res.ID = "no-such-project"
		if err := e.hook(t, model.OpVerify); err == nil {
			t.Error("verify of a resource never saved passed")
		}
	})
}

// demoTopology is what TestNetworkTopology makes in the demo project.
type demoTopology struct {
	name, ext, cidr                            string // cidr: "10.N" of the test's subnets
	appNet, appSub, dbNet, dbSub, router       string
	iface, web, db, port, fip                  string
	appGateway, dbIface, portIP, allowedPairIP string
}

func makeDemoTopology(t *testing.T, n *neutronT, ext string) *demoTopology {
	d := &demoTopology{name: openstacktest.Name(t, "topo"), ext: ext,
		cidr: fmt.Sprintf("10.%d", 100+time.Now().Nanosecond()%100)}
	d.appGateway, d.dbIface, d.portIP, d.allowedPairIP = d.cidr+".0.1", d.cidr+".1.10", d.cidr+".0.20", d.cidr+".0.21"
	t.Cleanup(func() { n.logErr(n.purge(d.objects())) })
	d.appNet = n.create(cNetworks, obj{"name": d.name + "-app-net", "description": "the app tier", "mtu": 1400})
	d.appSub = n.create(cSubnets, obj{"network_id": d.appNet, "name": d.name + "-app-subnet", "description": "app hosts",
		"cidr": d.cidr + ".0.0/24", "ip_version": 4, "gateway_ip": d.appGateway,
		"allocation_pools": []obj{{"start": d.cidr + ".0.50", "end": d.cidr + ".0.99"},
			{"start": d.cidr + ".0.150", "end": d.cidr + ".0.199"}},
		"dns_nameservers": []string{"192.0.2.53", "192.0.2.54"},
		"host_routes":     []obj{{"destination": "192.0.2.0/24", "nexthop": d.cidr + ".0.254"}}})
	d.dbNet = n.create(cNetworks, obj{"name": d.name + "-db-net", "admin_state_up": false})
	d.dbSub = n.create(cSubnets, obj{"network_id": d.dbNet, "name": d.name + "-db-subnet", "cidr": d.cidr + ".1.0/24",
		"ip_version": 4, "gateway_ip": d.cidr + ".1.254", "enable_dhcp": false})
	d.router = n.create(cRouters, obj{"name": d.name + "-router", "external_gateway_info": obj{"network_id": ext}})
	n.addInterface(d.router, obj{"subnet_id": d.appSub})
	d.iface = n.create(cPorts, obj{"network_id": d.dbNet, "fixed_ips": []obj{{"subnet_id": d.dbSub, "ip_address": d.dbIface}}})
	n.addInterface(d.router, obj{"port_id": d.iface})
	n.update(cRouters, d.router, obj{"routes": []obj{{"destination": "203.0.113.0/24", "nexthop": d.cidr + ".1.20"}}})
	d.web = n.create(cGroups, obj{"name": d.name + "-web", "description": "web tier"})
	d.db = n.create(cGroups, obj{"name": d.name + "-db"})
	for _, r := range []obj{
		{"security_group_id": d.web, "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp",
			"port_range_min": 80, "port_range_max": 80, "remote_ip_prefix": "0.0.0.0/0"},
		{"security_group_id": d.web, "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp",
			"port_range_min": 443, "port_range_max": 443, "remote_ip_prefix": "10.0.0.0/8", "description": "https"},
		{"security_group_id": d.web, "direction": "ingress", "ethertype": "IPv4", "protocol": "icmp",
			"port_range_min": 8, "port_range_max": 0},
		{"security_group_id": d.db, "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp",
			"port_range_min": 5432, "port_range_max": 5432, "remote_group_id": d.web},
		{"security_group_id": d.db, "direction": "egress", "ethertype": "IPv6", "protocol": "udp",
			"port_range_min": 53, "port_range_max": 53, "remote_ip_prefix": "2001:db8::/32"},
	} {
		n.create(cRules, r)
	}
	d.port = n.create(cPorts, obj{"name": d.name + "-port", "description": "a VIP", "network_id": d.appNet,
		"fixed_ips": []obj{{"subnet_id": d.appSub, "ip_address": d.portIP}}, "security_groups": []string{d.web, d.db},
		"allowed_address_pairs": []obj{{"ip_address": d.allowedPairIP}}})
	d.fip = n.create(cFloatingIPs, obj{"floating_network_id": ext, "port_id": d.port})
	return d
}

// objects are the test's objects, to delete.
func (d *demoTopology) objects() purgeSet {
	return purgeSet{fips: []string{d.fip}, routers: []string{d.router}, ports: []string{d.port},
		networks: []string{d.appNet, d.dbNet}, groups: []string{d.web, d.db}}
}

// topologyView is the test's part of a topology as Neutron shows it.
type topologyView struct {
	app, db       network.Network
	appSub, dbSub network.Subnet
	router        network.Router
	ifaces        map[string]string // subnet name → the router's address there
	web, dbGroup  network.SecurityGroup
	port          network.Port
	names         map[string]string // group id → name
}

// read reads the test's objects as they are before the protect.
func (d *demoTopology) read(t *testing.T, n *neutronT) *topologyView {
	v := &topologyView{}
	n.get(cNetworks, d.appNet, &v.app)
	n.get(cNetworks, d.dbNet, &v.db)
	n.get(cSubnets, d.appSub, &v.appSub)
	n.get(cSubnets, d.dbSub, &v.dbSub)
	n.get(cPorts, d.port, &v.port)
	d.readRest(t, n, v, d.router, d.web, d.db)
	return v
}

// readRest reads the router, its interfaces and the groups.
func (d *demoTopology) readRest(t *testing.T, n *neutronT, v *topologyView, router, web, db string) {
	n.get(cRouters, router, &v.router)
	n.get(cGroups, web, &v.web)
	n.get(cGroups, db, &v.dbGroup)
	v.names = map[string]string{web: v.web.Name, db: v.dbGroup.Name}
	v.ifaces = map[string]string{}
	var ps []network.Port
	n.list(cPorts, url.Values{"device_id": {router}}, &ps)
	for _, p := range ps {
		if p.DeviceOwner != "network:router_interface" {
			continue
		}
		for _, ip := range p.FixedIPs {
			var s network.Subnet
			n.get(cSubnets, ip.SubnetID, &s)
			v.ifaces[s.Name] = ip.IPAddress
		}
	}
}

// checkSaved: the checkpoint's topology has the test's objects, the
// external network only as a reference.
func (d *demoTopology) checkSaved(t *testing.T, top *network.Topology) {
	t.Helper()
	has := func(what string, ok bool) {
		if !ok {
			t.Errorf("saved topology lacks %s", what)
		}
	}
	has("app-net", slices.ContainsFunc(top.Networks, func(n network.Network) bool { return n.ID == d.appNet && n.MTU == 1400 }))
	has("db-net", slices.ContainsFunc(top.Networks, func(n network.Network) bool { return n.ID == d.dbNet && !n.AdminStateUp }))
	has("the subnets", slices.ContainsFunc(top.Subnets, func(s network.Subnet) bool { return s.ID == d.appSub }) &&
		slices.ContainsFunc(top.Subnets, func(s network.Subnet) bool { return s.ID == d.dbSub }))
	has("the router", slices.ContainsFunc(top.Routers, func(r network.Router) bool {
		return r.ID == d.router && r.Gateway != nil && r.Gateway.NetworkID == d.ext
	}))
	ifaces := 0
	for _, ri := range top.RouterInterfaces {
		if ri.RouterID == d.router {
			ifaces++
		}
	}
	has("both router interfaces", ifaces == 2)
	has("the groups", slices.ContainsFunc(top.SecurityGroups, func(g network.SecurityGroup) bool { return g.ID == d.web }) &&
		slices.ContainsFunc(top.SecurityGroups, func(g network.SecurityGroup) bool { return g.ID == d.db }))
	has("the standalone port", slices.ContainsFunc(top.Ports, func(p network.Port) bool { return p.ID == d.port }))
	has("the floating IP on the port", slices.ContainsFunc(top.FloatingIPs, func(f network.FloatingIP) bool {
		return f.ID == d.fip && f.PortID == d.port && f.FloatingNetworkID == d.ext && f.Address != ""
	}))
	if slices.ContainsFunc(top.Networks, func(n network.Network) bool { return n.ID == d.ext || n.External }) {
		t.Error("an external network was saved for re-creation")
	}
	if slices.ContainsFunc(top.Ports, func(p network.Port) bool { return p.ID == d.iface }) {
		t.Error("a router interface was saved as a standalone port")
	}
}

// find reads the restored copies of the test's objects: networks by name
// among those the restore reported, the rest from them.
func (d *demoTopology) find(t *testing.T, n *neutronT, nets []string) *topologyView {
	t.Helper()
	v := &topologyView{}
	for _, id := range nets {
		var nw network.Network
		if n.get(cNetworks, id, &nw) != nil {
			t.Fatalf("restored network %s not found", id)
		}
		switch nw.Name {
		case d.name + "-app-net":
			v.app = nw
		case d.name + "-db-net":
			v.db = nw
		}
	}
	if v.app.ID == "" || v.db.ID == "" {
		t.Fatalf("the test's networks are not among the restored ones %v", nets)
	}
	for net, sub := range map[string]*network.Subnet{v.app.ID: &v.appSub, v.db.ID: &v.dbSub} {
		var subs []network.Subnet
		n.list(cSubnets, url.Values{"network_id": {net}}, &subs)
		if len(subs) != 1 {
			t.Fatalf("restored network %s has subnets %+v", net, subs)
		}
		*sub = subs[0]
	}
	var ports []network.Port
	n.list(cPorts, url.Values{"network_id": {v.app.ID}}, &ports)
	router := ""
	for _, p := range ports {
		switch {
		case p.Name == d.name+"-port":
			v.port = p
		case p.DeviceOwner == "network:router_interface":
			router = p.DeviceID
		}
	}
	if v.port.ID == "" || router == "" || len(v.port.SecurityGroups) != 2 {
		t.Fatalf("restored app network's ports: %+v", ports)
	}
	web, db := v.port.SecurityGroups[0], v.port.SecurityGroups[1]
	var g network.SecurityGroup
	if n.get(cGroups, web, &g); g.Name != d.name+"-web" {
		web, db = db, web
	}
	d.readRest(t, n, v, router, web, db)
	return v
}

// compareTopology compares the test's objects before and after.
func compareTopology(t *testing.T, want, got *topologyView, ext string) {
	t.Helper()
	same := func(what string, w, g any) {
		t.Helper()
		if !apitest.EqualJSON(w, g) {
			t.Errorf("%s: restored %+v, saved %+v", what, g, w)
		}
	}
	for _, c := range []struct {
		what string
		w, g network.Network
	}{{"app network", want.app, got.app}, {"db network", want.db, got.db}} {
		c.w.ID, c.g.ID = "", ""
		same(c.what, c.w, c.g)
	}
	for _, c := range []struct {
		what string
		w, g network.Subnet
	}{{"app subnet", want.appSub, got.appSub}, {"db subnet", want.dbSub, got.dbSub}} {
		c.w.ID, c.g.ID, c.w.NetworkID, c.g.NetworkID = "", "", "", ""
		for _, sub := range []*network.Subnet{&c.w, &c.g} { // a set, in no order
			slices.SortFunc(sub.AllocationPools, func(a, b network.AllocationPool) int { return strings.Compare(a.Start, b.Start) })
		}
		same(c.what, c.w, c.g)
	}
	if got.appSub.NetworkID != got.app.ID {
		t.Errorf("restored app subnet on network %s, want %s", got.appSub.NetworkID, got.app.ID)
	}
	same("router name", want.router.Name, got.router.Name)
	same("router routes", want.router.Routes, got.router.Routes)
	if got.router.Gateway == nil || got.router.Gateway.NetworkID != ext {
		t.Errorf("restored router's gateway %+v, want network %s", got.router.Gateway, ext)
	}
	same("router interfaces (subnet name → address)", want.ifaces, got.ifaces)
	same("web group rules", ruleSigs(want.web, want.names), ruleSigs(got.web, got.names))
	same("db group rules", ruleSigs(want.dbGroup, want.names), ruleSigs(got.dbGroup, got.names))
	same("web group description", want.web.Description, got.web.Description)
	if got.web.ID == want.web.ID || got.dbGroup.ID == want.dbGroup.ID {
		t.Error("the restored groups are the deleted ones")
	}
	w, g := want.port, got.port
	if len(g.FixedIPs) != 1 || g.FixedIPs[0].SubnetID != got.appSub.ID {
		t.Errorf("restored port's fixed IPs %+v, want one on %s", g.FixedIPs, got.appSub.ID)
	}
	for _, p := range []*network.Port{&w, &g} {
		p.ID, p.NetworkID, p.SecurityGroups = "", "", nil
		for i := range p.FixedIPs {
			p.FixedIPs[i].SubnetID = ""
		}
	}
	same("standalone port", w, g)
}

// ruleSigs are a group's rules as comparable strings, remote groups by
// name.
func ruleSigs(g network.SecurityGroup, names map[string]string) []string {
	num := func(p *int) string {
		if p == nil {
			return ""
		}
		return fmt.Sprint(*p)
	}
	var out []string
	for _, r := range g.Rules {
		remote := ""
		if r.RemoteGroupID != "" {
			if remote = names[r.RemoteGroupID]; remote == "" {
				remote = "?" + r.RemoteGroupID
			}
		}
		out = append(out, fmt.Sprintf("%s/%s/%s/%s-%s/%s/%s", r.Direction, r.EtherType, r.Protocol,
			num(r.PortRangeMin), num(r.PortRangeMax), r.RemoteIPPrefix, remote))
	}
	slices.Sort(out)
	return out
}

func rulesOf(gs []network.SecurityGroup) int {
	n := 0
	for _, g := range gs {
		n += len(g.Rules)
	}
	return n
}

func topologyResource(project string) model.Resource {
	return model.Resource{ID: project, Type: openstack.TypeNetwork, Name: openstack.NetworkTopologyName}
}

// loadTopology reads a checkpoint's saved topology from provider's bank.
func loadTopology(t *testing.T, p *pouch, provider, cp, project string) *network.Topology {
	t.Helper()
	top, err := network.Load(t.Context(), p.bank(t, provider), cp, project)
	if err != nil {
		t.Fatal(err)
	}
	return top
}

// restoredNetworks are the networks a restore reports; there must be one
// per saved network, all available.
func restoredNetworks(t *testing.T, r *apitest.Response, saved int) []string {
	t.Helper()
	st, _ := r.Get(t, "restore", "resources_status").(map[string]any)
	var out []string
	for k, v := range st {
		typ, id, _ := strings.Cut(k, "#")
		if typ != openstack.TypeNetwork {
			continue
		}
		out = append(out, id)
		if v != openstack.RestoreAvailable {
			t.Errorf("restored network %s: %v", id, v)
		}
	}
	if len(out) != saved {
		t.Errorf("the restore reports %d networks, %d were saved: %v", len(out), saved, st)
	}
	return out
}

// externalNetwork makes, as admin, an external flat network (on a
// physical network of its own) with a subnet.
func externalNetwork(t *testing.T, s *openstacktest.Stack) string {
	t.Helper()
	a := newNeutronT(t, s.Admin(t))
	name := openstacktest.Name(t, "ext")
	id := a.create(cNetworks, obj{"name": name, "router:external": true, "provider:network_type": "flat",
		"provider:physical_network": name})
	t.Cleanup(func() { a.logErr(a.deleteNetwork(id)) })
	a.create(cSubnets, obj{"network_id": id, "cidr": "198.51.100.0/24", "ip_version": 4, "enable_dhcp": false})
	return id
}

// connectAs connects with the credentials lookup reads.
func connectAs(t *testing.T, s *openstacktest.Stack, lookup func(string) (string, bool)) *openstack.Clients {
	t.Helper()
	cl, err := s.Cloud(lookup).Connect(t.Context(), protection.Credentials{})
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	return cl
}

// newDemoProject makes a project where the demo user is a member, and
// the lookup of the demo user's credentials there.
func newDemoProject(t *testing.T, s *openstacktest.Stack) (string, func(string) (string, bool)) {
	t.Helper()
	ctx := context.Background()
	idc, err := s.Admin(t).Identity()
	if err != nil {
		t.Fatal(err)
	}
	name := openstacktest.Name(t, "project")
	pr, err := projects.Create(ctx, idc, projects.CreateOpts{Name: name, DomainID: "default"}).Extract()
	if err != nil {
		t.Fatalf("create project: %v", err)
	}
	t.Cleanup(func() {
		if err := projects.Delete(context.Background(), idc, pr.ID).ExtractErr(); err != nil {
			t.Logf("cleanup: delete project %s: %v", pr.ID, err)
		}
	})
	pages, err := roles.List(idc, roles.ListOpts{Name: s.Env["DEMO_ROLE"]}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := roles.ExtractRoles(pages)
	if err != nil || len(rs) != 1 {
		t.Fatalf("role %s: %v %v", s.Env["DEMO_ROLE"], rs, err)
	}
	err = roles.Assign(ctx, idc, rs[0].ID, roles.AssignOpts{UserID: s.Env["DEMO_USER_ID"], ProjectID: pr.ID}).ExtractErr()
	if err != nil {
		t.Fatalf("assign role: %v", err)
	}
	return pr.ID, func(k string) (string, bool) {
		if k == "OS_PROJECT_NAME" {
			return name, true
		}
		return s.DemoLookup(k)
	}
}

// hookRunner calls the network plugin's hooks directly, as the engine
// would, on a bank of its own, with the given credentials.
type hookRunner struct {
	plugin   protection.Plugin
	bank     bank.Bank
	res      model.Resource
	newres   *memNewResources
	status   *memStatus
	progress *memProgress
	attempt  int
}

func newHookRunner(t *testing.T, lookup func(string) (string, bool), project string) *hookRunner {
	t.Helper()
	path := filepath.Join(t.TempDir(), "provider.conf")
	if err := os.WriteFile(path, []byte("[network_backup_plugin]\npoll_interval = 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := conf.LoadWithEnv(path, lookup)
	if err != nil {
		t.Fatal(err)
	}
	pl, err := network.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := fsbank.New(t.TempDir(), "karbor")
	if err != nil {
		t.Fatal(err)
	}
	return &hookRunner{plugin: pl, bank: b, res: topologyResource(project), newres: &memNewResources{m: map[string]string{}},
		status: &memStatus{m: map[string]string{}}, progress: &memProgress{}}
}

// run stores top (unless nil) as the saved topology of a protect that
// ended well, runs op's main hook, which must succeed, and returns the
// saved topology.
func (h *hookRunner) run(t *testing.T, op model.OperationType, top *network.Topology) *network.Topology {
	t.Helper()
	if top != nil {
		if err := bank.PutJSON(t.Context(), h.bank, openstack.MetadataKey("cp", h.res.ID), top); err != nil {
			t.Fatal(err)
		}
		key := protection.ResourceDataKey("cp", h.res.ID, "status")
		if err := bank.PutBytes(t.Context(), h.bank, key, []byte(openstack.StatusAvailable)); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.hook(t, op); err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	got, err := network.Load(t.Context(), h.bank, "cp", h.res.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func (h *hookRunner) hook(t *testing.T, op model.OperationType) error {
	o, err := h.plugin.Operation(op, h.res)
	if err != nil {
		return err
	}
	h.attempt++
	return o.Main(t.Context(), &protection.HookContext{OperationID: "op", Operation: op, Hook: protection.Main,
		Resource: h.res, Parameters: map[string]any{}, CheckpointID: "cp", Bank: h.bank, Progress: h.progress,
		NewResources: h.newres, Status: h.status, Log: apitest.Logger().With("test", t.Name()), Attempt: h.attempt})
}

type memNewResources struct {
	mu sync.Mutex
	m  map[string]string
}

func (r *memNewResources) Get(_ context.Context, id string) (string, bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	v, ok := r.m[id]
	return v, ok, nil
}

func (r *memNewResources) Set(_ context.Context, id, newID string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.m[id] = newID
	return nil
}

// created are the new objects of the saved ones of top, to delete.
func (r *memNewResources) created(top *network.Topology) purgeSet {
	var s purgeSet
	add := func(to *[]string, old string) {
		if id := r.m[old]; id != "" {
			*to = append(*to, id)
		}
	}
	for _, x := range top.Routers {
		add(&s.routers, x.ID)
	}
	for _, x := range top.Ports {
		add(&s.ports, x.ID)
	}
	for _, x := range top.Networks {
		add(&s.networks, x.ID)
	}
	for _, x := range top.SecurityGroups {
		if !x.IsDefault() {
			add(&s.groups, x.ID)
		}
	}
	return s
}

type memStatus struct {
	mu sync.Mutex
	m  map[string]string
}

func (s *memStatus) ReportStatus(_ context.Context, key, status, _ string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[key] = status
	return nil
}

type memProgress struct{ tot, don atomic.Int64 }

func (p *memProgress) AddTotal(n int64) { p.tot.Add(n) }
func (p *memProgress) AddDone(n int64)  { p.don.Add(n) }
func (p *memProgress) total() int64     { return p.tot.Load() }
func (p *memProgress) done() int64      { return p.don.Load() }

// coll is a Neutron collection: its path, and the JSON keys of one object
// and of a list.
type coll struct{ path, one, many string }

var (
	cNetworks    = coll{"networks", "network", "networks"}
	cSubnets     = coll{"subnets", "subnet", "subnets"}
	cPorts       = coll{"ports", "port", "ports"}
	cRouters     = coll{"routers", "router", "routers"}
	cGroups      = coll{"security-groups", "security_group", "security_groups"}
	cRules       = coll{"security-group-rules", "security_group_rule", "security_group_rules"}
	cFloatingIPs = coll{"floatingips", "floatingip", "floatingips"}
)

// neutronT calls Neutron's API for the network tests with plain JSON,
// decoding into the network plugin's types.
type neutronT struct {
	t  *testing.T
	sc *gophercloud.ServiceClient
}

func newNeutronT(t *testing.T, cl *openstack.Clients) *neutronT {
	t.Helper()
	sc, err := cl.Network()
	if err != nil {
		t.Fatal(err)
	}
	return &neutronT{t: t, sc: sc}
}

// create makes an object and returns its id; t fails if it cannot.
func (n *neutronT) create(c coll, attrs obj) string {
	n.t.Helper()
	var body map[string]struct {
		ID string `json:"id"`
	}
	if _, err := n.sc.Post(context.Background(), n.sc.ServiceURL(c.path), obj{c.one: attrs}, &body, nil); err != nil {
		n.t.Fatalf("create %s %v: %v", c.one, attrs, err)
	}
	return body[c.one].ID
}

// get reads an object into v; t fails unless it is there or gone.
func (n *neutronT) get(c coll, id string, v any) error {
	n.t.Helper()
	var body map[string]json.RawMessage
	_, err := n.sc.Get(context.Background(), n.sc.ServiceURL(c.path, id), &body, nil)
	if openstack.IsNotFound(err) {
		return err
	}
	if err == nil {
		err = json.Unmarshal(body[c.one], v)
	}
	if err != nil {
		n.t.Fatalf("get %s %s: %v", c.one, id, err)
	}
	return nil
}

// list reads the objects matching q into v (a slice pointer).
func (n *neutronT) list(c coll, q url.Values, v any) {
	n.t.Helper()
	if err := n.tryList(c, q, v); err != nil {
		n.t.Fatal(err)
	}
}

func (n *neutronT) tryList(c coll, q url.Values, v any) error {
	var body map[string]json.RawMessage
	if _, err := n.sc.Get(context.Background(), n.sc.ServiceURL(c.path)+"?"+q.Encode(), &body, nil); err != nil {
		return fmt.Errorf("list %s %v: %w", c.many, q, err)
	}
	return json.Unmarshal(body[c.many], v)
}

func (n *neutronT) update(c coll, id string, attrs obj) {
	n.t.Helper()
	if _, err := n.sc.Put(context.Background(), n.sc.ServiceURL(c.path, id), obj{c.one: attrs}, nil,
		&gophercloud.RequestOpts{OkCodes: []int{200}}); err != nil {
		n.t.Fatalf("update %s %s: %v", c.one, id, err)
	}
}

func (n *neutronT) addInterface(router string, body obj) {
	n.t.Helper()
	if _, err := n.sc.Put(context.Background(), n.sc.ServiceURL("routers", router, "add_router_interface"), body, nil,
		&gophercloud.RequestOpts{OkCodes: []int{200}}); err != nil {
		n.t.Fatalf("add interface %v to router %s: %v", body, router, err)
	}
}

func (n *neutronT) rule(id string) network.Rule {
	var r network.Rule
	n.get(cRules, id, &r)
	return r
}

func (n *neutronT) defaultGroup(project string) network.SecurityGroup {
	var gs []network.SecurityGroup
	n.list(cGroups, url.Values{"project_id": {project}, "name": {"default"}}, &gs)
	if len(gs) != 1 {
		n.t.Fatalf("default groups of %s: %+v", project, gs)
	}
	return gs[0]
}

// del deletes an object; one already gone is no error.
func (n *neutronT) del(c coll, id string) error {
	_, err := n.sc.Delete(context.Background(), n.sc.ServiceURL(c.path, id), nil)
	if err != nil && !openstack.IsNotFound(err) {
		return fmt.Errorf("delete %s %s: %w", c.one, id, err)
	}
	return nil
}

func (n *neutronT) logErr(err error) {
	if err != nil {
		n.t.Logf("cleanup: %v", err)
	}
}

// purgeSet are objects to delete.
type purgeSet struct{ fips, routers, ports, networks, groups []string }

// purge deletes objects in dependency order: floating IPs, routers (their
// interfaces first), ports, networks (with their ports), groups.
func (n *neutronT) purge(s purgeSet) error {
	var errs []error
	for _, id := range s.fips {
		errs = append(errs, n.del(cFloatingIPs, id))
	}
	for _, id := range s.routers {
		errs = append(errs, n.deleteRouter(id))
	}
	for _, id := range s.ports {
		errs = append(errs, n.del(cPorts, id))
	}
	for _, id := range s.networks {
		errs = append(errs, n.deleteNetwork(id))
	}
	for _, id := range s.groups {
		errs = append(errs, n.del(cGroups, id))
	}
	return errors.Join(errs...)
}

// unplug removes a router interface port from its router, whose static
// routes (which may need it) go first.
func (n *neutronT) unplug(p network.Port) error {
	_, err := n.sc.Put(context.Background(), n.sc.ServiceURL("routers", p.DeviceID), obj{"router": obj{"routes": []obj{}}},
		nil, &gophercloud.RequestOpts{OkCodes: []int{200}})
	if err != nil && !openstack.IsNotFound(err) {
		return fmt.Errorf("clear routes of router %s: %w", p.DeviceID, err)
	}
	_, err = n.sc.Put(context.Background(), n.sc.ServiceURL("routers", p.DeviceID, "remove_router_interface"),
		obj{"port_id": p.ID}, nil, &gophercloud.RequestOpts{OkCodes: []int{200}})
	if err != nil && !openstack.IsNotFound(err) {
		return fmt.Errorf("remove interface %s of router %s: %w", p.ID, p.DeviceID, err)
	}
	return nil
}

func (n *neutronT) deleteRouter(id string) error {
	var ps []network.Port
	if err := n.tryList(cPorts, url.Values{"device_id": {id}}, &ps); err != nil {
		return err
	}
	var errs []error
	for _, p := range ps {
		if p.DeviceOwner == "network:router_interface" {
			errs = append(errs, n.unplug(p))
		}
	}
	return errors.Join(append(errs, n.del(cRouters, id))...)
}

// deleteNetwork deletes a network with its ports (router interfaces are
// unplugged) and subnets.
func (n *neutronT) deleteNetwork(id string) error {
	var ps []network.Port
	if err := n.tryList(cPorts, url.Values{"network_id": {id}}, &ps); err != nil {
		return err
	}
	var errs []error
	for _, p := range ps {
		switch {
		case p.DeviceOwner == "network:router_interface":
			errs = append(errs, n.unplug(p))
		case p.DeviceOwner == "network:router_gateway":
			errs = append(errs, n.clearGateway(p.DeviceID))
		case p.DeviceOwner != "network:dhcp":
			errs = append(errs, n.del(cPorts, p.ID))
		}
	}
	return errors.Join(append(errs, n.del(cNetworks, id))...)
}

func (n *neutronT) clearGateway(router string) error {
	_, err := n.sc.Put(context.Background(), n.sc.ServiceURL("routers", router),
		obj{"router": obj{"external_gateway_info": obj{}}}, nil, &gophercloud.RequestOpts{OkCodes: []int{200}})
	if err != nil && !openstack.IsNotFound(err) {
		return fmt.Errorf("clear gateway of router %s: %w", router, err)
	}
	return nil
}

// projectIDs are the ids of project's networks, routers and groups.
func (n *neutronT) projectIDs(project string) map[string]bool {
	n.t.Helper()
	out := map[string]bool{}
	for _, c := range []coll{cNetworks, cRouters, cGroups} {
		var objs []struct {
			ID string `json:"id"`
		}
		n.list(c, url.Values{"project_id": {project}}, &objs)
		for _, o := range objs {
			out[o.ID] = true
		}
	}
	return out
}

// purgeRestored deletes what a restore into project made: the networks it
// reported (with their ports), the routers plugged into them, and the
// routers and groups named as saved ones that were not there before the
// restore and are not in use (copies of other tests' objects that nothing
// links to the reported networks).
func (n *neutronT) purgeRestored(project string, saved *network.Topology, before map[string]bool, nets []string) {
	names := map[string]bool{}
	for _, nw := range saved.Networks {
		names["n:"+nw.Name] = true
	}
	for _, r := range saved.Routers {
		names["r:"+r.Name] = true
	}
	for _, g := range saved.SecurityGroups {
		if !g.IsDefault() {
			names["g:"+g.Name] = true
		}
	}
	s := purgeSet{networks: nets}
	if len(nets) == 0 { // the restore failed early: its networks by name
		var all []network.Network
		n.logErr(n.tryList(cNetworks, url.Values{"project_id": {project}}, &all))
		for _, nw := range all {
			if !before[nw.ID] && names["n:"+nw.Name] {
				s.networks = append(s.networks, nw.ID)
			}
		}
	}
	for _, net := range s.networks {
		var ps []network.Port
		n.logErr(n.tryList(cPorts, url.Values{"network_id": {net}}, &ps))
		for _, p := range ps {
			if p.DeviceOwner == "network:router_interface" && !slices.Contains(s.routers, p.DeviceID) {
				s.routers = append(s.routers, p.DeviceID)
			}
			for _, g := range p.SecurityGroups {
				if !before[g] && !slices.Contains(s.groups, g) {
					s.groups = append(s.groups, g)
				}
			}
		}
	}
	var rs []network.Router
	n.logErr(n.tryList(cRouters, url.Values{"project_id": {project}}, &rs))
	for _, r := range rs {
		var ifaces []network.Port
		n.logErr(n.tryList(cPorts, url.Values{"device_id": {r.ID}, "device_owner": {"network:router_interface"}}, &ifaces))
		if !before[r.ID] && names["r:"+r.Name] && len(ifaces) == 0 && !slices.Contains(s.routers, r.ID) {
			s.routers = append(s.routers, r.ID)
		}
	}
	var gs []network.SecurityGroup
	n.logErr(n.tryList(cGroups, url.Values{"project_id": {project}}, &gs))
	for _, g := range gs {
		if !before[g.ID] && names["g:"+g.Name] && !slices.Contains(s.groups, g.ID) {
			s.groups = append(s.groups, g.ID) // in use elsewhere: Neutron refuses, logged
		}
	}
	n.t.Logf("cleanup: deleting %d restored networks, %d routers, %d groups", len(s.networks), len(s.routers), len(s.groups))
	n.logErr(n.purge(s))
}

// purgeProject deletes every Neutron object of project (made by n's
// user), its default group (as admin).
func (n *neutronT) purgeProject(t *testing.T, s *openstacktest.Stack, project string) {
	var set purgeSet
	ids := func(c coll) []string {
		var objs []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		}
		n.logErr(n.tryList(c, url.Values{"project_id": {project}}, &objs))
		var out []string
		for _, o := range objs {
			if c != cGroups || o.Name != "default" {
				out = append(out, o.ID)
			}
		}
		return out
	}
	set.fips, set.routers, set.networks, set.groups = ids(cFloatingIPs), ids(cRouters), ids(cNetworks), ids(cGroups)
	n.logErr(n.purge(set))
	a := newNeutronT(t, s.Admin(t))
	var gs []network.SecurityGroup
	a.logErr(a.tryList(cGroups, url.Values{"project_id": {project}}, &gs))
	for _, g := range gs {
		a.logErr(a.del(cGroups, g.ID))
	}
}
