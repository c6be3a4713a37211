package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/pouchdp/pouch/shared/model"
)

// ErrCycle is returned when resources depend on each other in a loop.
var ErrCycle = errors.New("a loop was found in the resource graph")

// Node is one resource and its edges, as indexes into Graph.Nodes.
type Node struct {
	Resource model.Resource
	Children []int // resources this one depends on
	Parents  []int
}

// Graph is a DAG of resources. Nodes are in post-order: every child comes
// before each of its parents.
type Graph struct {
	Nodes []Node
}

// DependencyFunc returns the resources r depends on (its children).
type DependencyFunc func(ctx context.Context, r model.Resource) ([]model.Resource, error)

// Build walks from the given resources through deps. A resource reached again
// while it is being walked is a cycle; a resource reached again after that is
// shared (one node, several parents).
func Build(ctx context.Context, resources []model.Resource, deps DependencyFunc) (*Graph, error) {
	b := builder{deps: deps, index: map[model.ResourceKey]int{}, onStack: map[model.ResourceKey]bool{}}
	for _, r := range resources {
		if _, err := b.visit(ctx, r); err != nil {
			return nil, err
		}
	}
	return &Graph{Nodes: b.nodes}, nil
}

type builder struct {
	deps    DependencyFunc
	nodes   []Node
	index   map[model.ResourceKey]int
	onStack map[model.ResourceKey]bool
	stack   []model.Resource
}

func (b *builder) visit(ctx context.Context, r model.Resource) (int, error) {
	k := r.Key()
	if b.onStack[k] {
		return 0, fmt.Errorf("%w: %s", ErrCycle, b.path(r))
	}
	if i, ok := b.index[k]; ok {
		return i, nil
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	b.onStack[k] = true
	b.stack = append(b.stack, r)
	var children []int
	if b.deps != nil {
		kids, err := b.deps(ctx, r)
		if err != nil {
			return 0, fmt.Errorf("dependencies of %s: %w", r.StatusKey(), err)
		}
		seen := map[int]bool{}
		for _, c := range kids {
			ci, err := b.visit(ctx, c)
			if err != nil {
				return 0, err
			}
			if !seen[ci] {
				seen[ci] = true
				children = append(children, ci)
			}
		}
	}
	b.stack = b.stack[:len(b.stack)-1]
	delete(b.onStack, k)
	i := len(b.nodes)
	b.nodes = append(b.nodes, Node{Resource: r, Children: children})
	for _, c := range children {
		b.nodes[c].Parents = append(b.nodes[c].Parents, i)
	}
	b.index[k] = i
	return i, nil
}

func (b *builder) path(r model.Resource) string {
	var parts []string
	start := 0
	for i, s := range b.stack {
		if s.Key() == r.Key() {
			start = i
		}
	}
	for _, s := range b.stack[start:] {
		parts = append(parts, s.StatusKey())
	}
	return strings.Join(append(parts, r.StatusKey()), " -> ")
}

// Roots are the nodes no other node depends on.
func (g *Graph) Roots() []int {
	var out []int
	for i, n := range g.Nodes {
		if len(n.Parents) == 0 {
			out = append(out, i)
		}
	}
	return out
}

// Resources lists every resource of the graph in node order.
func (g *Graph) Resources() []model.Resource {
	out := make([]model.Resource, len(g.Nodes))
	for i, n := range g.Nodes {
		out[i] = n.Resource
	}
	return out
}

func sid(i int) string { return "0x" + strconv.FormatInt(int64(i), 16) }

// MarshalJSON writes Karbor's form: [ {"0x0": [type, id, name, extra_info], ...},
// [[parent, [child, ...]], ...] ] with adjacency in topological order.
func (g *Graph) MarshalJSON() ([]byte, error) {
	nodes := make(map[string][4]any, len(g.Nodes))
	adj := make([][2]any, 0)
	for i, n := range g.Nodes {
		var extra any
		if len(n.Resource.ExtraInfo) > 0 {
			extra = n.Resource.ExtraInfo
		}
		nodes[sid(i)] = [4]any{n.Resource.Type, n.Resource.ID, n.Resource.Name, extra}
		if len(n.Children) > 0 {
			kids := make([]string, len(n.Children))
			for j, c := range n.Children {
				kids[j] = sid(c)
			}
			adj = append(adj, [2]any{sid(i), kids})
		}
	}
	return json.Marshal([2]any{nodes, adj})
}

// String is the serialised graph as a JSON string, the form the API returns.
func (g *Graph) String() string {
	data, err := g.MarshalJSON()
	if err != nil {
		return "[{}, []]"
	}
	return string(data)
}

// UnmarshalJSON reads Karbor's form (see MarshalJSON).
func (g *Graph) UnmarshalJSON(data []byte) error {
	var raw [2]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return fmt.Errorf("resource graph: %w", err)
	}
	var nodes map[string][4]json.RawMessage
	if err := json.Unmarshal(raw[0], &nodes); err != nil {
		return fmt.Errorf("resource graph nodes: %w", err)
	}
	var adj [][2]json.RawMessage
	if len(raw[1]) > 0 {
		if err := json.Unmarshal(raw[1], &adj); err != nil {
			return fmt.Errorf("resource graph adjacency: %w", err)
		}
	}
	out := make([]Node, len(nodes))
	for s, v := range nodes {
		i, err := parseSID(s, len(nodes))
		if err != nil {
			return err
		}
		var r model.Resource
		for j, dst := range []*string{&r.Type, &r.ID, &r.Name} {
			if err := json.Unmarshal(v[j], dst); err != nil {
				return fmt.Errorf("resource graph node %s: %w", s, err)
			}
		}
		if len(v[3]) > 0 && string(v[3]) != "null" {
			if err := json.Unmarshal(v[3], &r.ExtraInfo); err != nil {
				return fmt.Errorf("resource graph node %s extra_info: %w", s, err)
			}
		}
		out[i].Resource = r
	}
	for _, e := range adj {
		var ps string
		var cs []string
		if err := json.Unmarshal(e[0], &ps); err != nil {
			return fmt.Errorf("resource graph adjacency: %w", err)
		}
		if err := json.Unmarshal(e[1], &cs); err != nil {
			return fmt.Errorf("resource graph adjacency: %w", err)
		}
		p, err := parseSID(ps, len(out))
		if err != nil {
			return err
		}
		for _, c := range cs {
			ci, err := parseSID(c, len(out))
			if err != nil {
				return err
			}
			if ci >= p {
				return fmt.Errorf("resource graph: child %s is not before its parent %s", c, ps)
			}
			out[p].Children = append(out[p].Children, ci)
			out[ci].Parents = append(out[ci].Parents, p)
		}
	}
	g.Nodes = out
	return nil
}

func parseSID(s string, n int) (int, error) {
	// Only the canonical form sid writes is accepted: "0x00" or "0x+1" would
	// otherwise alias another node and leave an empty one behind.
	i, err := strconv.ParseInt(strings.TrimPrefix(s, "0x"), 16, 32)
	if err != nil || s != sid(int(i)) || int(i) < 0 || int(i) >= n {
		return 0, fmt.Errorf("resource graph: bad node id %q", s)
	}
	return int(i), nil
}

// Parse reads a serialised graph.
func Parse(s string) (*Graph, error) {
	g := &Graph{}
	if err := g.UnmarshalJSON([]byte(s)); err != nil {
		return nil, err
	}
	return g, nil
}
