package swift_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/pouchdp/pouch/bank"
	"github.com/pouchdp/pouch/tests/swifttest"
)

// TestSegmentsFollowTheirObject: a static large object replaced by another
// leaves only the new one's segments; deleting the object (even after a
// small object replaced it) leaves none.
func TestSegmentsFollowTheirObject(t *testing.T) {
	s := swifttest.Start(t)
	cfg := s.Config()
	cfg.SegmentSize = 1 << 20
	b := s.Bank(t, cfg)
	ctx := t.Context()
	segs := func() []string { return s.Objects(t, cfg.Container+"_segments", "big/") }
	big := bytes.Repeat([]byte("0123456789abcdef"), 3<<16) // 3 MiB: 3 segments
	for i := range 2 {
		if err := b.Put(ctx, "/big", bytes.NewReader(big)); err != nil {
			t.Fatal(err)
		}
		if got := segs(); len(got) != 3 {
			t.Fatalf("after put %d: segments %v, want the 3 of the last upload", i+1, got)
		}
	}
	data, err := bank.GetBytes(ctx, b, "/big")
	if err != nil || !bytes.Equal(data, big) {
		t.Fatalf("get: %d bytes, err %v", len(data), err)
	}
	if err := b.Put(ctx, "/big", strings.NewReader("small now")); err != nil {
		t.Fatal(err)
	}
	if err := b.Delete(ctx, "/big"); err != nil {
		t.Fatal(err)
	}
	// The small object's Delete does not know of the old segments; the
	// prefix's does.
	if err := bank.DeletePrefix(ctx, b, "/big"); err != nil {
		t.Fatal(err)
	}
	if got := segs(); len(got) != 0 {
		t.Fatalf("segments left: %v", got)
	}
	if err := b.Put(ctx, "/big", bytes.NewReader(big)); err != nil {
		t.Fatal(err)
	}
	if err := b.Delete(ctx, "/big"); err != nil {
		t.Fatal(err)
	}
	if got := segs(); len(got) != 0 {
		t.Fatalf("segments left after deleting a large object: %v", got)
	}
}

// TestSegmentBoundary: a stream of exactly one segment is stored as a plain
// object (no manifest, no segment); one byte more makes a large object of
// two segments. Both read back whole.
func TestSegmentBoundary(t *testing.T) {
	s := swifttest.Start(t)
	cfg := s.Config()
	cfg.SegmentSize = 1 << 20
	b := s.Bank(t, cfg)
	for _, tc := range []struct {
		name     string
		size     int
		segments int
	}{
		{"one byte short", 1<<20 - 1, 0},
		{"exactly one segment", 1 << 20, 0},
		{"one byte more", 1<<20 + 1, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := "/edge-" + strings.ReplaceAll(tc.name, " ", "-")
			data := bytes.Repeat([]byte{7}, tc.size)
			if err := b.Put(t.Context(), key, bytes.NewReader(data)); err != nil {
				t.Fatal(err)
			}
			if got := s.Objects(t, cfg.Container+"_segments", key[1:]+"/"); len(got) != tc.segments {
				t.Errorf("segments %v, want %d", got, tc.segments)
			}
			got, err := bank.GetBytes(t.Context(), b, key)
			if err != nil || !bytes.Equal(got, data) {
				t.Errorf("get: %d bytes, %v", len(got), err)
			}
		})
	}
}
