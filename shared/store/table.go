package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrNotFound: no record with that id (or a marker that names none).
var ErrNotFound = errors.New("not found")

// ErrExists: a record with that id exists already.
var ErrExists = errors.New("already exists")

// Table is one kind of record in Redis.
type Table[T any] struct {
	rdb     redis.UniversalClient
	key     string // <prefix><name>
	id      func(*T) string
	project func(*T) string
	created func(*T) time.Time
}

// NewTable describes a table of T named name under prefix.
func NewTable[T any](rdb redis.UniversalClient, prefix, name string, id, project func(*T) string, created func(*T) time.Time) *Table[T] {
	return &Table[T]{rdb: rdb, key: prefix + name, id: id, project: project, created: created}
}

// IDOf is a record's id.
func (t *Table[T]) IDOf(v *T) string { return t.id(v) }

// ProjectOf is the project a record belongs to.
func (t *Table[T]) ProjectOf(v *T) string { return t.project(v) }

func (t *Table[T]) recKey(id string) string       { return t.key + ":" + id }
func (t *Table[T]) projKey(project string) string { return t.key + ":by-project:" + project }
func (t *Table[T]) allKey() string                { return t.key + ":all" }

// Create stores a new record; ErrExists if its id is taken.
func (t *Table[T]) Create(ctx context.Context, v *T) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	id := t.id(v)
	ok, err := t.rdb.SetNX(ctx, t.recKey(id), data, 0).Result()
	if err != nil {
		return fmt.Errorf("%s %s: %w", t.key, id, err)
	}
	if !ok {
		return fmt.Errorf("%s %s: %w", t.key, id, ErrExists)
	}
	score := float64(t.created(v).UnixMicro())
	_, err = t.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.ZAdd(ctx, t.projKey(t.project(v)), redis.Z{Score: score, Member: id})
		p.ZAdd(ctx, t.allKey(), redis.Z{Score: score, Member: id})
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s %s: index: %w", t.key, id, err)
	}
	return nil
}

// Get reads one record.
func (t *Table[T]) Get(ctx context.Context, id string) (*T, error) {
	data, err := t.rdb.Get(ctx, t.recKey(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("%s %s: %w", t.key, id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", t.key, id, err)
	}
	v := new(T)
	if err := json.Unmarshal(data, v); err != nil {
		return nil, fmt.Errorf("%s %s: %w", t.key, id, err)
	}
	return v, nil
}

// Update reads a record, lets fn change it and writes it back, retrying if
// another writer changed it meanwhile (optimistic, WATCH).
func (t *Table[T]) Update(ctx context.Context, id string, fn func(*T) error) (*T, error) {
	var out *T
	txf := func(tx *redis.Tx) error {
		data, err := tx.Get(ctx, t.recKey(id)).Bytes()
		if errors.Is(err, redis.Nil) {
			return fmt.Errorf("%s %s: %w", t.key, id, ErrNotFound)
		}
		if err != nil {
			return err
		}
		v := new(T)
		if err := json.Unmarshal(data, v); err != nil {
			return err
		}
		if err := fn(v); err != nil {
			return err
		}
		if data, err = json.Marshal(v); err != nil {
			return err
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, t.recKey(id), data, 0)
			return nil
		})
		out = v
		return err
	}
	for range 50 {
		err := t.rdb.Watch(ctx, txf, t.recKey(id))
		if errors.Is(err, redis.TxFailedErr) {
			continue
		}
		return out, err
	}
	return nil, fmt.Errorf("%s %s: too much contention", t.key, id)
}

// Delete removes a record; ErrNotFound if absent.
func (t *Table[T]) Delete(ctx context.Context, id string) error {
	v, err := t.Get(ctx, id)
	if err != nil {
		return err
	}
	_, err = t.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, t.recKey(id))
		p.ZRem(ctx, t.projKey(t.project(v)), id)
		p.ZRem(ctx, t.allKey(), id)
		return nil
	})
	return err
}

// ListOptions page a listing, newest first unless Asc.
type ListOptions struct {
	Project     string
	AllProjects bool
	Marker      string // id of the last record seen
	Offset      int    // records to skip after the marker
	Limit       int    // 0: no limit
	Asc         bool
}

// List returns records of a project (or all), by creation time.
func (t *Table[T]) List(ctx context.Context, o ListOptions) ([]*T, error) {
	raws, err := t.ListRaw(ctx, o)
	if err != nil {
		return nil, err
	}
	out := make([]*T, 0, len(raws))
	for _, raw := range raws {
		v, err := t.Decode(raw)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// Decode reads one record as ListRaw returns it.
func (t *Table[T]) Decode(raw []byte) (*T, error) {
	v := new(T)
	if err := json.Unmarshal(raw, v); err != nil {
		return nil, fmt.Errorf("%s: %w", t.key, err)
	}
	return v, nil
}

// ListRaw is List without decoding: each record's JSON.
func (t *Table[T]) ListRaw(ctx context.Context, o ListOptions) ([][]byte, error) {
	idx := t.projKey(o.Project)
	if o.AllProjects {
		idx = t.allKey()
	}
	start := int64(0)
	if o.Marker != "" {
		var rank int64
		var err error
		if o.Asc {
			rank, err = t.rdb.ZRank(ctx, idx, o.Marker).Result()
		} else {
			rank, err = t.rdb.ZRevRank(ctx, idx, o.Marker).Result()
		}
		if errors.Is(err, redis.Nil) {
			return nil, fmt.Errorf("marker %s: %w", o.Marker, ErrNotFound)
		}
		if err != nil {
			return nil, err
		}
		start = rank + 1
	}
	start += int64(o.Offset)
	stop := int64(-1)
	if o.Limit > 0 {
		stop = start + int64(o.Limit) - 1
	}
	var ids []string
	var err error
	if o.Asc {
		ids, err = t.rdb.ZRange(ctx, idx, start, stop).Result()
	} else {
		ids, err = t.rdb.ZRevRange(ctx, idx, start, stop).Result()
	}
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = t.recKey(id)
	}
	vals, err := t.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, err
	}
	out := make([][]byte, 0, len(vals))
	for _, raw := range vals {
		if s, ok := raw.(string); ok { // else deleted between the range and the read
			out = append(out, []byte(s))
		}
	}
	return out, nil
}
