// Package openstack holds what Pouch's OpenStack protection plugins share:
// how a hook reaches the cloud (Cloud, Connect: the operation's Keystone
// token, or the operator's clouds.yaml / OS_* credentials), waiting for a
// cloud resource to reach a status (Wait), the protectables of Karbor's
// OpenStack types with their dependencies, and the JSON metadata a plugin
// keeps in the bank.
//
// The plugins themselves live in the sub-packages image, volume, server,
// network and project. Every one reads the [openstack_client] section of its
// provider file:
//
//	[openstack_client]
//	auth_url = http://127.0.0.1:5000/v3   ; the Keystone of callers' tokens (default OS_AUTH_URL)
//	region_name = RegionOne               ; default OS_REGION_NAME
//	interface = public                    ; endpoint interface (default OS_INTERFACE, else public)
//	cloud = mycloud                       ; clouds.yaml entry for the operator's credentials (default OS_CLOUD)
//	request_timeout = 60                  ; seconds per HTTP request
//
// A hook acts with the operation's token when it has one (Pouch behind
// Keystone: the caller's token; a scheduled operation's trust token; a
// restore's restore_auth). Without one (noauth), it acts with the
// operator's credentials: clouds.yaml's cloud if named, else the OS_*
// variables.
package openstack
