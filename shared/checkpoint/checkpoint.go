package checkpoint

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pouchdp/pouch/bank"
	"github.com/pouchdp/pouch/shared/model"
)

// Version is the only index.json version Pouch reads and writes.
const Version = "0.9"

// Errors callers branch on.
var (
	// ErrNotFound: no such checkpoint in this provider.
	ErrNotFound = errors.New("checkpoint not found")
	// ErrVersion: the checkpoint's metadata has a version Pouch cannot read.
	ErrVersion = errors.New("unsupported checkpoint metadata version")
)

// Collection is the checkpoints of one provider in its bank.
type Collection struct {
	Bank       bank.Bank
	ProviderID string
}

// MetadataKey is the key of a checkpoint's index.json.
func MetadataKey(id string) string { return bank.Join("checkpoints", id, "index.json") }

// DataPrefix is the prefix of every object of a checkpoint.
func DataPrefix(id string) string { return bank.Join("checkpoints", id) + "/" }

func indexName(cp *model.Checkpoint) string {
	return strconv.FormatInt(cp.Timestamp, 10) + "@" + cp.ID
}

func (c *Collection) indexKeys(cp *model.Checkpoint) []string {
	n := indexName(cp)
	return []string{
		bank.Join("indices", "by-provider", c.ProviderID, cp.ProjectID, n),
		bank.Join("indices", "by-date", cp.CreatedAt, cp.ProjectID, n),
		bank.Join("indices", "by-plan", cp.ProtectionPlan.ID, cp.ProjectID, cp.CreatedAt, n),
	}
}

// Create writes a new checkpoint's metadata, then its index entries. Version,
// provider, timestamps and created_at are filled in from now.
func (c *Collection) Create(ctx context.Context, cp *model.Checkpoint, now time.Time) error {
	now = now.UTC()
	cp.Version = Version
	cp.ProviderID = c.ProviderID
	cp.Timestamp = now.Unix()
	cp.CreatedAt = now.Format(time.DateOnly)
	cp.UpdatedAt = now
	if err := c.Update(ctx, cp); err != nil {
		return err
	}
	for _, k := range c.indexKeys(cp) {
		if err := bank.PutBytes(ctx, c.Bank, k, []byte(cp.ID)); err != nil {
			return fmt.Errorf("checkpoint %s: index: %w", cp.ID, err)
		}
	}
	return nil
}

// Update rewrites a checkpoint's metadata.
func (c *Collection) Update(ctx context.Context, cp *model.Checkpoint) error {
	if err := bank.PutJSON(ctx, c.Bank, MetadataKey(cp.ID), cp); err != nil {
		return fmt.Errorf("checkpoint %s: %w", cp.ID, err)
	}
	return nil
}

// Get reads a checkpoint's metadata. A checkpoint of another provider sharing
// the bank is not found.
func (c *Collection) Get(ctx context.Context, id string) (*model.Checkpoint, error) {
	var cp model.Checkpoint
	if err := bank.GetJSON(ctx, c.Bank, MetadataKey(id), &cp); err != nil {
		if errors.Is(err, bank.ErrNotFound) || errors.Is(err, bank.ErrInvalidKey) {
			return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
		}
		return nil, err
	}
	if cp.ProviderID != c.ProviderID {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if cp.Version != Version {
		return nil, fmt.Errorf("checkpoint %s: %w %q", id, ErrVersion, cp.Version)
	}
	return &cp, nil
}

// RemoveIndices deletes a checkpoint's index entries, so it no longer lists.
// Its metadata stays readable (Karbor keeps deleted checkpoints GET-able).
func (c *Collection) RemoveIndices(ctx context.Context, cp *model.Checkpoint) error {
	for _, k := range c.indexKeys(cp) {
		if err := c.Bank.Delete(ctx, k); err != nil {
			return fmt.Errorf("checkpoint %s: remove index: %w", cp.ID, err)
		}
	}
	return nil
}

// ListOptions filter and page a listing. Dates are "YYYY-MM-DD", inclusive.
type ListOptions struct {
	ProjectID  string // ignored with AllTenants
	AllTenants bool
	PlanID     string
	StartDate  string
	EndDate    string
	Marker     string // a checkpoint id
	Limit      int
	Sort       string // bank.Asc or bank.Desc (default: newest first)
}

type entry struct {
	ts   int64
	id   string
	date string
}

// List returns checkpoints newest first (or oldest first with Sort asc).
func (c *Collection) List(ctx context.Context, o ListOptions) ([]*model.Checkpoint, error) {
	proj := ""
	if !o.AllTenants {
		proj = o.ProjectID + "/"
	}
	var prefix string
	switch {
	case o.PlanID != "":
		prefix = bank.Join("indices", "by-plan", o.PlanID) + "/" + proj
	default:
		prefix = bank.Join("indices", "by-provider", c.ProviderID) + "/" + proj
	}
	keys, err := c.Bank.List(ctx, bank.ListOptions{Prefix: prefix})
	if err != nil {
		return nil, fmt.Errorf("list checkpoints: %w", err)
	}
	var entries []entry
	for _, k := range keys {
		e, ok := parseIndex(k[strings.LastIndex(k, "/")+1:])
		if !ok {
			continue
		}
		if o.StartDate != "" && e.date < o.StartDate || o.EndDate != "" && e.date > o.EndDate {
			continue
		}
		entries = append(entries, e)
	}
	slices.SortFunc(entries, compareEntries)
	asc := strings.EqualFold(o.Sort, bank.Asc)
	if !asc {
		slices.Reverse(entries)
	}
	if o.Marker != "" {
		if i := slices.IndexFunc(entries, func(e entry) bool { return e.id == o.Marker }); i >= 0 {
			entries = entries[i+1:]
		} else if m, err := c.Get(ctx, o.Marker); err == nil {
			// Not listed (deleted since the previous page, or outside the
			// filter): continue after its place, as Karbor does.
			me := entry{ts: m.Timestamp, id: m.ID}
			entries = slices.DeleteFunc(entries, func(e entry) bool {
				d := compareEntries(e, me)
				return d == 0 || (d < 0) == asc
			})
		}
	}
	out := make([]*model.Checkpoint, 0, len(entries))
	for _, e := range entries {
		if o.Limit > 0 && len(out) == o.Limit {
			break
		}
		cp, err := c.Get(ctx, e.id)
		if errors.Is(err, ErrNotFound) || errors.Is(err, ErrVersion) {
			// Metadata gone, another provider's checkpoint in the shared
			// by-plan index, or one this Pouch cannot read (it stays
			// readable by id, with the error): skip it without using up
			// the limit.
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, cp)
	}
	return out, nil
}

func compareEntries(a, b entry) int {
	if a.ts != b.ts {
		return cmp.Compare(a.ts, b.ts)
	}
	return strings.Compare(a.id, b.id)
}

func parseIndex(name string) (entry, bool) {
	ts, id, ok := strings.Cut(name, "@")
	if !ok {
		return entry{}, false
	}
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return entry{}, false
	}
	return entry{ts: n, id: id, date: time.Unix(n, 0).UTC().Format(time.DateOnly)}, true
}
