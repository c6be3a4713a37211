package volume

import (
	"errors"
	"slices"
	"testing"

	"github.com/pouchdp/pouch/shared/model"
	"github.com/pouchdp/pouch/shared/protection"
)

func TestPercent(t *testing.T) {
	for in, want := range map[string]int64{"0%": 0, "42%": 42, "100%": 100, "": 0, "x%": 0, "150%": 0, "-1%": 0} {
		if got := percent(in); got != want {
			t.Errorf("percent(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestUnique(t *testing.T) {
	for _, c := range []struct {
		id   string
		ids  []string
		want []string
	}{
		{"", nil, nil},
		{"a", nil, []string{"a"}},
		{"a", []string{"b", "a", "b"}, []string{"a", "b"}},
		{"", []string{"b", "c"}, []string{"b", "c"}},
	} {
		if got := unique(c.id, c.ids); !slices.Equal(got, c.want) {
			t.Errorf("unique(%q, %v) = %v, want %v", c.id, c.ids, got, c.want)
		}
	}
}

func TestRestoreNames(t *testing.T) {
	md := Metadata{VolumeID: "vol", VolumeName: "data", VolumeDescription: "the data"}
	for _, c := range []struct {
		params     map[string]any
		md         Metadata
		name, desc string
	}{
		{nil, md, "data", "the data"},
		{map[string]any{"restore_name": "new", "restore_description": "d"}, md, "new", "d"},
		{nil, Metadata{VolumeID: "vol"}, "cp@vol", ""},
	} {
		name, desc := restoreNames(&protection.HookContext{CheckpointID: "cp", Parameters: c.params}, c.md)
		if name != c.name || desc != c.desc {
			t.Errorf("restoreNames(%v, %+v) = %q, %q; want %q, %q", c.params, c.md, name, desc, c.name, c.desc)
		}
	}
}

// TestSchemasAndOperations: Karbor's parameters are published, and copy is
// refused (the data is in Cinder, not in the bank).
func TestSchemasAndOperations(t *testing.T) {
	for _, c := range []struct {
		p       protection.Plugin
		options []string
		restore []string
	}{
		{&Plugin{fromSnapshot: true}, []string{"backup_name", "backup_mode", "container", "description", "force"},
			[]string{"volume_id", "restore_name", "restore_description"}},
		{&SnapshotPlugin{}, []string{"snapshot_name", "description", "force"}, []string{"restore_name", "restore_description"}},
	} {
		s := c.p.Schemas("OS::Cinder::Volume")
		for schema, keys := range map[string][]string{"options": c.options, "restore": c.restore} {
			m := s.Options
			if schema == "restore" {
				m = s.Restore
			}
			props, _ := m["properties"].(map[string]any)
			for _, k := range keys {
				if _, ok := props[k]; !ok {
					t.Errorf("%T %s schema lacks %s", c.p, schema, k)
				}
			}
			if len(props) != len(keys) {
				t.Errorf("%T %s schema: %d properties, want %v", c.p, schema, len(props), keys)
			}
		}
		for _, op := range []model.OperationType{model.OpProtect, model.OpRestore, model.OpDelete, model.OpVerify} {
			if o, err := c.p.Operation(op, model.Resource{}); err != nil || o.Main == nil {
				t.Errorf("%T %s: %v", c.p, op, err)
			}
		}
		if _, err := c.p.Operation(model.OpCopy, model.Resource{}); !errors.Is(err, protection.ErrUnsupported) {
			t.Errorf("%T copy: %v, want ErrUnsupported", c.p, err)
		}
	}
	if o, _ := (&Plugin{fromSnapshot: true}).Operation(model.OpProtect, model.Resource{}); o.PrepareFinish == nil {
		t.Error("backup_from_snapshot: no on_prepare_finish snapshot")
	}
	if o, _ := (&Plugin{}).Operation(model.OpProtect, model.Resource{}); o.PrepareFinish != nil {
		t.Error("without backup_from_snapshot: an on_prepare_finish")
	}
}
