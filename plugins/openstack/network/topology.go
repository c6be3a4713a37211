package network

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/pouchdp/pouch/bank"
	"github.com/pouchdp/pouch/plugins/openstack"
)

// Topology is what protect saves as the metadata object of a project's
// network topology: the Neutron objects the project owns, with Neutron's
// own attribute names. Every ID is the object's id at protect time; a
// restore maps each to the id of what it created through the restore's
// NewResources (the server plugin reads them there).
//
// External networks are not saved: they are referenced by id (a router's
// gateway, a floating IP's network) and never recreated.
type Topology struct {
	ProjectID        string            `json:"project_id"`
	Networks         []Network         `json:"networks"`
	Subnets          []Subnet          `json:"subnets"`
	Routers          []Router          `json:"routers"`
	RouterInterfaces []RouterInterface `json:"router_interfaces"`
	SecurityGroups   []SecurityGroup   `json:"security_groups"`
	// Ports are the standalone ports, recreated by the network restore.
	Ports []Port `json:"ports"`
	// ServerPorts are the ports of servers (device_owner compute:*), kept
	// for the server plugin: it recreates them (same network, fixed IPs and
	// groups, through NewResources) when it restores their server.
	ServerPorts []Port       `json:"server_ports"`
	FloatingIPs []FloatingIP `json:"floating_ips"`
}

// Network is a project's (non-external) network.
type Network struct {
	ID                  string `json:"id"`
	Name                string `json:"name"`
	Description         string `json:"description"`
	AdminStateUp        bool   `json:"admin_state_up"`
	MTU                 int    `json:"mtu,omitempty"`
	PortSecurityEnabled *bool  `json:"port_security_enabled,omitempty"`
	Shared              bool   `json:"shared"`
	External            bool   `json:"router:external"`
}

// Subnet is a subnet of a saved network. GatewayIP is empty for a subnet
// without gateway.
type Subnet struct {
	ID              string           `json:"id"`
	NetworkID       string           `json:"network_id"`
	Name            string           `json:"name"`
	Description     string           `json:"description"`
	CIDR            string           `json:"cidr"`
	IPVersion       int              `json:"ip_version"`
	GatewayIP       string           `json:"gateway_ip"`
	EnableDHCP      bool             `json:"enable_dhcp"`
	AllocationPools []AllocationPool `json:"allocation_pools"`
	DNSNameservers  []string         `json:"dns_nameservers"`
	HostRoutes      []Route          `json:"host_routes"`
	IPv6AddressMode string           `json:"ipv6_address_mode,omitempty"`
	IPv6RAMode      string           `json:"ipv6_ra_mode,omitempty"`
}

// AllocationPool is a range of a subnet's addresses given to ports.
type AllocationPool struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// Route is a subnet's host route or a router's static route.
type Route struct {
	Destination string `json:"destination"`
	NextHop     string `json:"nexthop"`
}

// Router is a project's router. Its interfaces are RouterInterfaces.
type Router struct {
	ID           string       `json:"id"`
	Name         string       `json:"name"`
	Description  string       `json:"description"`
	AdminStateUp bool         `json:"admin_state_up"`
	Gateway      *GatewayInfo `json:"external_gateway_info"`
	Routes       []Route      `json:"routes"`
}

// GatewayInfo is a router's external gateway: the external network (kept
// as a reference) and whether it does SNAT.
type GatewayInfo struct {
	NetworkID        string    `json:"network_id"`
	EnableSNAT       *bool     `json:"enable_snat,omitempty"`
	ExternalFixedIPs []FixedIP `json:"external_fixed_ips,omitempty"`
}

// RouterInterface is a router's port on saved subnets (device_owner
// network:router_interface), restored at the same addresses.
type RouterInterface struct {
	RouterID  string    `json:"router_id"`
	PortID    string    `json:"port_id"`
	NetworkID string    `json:"network_id"`
	FixedIPs  []FixedIP `json:"fixed_ips"`
}

// SecurityGroup is a project's security group with its rules. The
// project's group named "default" is restored into the target project's
// own default group.
type SecurityGroup struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Stateful    *bool  `json:"stateful,omitempty"`
	Rules       []Rule `json:"security_group_rules"`
}

// IsDefault tells the project's default group, which every project has.
func (g SecurityGroup) IsDefault() bool { return g.Name == "default" }

// Rule is a security group rule. RemoteGroupID is a saved group's id (or
// another project's group, kept as is).
type Rule struct {
	ID                   string `json:"id"`
	Direction            string `json:"direction"`
	EtherType            string `json:"ethertype"`
	Protocol             string `json:"protocol,omitempty"`
	PortRangeMin         *int   `json:"port_range_min,omitempty"`
	PortRangeMax         *int   `json:"port_range_max,omitempty"`
	RemoteIPPrefix       string `json:"remote_ip_prefix,omitempty"`
	RemoteGroupID        string `json:"remote_group_id,omitempty"`
	RemoteAddressGroupID string `json:"remote_address_group_id,omitempty"`
	Description          string `json:"description,omitempty"`
}

// Port is a port on a saved network.
type Port struct {
	ID                  string        `json:"id"`
	NetworkID           string        `json:"network_id"`
	Name                string        `json:"name"`
	Description         string        `json:"description"`
	AdminStateUp        bool          `json:"admin_state_up"`
	MACAddress          string        `json:"mac_address"`
	FixedIPs            []FixedIP     `json:"fixed_ips"`
	SecurityGroups      []string      `json:"security_groups"`
	PortSecurityEnabled *bool         `json:"port_security_enabled,omitempty"`
	AllowedAddressPairs []AddressPair `json:"allowed_address_pairs,omitempty"`
	DeviceOwner         string        `json:"device_owner"`
	DeviceID            string        `json:"device_id"`
}

// FixedIP is an address of a port on a subnet.
type FixedIP struct {
	SubnetID  string `json:"subnet_id"`
	IPAddress string `json:"ip_address"`
}

// AddressPair is an address (and MAC) a port may also use.
type AddressPair struct {
	IPAddress  string `json:"ip_address"`
	MACAddress string `json:"mac_address,omitempty"`
}

// FloatingIP is a project's floating IP: its address on the external
// network FloatingNetworkID and the port (usually a server's) it is
// bound to, for the server plugin to re-associate.
type FloatingIP struct {
	ID                string `json:"id"`
	Address           string `json:"floating_ip_address"`
	FloatingNetworkID string `json:"floating_network_id"`
	PortID            string `json:"port_id,omitempty"`
	FixedIPAddress    string `json:"fixed_ip_address,omitempty"`
	RouterID          string `json:"router_id,omitempty"`
	Description       string `json:"description,omitempty"`
}

// Device owners of the ports Neutron and Nova make themselves.
const (
	ownerNetworkPrefix = "network:" // DHCP, router interfaces and gateways, floating IPs...
	ownerComputePrefix = "compute:" // servers' ports, recreated by the server plugin
)

// routerInterfaceOwners are the device owners of a router's interfaces.
var routerInterfaceOwners = []string{"network:router_interface", "network:router_interface_distributed",
	"network:ha_router_replicated_interface"}

// IsServerPort tells a server's port.
func (p Port) IsServerPort() bool { return strings.HasPrefix(p.DeviceOwner, ownerComputePrefix) }

// isStandalone tells a port nobody else recreates: neither Neutron's
// (DHCP, routers, floating IPs) nor a server's.
func (p Port) isStandalone() bool {
	return !strings.HasPrefix(p.DeviceOwner, ownerNetworkPrefix) && !p.IsServerPort()
}

func (p Port) isRouterInterface() bool { return slices.Contains(routerInterfaceOwners, p.DeviceOwner) }

// Load reads the topology of project saved in checkpoint: the network
// resource's id is its project's. Another plugin's hook (the server
// plugin's) passes its own hc.Bank and hc.CheckpointID.
func Load(ctx context.Context, b bank.Bank, checkpointID, projectID string) (*Topology, error) {
	var t Topology
	key := openstack.MetadataKey(checkpointID, projectID)
	if err := bank.GetJSON(ctx, b, key, &t); err != nil {
		return nil, fmt.Errorf("read network topology of project %s: %w", projectID, err)
	}
	return &t, nil
}
