package checkpoint_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pouchdp/pouch/bank"
	"github.com/pouchdp/pouch/bank/fsbank"
	"github.com/pouchdp/pouch/shared/checkpoint"
	"github.com/pouchdp/pouch/shared/model"
)

const (
	provider1 = "b766f37c-d011-4026-8228-28730d734a3f"
	provider2 = "3d7e9a3c-5f0b-4c55-9b0e-6b1f3c1d2a10"
)

func newBank(t *testing.T) bank.Bank {
	t.Helper()
	b, err := fsbank.New(t.TempDir(), "karbor")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newCheckpoint(id, project, plan string) *model.Checkpoint {
	return &model.Checkpoint{
		ID:        id,
		Status:    model.CheckpointProtecting,
		OwnerID:   "owner-1",
		ProjectID: project,
		ProtectionPlan: model.PlanSnapshot{
			ID: plan, Name: "plan " + plan,
			Resources: []model.Resource{{Type: "OS::Nova::Server", ID: "srv-1", Name: "App"}},
		},
		ExtraInfo: map[string]any{"created_by": "manual"},
	}
}

// listAll lists every key of the bank.
func listAll(t *testing.T, b bank.Bank) []string {
	t.Helper()
	keys, err := b.List(context.Background(), bank.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func TestCreate(t *testing.T) {
	ctx := context.Background()
	b := newBank(t)
	c := &checkpoint.Collection{Bank: b, ProviderID: provider1}
	// 02:30 at UTC+5 is the previous day in UTC.
	now := time.Date(2024, 3, 6, 2, 30, 15, 999, time.FixedZone("UTC+5", 5*3600))
	utc := now.UTC()
	ts := strconv.FormatInt(utc.Unix(), 10)

	cp := newCheckpoint("cp-1", "proj-1", "plan-1")
	cp.ProviderID = "ignored"
	cp.Version = "ignored"
	if err := c.Create(ctx, cp, now); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if cp.Version != checkpoint.Version || cp.ProviderID != provider1 || cp.Timestamp != utc.Unix() ||
		cp.CreatedAt != "2024-03-05" || !cp.UpdatedAt.Equal(now) || cp.UpdatedAt.Location() != time.UTC {
		t.Errorf("Create filled in version %q provider %q timestamp %d created_at %q updated_at %v",
			cp.Version, cp.ProviderID, cp.Timestamp, cp.CreatedAt, cp.UpdatedAt)
	}

	want := []string{
		"/checkpoints/cp-1/index.json",
		"/indices/by-date/2024-03-05/proj-1/" + ts + "@cp-1",
		"/indices/by-plan/plan-1/proj-1/2024-03-05/" + ts + "@cp-1",
		"/indices/by-provider/" + provider1 + "/proj-1/" + ts + "@cp-1",
	}
	if got := listAll(t, b); !reflect.DeepEqual(got, want) {
		t.Errorf("bank keys:\n got  %q\n want %q", got, want)
	}
	for _, k := range want[1:] {
		v, err := bank.GetBytes(ctx, b, k)
		if err != nil || string(v) != "cp-1" {
			t.Errorf("index %s = %q, %v; want the checkpoint id", k, v, err)
		}
	}

	var meta map[string]any
	if err := bank.GetJSON(ctx, b, "/checkpoints/cp-1/index.json", &meta); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]any{
		"version": "0.9", "id": "cp-1", "status": "protecting", "owner_id": "owner-1",
		"provider_id": provider1, "project_id": "proj-1", "created_at": "2024-03-05",
		"timestamp": float64(utc.Unix()),
	} {
		if meta[k] != v {
			t.Errorf("index.json %s = %#v, want %#v", k, meta[k], v)
		}
	}
	if plan, _ := meta["protection_plan"].(map[string]any); plan["id"] != "plan-1" {
		t.Errorf("index.json protection_plan = %#v, want id plan-1", meta["protection_plan"])
	}

	got, err := c.Get(ctx, "cp-1")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if !reflect.DeepEqual(got, cp) {
		t.Errorf("Get:\n got  %+v\n want %+v", got, cp)
	}
}

func TestUpdate(t *testing.T) {
	ctx := context.Background()
	c := &checkpoint.Collection{Bank: newBank(t), ProviderID: provider1}
	cp := newCheckpoint("cp-1", "proj-1", "plan-1")
	if err := c.Create(ctx, cp, time.Unix(1700000000, 0)); err != nil {
		t.Fatal(err)
	}
	cp.Status = model.CheckpointAvailable
	cp.ResourceGraph = "[{}, []]"
	if err := c.Update(ctx, cp); err != nil {
		t.Fatalf("Update: %v", err)
	}
	got, err := c.Get(ctx, "cp-1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != model.CheckpointAvailable || got.ResourceGraph != "[{}, []]" {
		t.Errorf("after Update: status %q graph %q", got.Status, got.ResourceGraph)
	}
}

func TestGetNotFound(t *testing.T) {
	ctx := context.Background()
	b := newBank(t)
	c1 := &checkpoint.Collection{Bank: b, ProviderID: provider1}
	c2 := &checkpoint.Collection{Bank: b, ProviderID: provider2}
	if err := c1.Create(ctx, newCheckpoint("cp-1", "proj-1", "plan-1"), time.Unix(1700000000, 0)); err != nil {
		t.Fatal(err)
	}
	if _, err := c1.Get(ctx, "cp-1"); err != nil {
		t.Fatalf("Get from its own provider: %v", err)
	}
	for _, tt := range []struct {
		name string
		c    *checkpoint.Collection
		id   string
	}{
		{"another provider sharing the bank", c2, "cp-1"},
		{"unknown id", c1, "cp-2"},
		{"id that is not a key", c1, "../cp-1"},
		{"empty id", c1, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cp, err := tt.c.Get(ctx, tt.id)
			if !errors.Is(err, checkpoint.ErrNotFound) {
				t.Errorf("Get(%q) = %v, %v; want ErrNotFound", tt.id, cp, err)
			}
		})
	}
	if got, err := c2.List(ctx, checkpoint.ListOptions{ProjectID: "proj-1"}); err != nil || len(got) != 0 {
		t.Errorf("the other provider lists %d checkpoints (%v), want 0", len(got), err)
	}
	if got, err := c2.List(ctx, checkpoint.ListOptions{AllTenants: true, PlanID: "plan-1"}); err != nil || len(got) != 0 {
		t.Errorf("the other provider lists %d checkpoints by plan (%v), want 0", len(got), err)
	}
}

func TestGetUnsupportedVersion(t *testing.T) {
	ctx := context.Background()
	b := newBank(t)
	c := &checkpoint.Collection{Bank: b, ProviderID: provider1}
	if err := c.Create(ctx, newCheckpoint("cp-1", "proj-1", "plan-1"), time.Unix(1700000000, 0)); err != nil {
		t.Fatal(err)
	}
	for _, version := range []string{"1.0", "", "0.9.1"} {
		t.Run(version, func(t *testing.T) {
			var meta map[string]any
			if err := bank.GetJSON(ctx, b, checkpoint.MetadataKey("cp-1"), &meta); err != nil {
				t.Fatal(err)
			}
			meta["version"] = version
			if err := bank.PutJSON(ctx, b, checkpoint.MetadataKey("cp-1"), meta); err != nil {
				t.Fatal(err)
			}
			cp, err := c.Get(ctx, "cp-1")
			if err == nil || errors.Is(err, checkpoint.ErrNotFound) {
				t.Fatalf("Get = %v, %v; want an unsupported version error", cp, err)
			}
			if !strings.Contains(err.Error(), strconv.Quote(version)) || !errors.Is(err, checkpoint.ErrVersion) {
				t.Errorf("error %q does not name version %q or wrap ErrVersion", err, version)
			}
			// A listing skips it rather than failing.
			if cps, err := c.List(ctx, checkpoint.ListOptions{ProjectID: "proj-1"}); err != nil || len(cps) != 0 {
				t.Errorf("List = %v, %v; want the unreadable checkpoint skipped", ids(cps), err)
			}
		})
	}
}

// fixture is a bank with the checkpoints of provider1 below (names are ids,
// deliberately not in time order) and one of provider2.
//
//	id  project plan  created (UTC)
//	k   p1      A     2024-01-10 10:00:00
//	b   p1      B     2024-01-10 10:00:01
//	x   p2      A     2024-01-11 09:00:00
//	d   p1      A     2024-01-12 00:00:00
//	m   p1      A     2024-01-12 23:59:59
//	a   p2      B     2024-01-13 12:00:00
//	s   p1      A     2024-01-13 12:00:00 (same second as a)
//	o   p1      A     2024-01-11 12:00:00 (provider2)
func fixture(t *testing.T) (*checkpoint.Collection, *checkpoint.Collection) {
	t.Helper()
	ctx := context.Background()
	b := newBank(t)
	c1 := &checkpoint.Collection{Bank: b, ProviderID: provider1}
	c2 := &checkpoint.Collection{Bank: b, ProviderID: provider2}
	at := func(day, h, m, s int) time.Time { return time.Date(2024, 1, day, h, m, s, 0, time.UTC) }
	for _, f := range []struct {
		c                 *checkpoint.Collection
		id, project, plan string
		created           time.Time
	}{
		{c1, "k", "p1", "A", at(10, 10, 0, 0)},
		{c1, "b", "p1", "B", at(10, 10, 0, 1)},
		{c1, "x", "p2", "A", at(11, 9, 0, 0)},
		{c1, "d", "p1", "A", at(12, 0, 0, 0)},
		{c1, "m", "p1", "A", at(12, 23, 59, 59)},
		{c1, "a", "p2", "B", at(13, 12, 0, 0)},
		{c1, "s", "p1", "A", at(13, 12, 0, 0)},
		{c2, "o", "p1", "A", at(11, 12, 0, 0)},
	} {
		if err := f.c.Create(ctx, newCheckpoint(f.id, f.project, f.plan), f.created); err != nil {
			t.Fatal(err)
		}
	}
	return c1, c2
}

func ids(cps []*model.Checkpoint) []string {
	out := []string{}
	for _, cp := range cps {
		out = append(out, cp.ID)
	}
	return out
}

func TestList(t *testing.T) {
	tests := []struct {
		name string
		opts checkpoint.ListOptions
		want []string
	}{
		{"project, newest first by default", checkpoint.ListOptions{ProjectID: "p1"}, []string{"s", "m", "d", "b", "k"}},
		{"desc", checkpoint.ListOptions{ProjectID: "p1", Sort: "desc"}, []string{"s", "m", "d", "b", "k"}},
		{"asc", checkpoint.ListOptions{ProjectID: "p1", Sort: "asc"}, []string{"k", "b", "d", "m", "s"}},
		{"ASC", checkpoint.ListOptions{ProjectID: "p1", Sort: "ASC"}, []string{"k", "b", "d", "m", "s"}},
		{"other project", checkpoint.ListOptions{ProjectID: "p2"}, []string{"a", "x"}},
		{"project with a prefix of another's name", checkpoint.ListOptions{ProjectID: "p"}, []string{}},
		{"unknown project", checkpoint.ListOptions{ProjectID: "p3"}, []string{}},
		{"all tenants, same second ordered by id", checkpoint.ListOptions{AllTenants: true}, []string{"s", "a", "m", "d", "x", "b", "k"}},
		{"all tenants ignore the project", checkpoint.ListOptions{AllTenants: true, ProjectID: "p1", Sort: "asc"}, []string{"k", "b", "x", "d", "m", "a", "s"}},
		{"by plan", checkpoint.ListOptions{ProjectID: "p1", PlanID: "A"}, []string{"s", "m", "d", "k"}},
		{"by plan, all tenants", checkpoint.ListOptions{AllTenants: true, PlanID: "A"}, []string{"s", "m", "d", "x", "k"}},
		{"by other plan", checkpoint.ListOptions{ProjectID: "p1", PlanID: "B"}, []string{"b"}},
		{"by unknown plan", checkpoint.ListOptions{ProjectID: "p1", PlanID: "C"}, []string{}},
		{"one day, both ends inclusive", checkpoint.ListOptions{ProjectID: "p1", StartDate: "2024-01-12", EndDate: "2024-01-12"}, []string{"m", "d"}},
		{"start date only", checkpoint.ListOptions{ProjectID: "p1", StartDate: "2024-01-11"}, []string{"s", "m", "d"}},
		{"end date only", checkpoint.ListOptions{ProjectID: "p1", EndDate: "2024-01-10"}, []string{"b", "k"}},
		{"date range", checkpoint.ListOptions{ProjectID: "p1", StartDate: "2024-01-10", EndDate: "2024-01-12", Sort: "asc"}, []string{"k", "b", "d", "m"}},
		{"day without checkpoints of the project", checkpoint.ListOptions{ProjectID: "p1", StartDate: "2024-01-11", EndDate: "2024-01-11"}, []string{}},
		{"day, all tenants", checkpoint.ListOptions{AllTenants: true, StartDate: "2024-01-11", EndDate: "2024-01-11"}, []string{"x"}},
		{"empty range", checkpoint.ListOptions{ProjectID: "p1", StartDate: "2024-01-13", EndDate: "2024-01-10"}, []string{}},
		{"plan and dates", checkpoint.ListOptions{ProjectID: "p1", PlanID: "A", StartDate: "2024-01-12"}, []string{"s", "m", "d"}},
		{"limit", checkpoint.ListOptions{ProjectID: "p1", Limit: 3}, []string{"s", "m", "d"}},
		{"limit above the count", checkpoint.ListOptions{ProjectID: "p1", Limit: 100}, []string{"s", "m", "d", "b", "k"}},
		{"limit after the filters", checkpoint.ListOptions{ProjectID: "p1", EndDate: "2024-01-12", Limit: 2}, []string{"m", "d"}},
		{"marker", checkpoint.ListOptions{ProjectID: "p1", Marker: "d"}, []string{"b", "k"}},
		{"marker asc", checkpoint.ListOptions{ProjectID: "p1", Marker: "d", Sort: "asc"}, []string{"m", "s"}},
		{"marker and limit", checkpoint.ListOptions{ProjectID: "p1", Marker: "s", Limit: 2}, []string{"m", "d"}},
		{"marker last", checkpoint.ListOptions{ProjectID: "p1", Marker: "k"}, []string{}},
		{"marker in a tie", checkpoint.ListOptions{AllTenants: true, Marker: "s"}, []string{"a", "m", "d", "x", "b", "k"}},
		{"marker outside the filter continues after its time", checkpoint.ListOptions{ProjectID: "p1", PlanID: "B", Marker: "k"}, []string{}},
		{"marker of another project", checkpoint.ListOptions{ProjectID: "p1", Marker: "x", Sort: "asc"}, []string{"d", "m", "s"}},
		{"unknown marker is ignored", checkpoint.ListOptions{ProjectID: "p1", Marker: "nope", Limit: 2}, []string{"s", "m"}},
	}
	c1, _ := fixture(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c1.List(context.Background(), tt.opts)
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			if !reflect.DeepEqual(ids(got), tt.want) {
				t.Errorf("List(%+v) = %q, want %q", tt.opts, ids(got), tt.want)
			}
			for _, cp := range got {
				if cp.ProviderID != provider1 {
					t.Errorf("listed %s of provider %s", cp.ID, cp.ProviderID)
				}
			}
		})
	}
}

func TestListOtherProvider(t *testing.T) {
	_, c2 := fixture(t)
	got, err := c2.List(context.Background(), checkpoint.ListOptions{AllTenants: true})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ids(got), []string{"o"}) {
		t.Errorf("provider2 lists %q, want [o]", ids(got))
	}
}

// page lists every page of limit items, following markers.
func page(t *testing.T, c *checkpoint.Collection, opts checkpoint.ListOptions, between func(last string)) []string {
	t.Helper()
	var all []string
	for range 20 {
		got, err := c.List(context.Background(), opts)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) > opts.Limit {
			t.Fatalf("page of %d items, limit %d", len(got), opts.Limit)
		}
		all = append(all, ids(got)...)
		if len(got) < opts.Limit {
			return all
		}
		opts.Marker = got[len(got)-1].ID
		if between != nil {
			between(opts.Marker)
		}
	}
	t.Fatalf("pagination does not end; so far %q", all)
	return nil
}

func TestListPagination(t *testing.T) {
	c1, _ := fixture(t)
	for _, opts := range []checkpoint.ListOptions{
		{AllTenants: true},
		{AllTenants: true, Sort: "asc"},
		{ProjectID: "p1", PlanID: "A"},
		{ProjectID: "p1", StartDate: "2024-01-10", EndDate: "2024-01-12"},
	} {
		full, err := c1.List(context.Background(), opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, limit := range []int{1, 2, 3, len(full), len(full) + 1} {
			o := opts
			o.Limit = limit
			if got := page(t, c1, o, nil); !reflect.DeepEqual(got, ids(full)) {
				t.Errorf("pages of %d over %+v = %q, want each of %q once, in order", limit, opts, got, ids(full))
			}
		}
	}
}

func TestListPaginationWhileDeleting(t *testing.T) {
	// The marker's checkpoint is deleted between two pages: the next page
	// still starts after it, as Karbor rebuilds markers from the metadata.
	for _, sort := range []string{"desc", "asc"} {
		t.Run(sort, func(t *testing.T) {
			c1, _ := fixture(t)
			ctx := context.Background()
			opts := checkpoint.ListOptions{ProjectID: "p1", Sort: sort, Limit: 2}
			all, err := c1.List(ctx, checkpoint.ListOptions{ProjectID: "p1", Sort: sort})
			if err != nil {
				t.Fatal(err)
			}
			var deleted []string
			got := page(t, c1, opts, func(last string) {
				cp, err := c1.Get(ctx, last)
				if err != nil {
					t.Fatal(err)
				}
				if err := c1.RemoveIndices(ctx, cp); err != nil {
					t.Fatal(err)
				}
				deleted = append(deleted, last)
			})
			if !reflect.DeepEqual(got, ids(all)) {
				t.Errorf("pages = %q, want each of %q once, in order (deleted %q between pages)", got, ids(all), deleted)
			}
		})
	}
}

func TestRemoveIndices(t *testing.T) {
	ctx := context.Background()
	c1, _ := fixture(t)
	d, err := c1.Get(ctx, "d")
	if err != nil {
		t.Fatal(err)
	}
	if err := c1.RemoveIndices(ctx, d); err != nil {
		t.Fatalf("RemoveIndices: %v", err)
	}
	for _, opts := range []checkpoint.ListOptions{
		{ProjectID: "p1"},
		{AllTenants: true},
		{ProjectID: "p1", PlanID: "A"},
		{ProjectID: "p1", StartDate: "2024-01-12", EndDate: "2024-01-12"},
		{ProjectID: "p1", Marker: "m", Limit: 1},
	} {
		got, err := c1.List(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(ids(got), "d") {
			t.Errorf("List(%+v) = %q still has the checkpoint whose indices were removed", opts, ids(got))
		}
	}
	got, err := c1.List(ctx, checkpoint.ListOptions{ProjectID: "p1"})
	if err != nil || !reflect.DeepEqual(ids(got), []string{"s", "m", "b", "k"}) {
		t.Errorf("List after RemoveIndices = %q, %v; want [s m b k]", ids(got), err)
	}
	if cp, err := c1.Get(ctx, "d"); err != nil || cp.ID != "d" {
		t.Errorf("Get after RemoveIndices = %v, %v; want the checkpoint", cp, err)
	}
	for _, k := range listAll(t, c1.Bank) {
		if strings.HasSuffix(k, "@d") {
			t.Errorf("index %s left behind", k)
		}
	}
	// Removing again is not an error.
	if err := c1.RemoveIndices(ctx, d); err != nil {
		t.Errorf("second RemoveIndices: %v", err)
	}
}

func TestListSkipsIndexWithoutMetadata(t *testing.T) {
	ctx := context.Background()
	c1, _ := fixture(t)
	if err := c1.Bank.Delete(ctx, checkpoint.MetadataKey("m")); err != nil {
		t.Fatal(err)
	}
	got, err := c1.List(ctx, checkpoint.ListOptions{ProjectID: "p1"})
	if err != nil || !reflect.DeepEqual(ids(got), []string{"s", "d", "b", "k"}) {
		t.Errorf("List = %q, %v; want [s d b k]", ids(got), err)
	}
}
