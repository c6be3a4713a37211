package network

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/http"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/pagination"

	"github.com/pouchdp/pouch/plugins/openstack"
)

// kind is a Neutron collection and the JSON key of one of its objects.
type kind struct{ collection, key string }

var (
	kindNetwork = kind{"networks", "network"}
	kindSubnet  = kind{"subnets", "subnet"}
	kindPort    = kind{"ports", "port"}
	kindRouter  = kind{"routers", "router"}
	kindGroup   = kind{"security-groups", "security_group"}
	kindRule    = kind{"security-group-rules", "security_group_rule"}
)

// neutron makes the plugin's calls on Neutron's API, whatever the
// collection, decoding into the Topology's types.
type neutron struct {
	sc  *gophercloud.ServiceClient
	log *slog.Logger
}

// listAll reads every page of pager into a slice of T, the objects being
// under key ("networks", "ports"...).
func listAll[T any](ctx context.Context, pager pagination.Pager, key string) ([]T, error) {
	page, err := pager.AllPages(ctx)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", key, openstack.Classify(err))
	}
	ex, ok := page.(interface {
		ExtractIntoSlicePtr(to any, label string) error
	})
	if !ok {
		return nil, fmt.Errorf("list %s: page %T cannot be decoded", key, page)
	}
	var out []T
	if err := ex.ExtractIntoSlicePtr(&out, key); err != nil {
		return nil, fmt.Errorf("decode %s: %w", key, err)
	}
	return out, nil
}

// get reads the object id of k into v (nil: only whether it exists). A
// missing object is an error IsNotFound tells.
func (n neutron) get(ctx context.Context, k kind, id string, v any) error {
	var body map[string]json.RawMessage
	if _, err := n.sc.Get(ctx, n.sc.ServiceURL(k.collection, id), &body, nil); err != nil {
		return fmt.Errorf("get %s %s: %w", k.key, id, openstack.Classify(err))
	}
	if v == nil {
		return nil
	}
	if err := json.Unmarshal(body[k.key], v); err != nil {
		return fmt.Errorf("decode %s %s: %w", k.key, id, err)
	}
	return nil
}

// exists tells whether the object id of k is there.
func (n neutron) exists(ctx context.Context, k kind, id string) (bool, error) {
	err := n.get(ctx, k, id, nil)
	if openstack.IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

// create makes an object of k with attrs and returns its id. When Neutron
// refuses attrs (400, 403) and fallback is not nil, it tries fallback:
// attrs without what a member may not set or another cloud may not take
// (shared, mtu, enable_snat, mac_address), logging what it dropped.
func (n neutron) create(ctx context.Context, k kind, attrs, fallback map[string]any) (string, error) {
	id, err := n.post(ctx, k, attrs)
	if err != nil && fallback != nil &&
		(gophercloud.ResponseCodeIs(err, http.StatusBadRequest) || gophercloud.ResponseCodeIs(err, http.StatusForbidden)) {
		n.log.WarnContext(ctx, "Neutron refused some attributes: created without them", "kind", k.key,
			"name", attrs["name"], "dropped", dropped(attrs, fallback), "err", err)
		id, err = n.post(ctx, k, fallback)
	}
	if err != nil {
		return "", fmt.Errorf("create %s %q: %w", k.key, attrs["name"], openstack.Classify(err))
	}
	return id, nil
}

func (n neutron) post(ctx context.Context, k kind, attrs map[string]any) (string, error) {
	var body map[string]struct {
		ID string `json:"id"`
	}
	_, err := n.sc.Post(ctx, n.sc.ServiceURL(k.collection), map[string]any{k.key: attrs}, &body, nil)
	return body[k.key].ID, err
}

// dropped lists the attributes of full that fallback lacks or changes.
func dropped(full, fallback map[string]any) []string {
	var out []string
	for k, v := range full {
		if w, ok := fallback[k]; !ok || fmt.Sprint(v) != fmt.Sprint(w) {
			out = append(out, k)
		}
	}
	return out
}

// with returns a copy of attrs with more attributes.
func with(attrs map[string]any, more map[string]any) map[string]any {
	out := maps.Clone(attrs)
	maps.Copy(out, more)
	return out
}
