package graph

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/pouchdp/pouch/shared/model"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// res is a resource of type T named after its id.
func res(id string) model.Resource { return model.Resource{Type: "T", ID: id, Name: id} }

// depsOf answers from a map keyed by resource id.
func depsOf(m map[string][]model.Resource) DependencyFunc {
	return func(_ context.Context, r model.Resource) ([]model.Resource, error) {
		return m[r.ID], nil
	}
}

// describe renders each node as "id children parents", e.g. "a [] [2]".
func describe(g *Graph) []string {
	out := make([]string, len(g.Nodes))
	for i, n := range g.Nodes {
		out[i] = fmt.Sprintf("%s %v %v", n.Resource.ID, ints(n.Children), ints(n.Parents))
	}
	return out
}

func ints(s []int) []int {
	if s == nil {
		return []int{}
	}
	return s
}

// checkPostOrder fails unless every child comes before its parents and the
// Children and Parents lists mirror each other.
func checkPostOrder(t *testing.T, g *Graph) {
	t.Helper()
	for i, n := range g.Nodes {
		for _, c := range n.Children {
			if c >= i {
				t.Errorf("node %d (%s) has child %d, not before it", i, n.Resource.ID, c)
			}
			if !slices.Contains(g.Nodes[c].Parents, i) {
				t.Errorf("node %d is a child of %d but does not list it as parent", c, i)
			}
		}
		for _, p := range n.Parents {
			if !slices.Contains(g.Nodes[p].Children, i) {
				t.Errorf("node %d lists parent %d which does not list it as child", i, p)
			}
		}
	}
}

func TestBuild(t *testing.T) {
	tests := []struct {
		name  string
		input []model.Resource
		deps  map[string][]model.Resource
		want  []string
		roots []int
	}{
		{
			name:  "no dependencies",
			input: []model.Resource{res("a"), res("b")},
			want:  []string{"a [] []", "b [] []"},
			roots: []int{0, 1},
		},
		{
			name:  "dependencies are pulled in",
			input: []model.Resource{res("server")},
			deps:  map[string][]model.Resource{"server": {res("image"), res("volume")}},
			want:  []string{"image [] [2]", "volume [] [2]", "server [0 1] []"},
			roots: []int{2},
		},
		{
			name:  "shared child is one node with two parents",
			input: []model.Resource{res("s1"), res("s2")},
			deps:  map[string][]model.Resource{"s1": {res("vol")}, "s2": {res("vol")}},
			want:  []string{"vol [] [1 2]", "s1 [0] []", "s2 [0] []"},
			roots: []int{1, 2},
		},
		{
			name:  "post-order: children before parents, depth first",
			input: []model.Resource{res("a")},
			deps: map[string][]model.Resource{
				"a": {res("b"), res("e")},
				"b": {res("c")},
				"c": {res("d")},
			},
			want:  []string{"d [] [1]", "c [0] [2]", "b [1] [4]", "e [] [4]", "a [2 3] []"},
			roots: []int{4},
		},
		{
			name:  "diamond",
			input: []model.Resource{res("top")},
			deps: map[string][]model.Resource{
				"top":   {res("left"), res("right")},
				"left":  {res("base")},
				"right": {res("base")},
			},
			want:  []string{"base [] [1 2]", "left [0] [3]", "right [0] [3]", "top [1 2] []"},
			roots: []int{3},
		},
		{
			name:  "duplicate resources in the input collapse",
			input: []model.Resource{res("a"), res("a"), res("b"), res("a")},
			want:  []string{"a [] []", "b [] []"},
			roots: []int{0, 1},
		},
		{
			name:  "duplicate dependencies collapse",
			input: []model.Resource{res("a")},
			deps:  map[string][]model.Resource{"a": {res("b"), res("b")}},
			want:  []string{"b [] [1]", "a [0] []"},
			roots: []int{1},
		},
		{
			name:  "a plan resource that is also a dependency is not a root (listed first)",
			input: []model.Resource{res("image"), res("server")},
			deps:  map[string][]model.Resource{"server": {res("image")}},
			want:  []string{"image [] [1]", "server [0] []"},
			roots: []int{1},
		},
		{
			name:  "a plan resource that is also a dependency is not a root (listed last)",
			input: []model.Resource{res("server"), res("image")},
			deps:  map[string][]model.Resource{"server": {res("image")}},
			want:  []string{"image [] [1]", "server [0] []"},
			roots: []int{1},
		},
		{
			name:  "empty input",
			input: nil,
			want:  []string{},
			roots: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := Build(context.Background(), tt.input, depsOf(tt.deps))
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			if got := describe(g); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("nodes:\n got  %q\n want %q", got, tt.want)
			}
			if got := g.Roots(); !reflect.DeepEqual(got, tt.roots) {
				t.Errorf("Roots() = %v, want %v", got, tt.roots)
			}
			checkPostOrder(t, g)
		})
	}
}

func TestBuildIdentity(t *testing.T) {
	// Identity is (type, id, name); extra_info takes no part in it.
	a1 := model.Resource{Type: "T", ID: "1", Name: "a", ExtraInfo: map[string]any{"k": "first"}}
	a2 := model.Resource{Type: "T", ID: "1", Name: "a", ExtraInfo: map[string]any{"k": "second"}}
	renamed := model.Resource{Type: "T", ID: "1", Name: "b"}
	otherType := model.Resource{Type: "U", ID: "1", Name: "a"}

	g, err := Build(context.Background(), []model.Resource{a1, a2, renamed, otherType}, nil)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	want := []model.Resource{a1, renamed, otherType}
	if got := g.Resources(); !reflect.DeepEqual(got, want) {
		t.Errorf("Resources() = %v, want %v", got, want)
	}
}

func TestBuildCycle(t *testing.T) {
	tests := []struct {
		name  string
		input []model.Resource
		deps  map[string][]model.Resource
		path  string
	}{
		{
			name:  "two nodes",
			input: []model.Resource{res("A")},
			deps:  map[string][]model.Resource{"A": {res("B")}, "B": {res("A")}},
			path:  "T#A -> T#B -> T#A",
		},
		{
			name:  "self loop",
			input: []model.Resource{res("A")},
			deps:  map[string][]model.Resource{"A": {res("A")}},
			path:  "T#A -> T#A",
		},
		{
			name:  "loop below a root shows only the loop",
			input: []model.Resource{res("ok"), res("R")},
			deps: map[string][]model.Resource{
				"R": {res("A")},
				"A": {res("B")},
				"B": {res("ok"), res("C")},
				"C": {res("A")},
			},
			path: "T#A -> T#B -> T#C -> T#A",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := Build(context.Background(), tt.input, depsOf(tt.deps))
			if !errors.Is(err, ErrCycle) {
				t.Fatalf("Build error = %v, want one wrapping ErrCycle", err)
			}
			if g != nil {
				t.Errorf("Build returned a graph with its error: %v", describe(g))
			}
			if !strings.HasSuffix(err.Error(), ": "+tt.path) {
				t.Errorf("error %q does not end with the loop path %q", err, tt.path)
			}
		})
	}
}

func TestBuildDependencyError(t *testing.T) {
	boom := errors.New("nova is down")
	deps := func(_ context.Context, r model.Resource) ([]model.Resource, error) {
		if r.ID == "server" {
			return nil, boom
		}
		return []model.Resource{res("server")}, nil
	}
	g, err := Build(context.Background(), []model.Resource{res("project")}, deps)
	if !errors.Is(err, boom) {
		t.Fatalf("Build error = %v, want one wrapping %v", err, boom)
	}
	if g != nil {
		t.Errorf("Build returned a graph with its error")
	}
	if !strings.Contains(err.Error(), "T#server") {
		t.Errorf("error %q does not name the resource whose dependencies failed", err)
	}
}

func TestBuildCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	called := false
	deps := func(context.Context, model.Resource) ([]model.Resource, error) {
		called = true
		return nil, nil
	}
	if _, err := Build(ctx, []model.Resource{res("a")}, deps); !errors.Is(err, context.Canceled) {
		t.Errorf("Build error = %v, want context.Canceled", err)
	}
	if called {
		t.Errorf("DependencyFunc called after the context was canceled")
	}
}

func TestRoots(t *testing.T) {
	tests := []struct {
		name  string
		graph *Graph
		want  []int
	}{
		{"empty", &Graph{}, nil},
		{"single", &Graph{Nodes: []Node{{Resource: res("a")}}}, []int{0}},
		{"child and parent", &Graph{Nodes: []Node{
			{Resource: res("c"), Parents: []int{1}},
			{Resource: res("p"), Children: []int{0}},
		}}, []int{1}},
		{"shared child, two roots and a loner", &Graph{Nodes: []Node{
			{Resource: res("c"), Parents: []int{1, 2}},
			{Resource: res("p1"), Children: []int{0}},
			{Resource: res("p2"), Children: []int{0}},
			{Resource: res("alone")},
		}}, []int{1, 2, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.graph.Roots(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Roots() = %v, want %v", got, tt.want)
			}
		})
	}
}

// karborExample builds spec §4.4's example: plan [server, volume], the server
// has an image child.
func karborExample(t *testing.T) *Graph {
	t.Helper()
	server := model.Resource{Type: "OS::Nova::Server", ID: "cb..", Name: "App"}
	volume := model.Resource{Type: "OS::Cinder::Volume", ID: "25..", Name: "Sys"}
	image := model.Resource{Type: "OS::Glance::Image", ID: "99..", Name: "cirros",
		ExtraInfo: map[string]any{"server_id": "cb.."}}
	deps := func(_ context.Context, r model.Resource) ([]model.Resource, error) {
		if r.Type == "OS::Nova::Server" {
			return []model.Resource{image}, nil
		}
		return nil, nil
	}
	g, err := Build(context.Background(), []model.Resource{server, volume}, deps)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return g
}

// parseJSON decodes data into generic values so that map order is ignored.
func parseJSON(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("invalid JSON %s: %v", data, err)
	}
	return v
}

func TestMarshalJSONKarborExample(t *testing.T) {
	g := karborExample(t)
	got, err := json.Marshal(g)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	golden := filepath.Join("testdata", "karbor_example.json")
	if *update {
		if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(parseJSON(t, got), parseJSON(t, want)) {
		t.Errorf("MarshalJSON:\n got  %s\n want %s", got, want)
	}
	if s := g.String(); !reflect.DeepEqual(parseJSON(t, []byte(s)), parseJSON(t, want)) {
		t.Errorf("String() = %s, want %s", s, want)
	}
}

func TestParseKarborExample(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "karbor_example.json"))
	if err != nil {
		t.Fatal(err)
	}
	g, err := Parse(string(data))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := karborExample(t)
	if !reflect.DeepEqual(g, want) {
		t.Errorf("Parse:\n got  %+v\n want %+v", g.Nodes, want.Nodes)
	}
	if got := g.Roots(); !reflect.DeepEqual(got, []int{1, 2}) {
		t.Errorf("Roots() = %v, want [1 2] (server, volume)", got)
	}
}

func TestUnmarshalJSONRoundTrip(t *testing.T) {
	// A project with two servers sharing a network and a volume, an image
	// that is a plan resource of its own, a chain deeper than 16 nodes (ids
	// past 0xf) and extra_info of several JSON types.
	deps := map[string][]model.Resource{
		"project": {res("server1"), res("server2"), res("net")},
		"server1": {res("vol"), res("net"), res("image")},
		"server2": {res("vol"), res("net")},
		"vol":     {res("snap")},
	}
	input := []model.Resource{res("project"), res("image"), {
		Type: "OS::Glance::Image", ID: "img-2", Name: "with extra",
		ExtraInfo: map[string]any{"server_id": "x", "size": 2.5, "tags": []any{"a", "b"}, "nested": map[string]any{"ok": true}},
	}}
	for i := range 20 {
		id := fmt.Sprintf("chain%02d", i)
		input = append(input, res(id))
		if i < 19 {
			deps[id] = []model.Resource{res(fmt.Sprintf("chain%02d", i+1))}
		}
	}
	g, err := Build(context.Background(), input, depsOf(deps))
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	if len(g.Nodes) != 28 {
		t.Fatalf("built %d nodes, want 28", len(g.Nodes))
	}

	data, err := json.Marshal(g)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	var back Graph
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatalf("Unmarshal %s: %v", data, err)
	}
	if !reflect.DeepEqual(&back, g) {
		t.Errorf("round trip changed the graph:\n got  %v\n want %v", describe(&back), describe(g))
	}
	if !reflect.DeepEqual(back.Roots(), g.Roots()) {
		t.Errorf("Roots after round trip = %v, want %v", back.Roots(), g.Roots())
	}
	again, err := json.Marshal(&back)
	if err != nil {
		t.Fatalf("Marshal again: %v", err)
	}
	if !reflect.DeepEqual(parseJSON(t, again), parseJSON(t, data)) {
		t.Errorf("second serialisation differs:\n got  %s\n want %s", again, data)
	}
}

func TestParseErrors(t *testing.T) {
	const a = `["T","a","a",null]`
	const b = `["T","b","b",null]`
	tests := []struct {
		name  string
		input string
		want  string // part of the error message
	}{
		{"not JSON", `[{"0x0":`, "resource graph"},
		{"not an array", `{"0x0": ["T","a","a",null]}`, "resource graph"},
		{"empty array", `[]`, "resource graph nodes"},
		{"nodes not an object", `[["T","a","a",null], []]`, "resource graph nodes"},
		{"adjacency not an array", `[{"0x0":` + a + `}, {"0x0": []}]`, "resource graph adjacency"},
		{"node not an array", `[{"0x0": "T#a"}, []]`, "resource graph nodes"},
		{"node type not a string", `[{"0x0": [1,"a","a",null]}, []]`, "node 0x0"},
		{"extra_info not an object", `[{"0x0": ["T","a","a","text"]}, []]`, "0x0 extra_info"},
		{"node id without 0x", `[{"0":` + a + `}, []]`, `bad node id "0"`},
		{"node id not hex", `[{"0xg":` + a + `}, []]`, `bad node id "0xg"`},
		{"node id out of range", `[{"0x0":` + a + `, "0x2":` + b + `}, []]`, `bad node id "0x2"`},
		{"negative node id", `[{"0x-1":` + a + `}, []]`, `bad node id "0x-1"`},
		{"node id with leading zero aliases another", `[{"0x0":` + a + `, "0x00":` + b + `}, []]`, `bad node id "0x00"`},
		{"node id with sign", `[{"0x0":` + a + `, "0x+1":` + b + `}, []]`, `bad node id "0x+1"`},
		{"node id in upper case", `[{"0X0":` + a + `}, []]`, `bad node id "0X0"`},
		{"adjacency parent unknown", `[{"0x0":` + a + `}, [["0x5", ["0x0"]]]]`, `bad node id "0x5"`},
		{"adjacency child unknown", `[{"0x0":` + a + `}, [["0x0", ["0x7"]]]]`, `bad node id "0x7"`},
		{"adjacency entry malformed", `[{"0x0":` + a + `}, [[0, ["0x0"]]]]`, "resource graph adjacency"},
		{"child after parent", `[{"0x0":` + a + `, "0x1":` + b + `}, [["0x0", ["0x1"]]]]`, "child 0x1 is not before its parent 0x0"},
		{"node its own child", `[{"0x0":` + a + `}, [["0x0", ["0x0"]]]]`, "child 0x0 is not before its parent 0x0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := Parse(tt.input)
			if err == nil {
				t.Fatalf("Parse(%s) = %v, want an error", tt.input, describe(g))
			}
			if g != nil {
				t.Errorf("Parse returned a graph with its error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestParseEmpty(t *testing.T) {
	for _, s := range []string{`[{}, []]`, `[{}]`, `[{}, null]`} {
		g, err := Parse(s)
		if err != nil {
			t.Errorf("Parse(%s): %v", s, err)
			continue
		}
		if len(g.Nodes) != 0 {
			t.Errorf("Parse(%s) has %d nodes, want 0", s, len(g.Nodes))
		}
	}
}
