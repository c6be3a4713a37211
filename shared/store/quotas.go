package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// Quota resources.
const (
	QuotaPlans       = "plans"
	QuotaCheckpoints = "checkpoints"
)

// QuotaResources are the resources with quotas, in display order.
var QuotaResources = []string{QuotaPlans, QuotaCheckpoints}

// DefaultQuotas are Karbor's configuration defaults: 50 plans, unlimited
// checkpoints (-1).
func DefaultQuotas() map[string]int64 {
	return map[string]int64{QuotaPlans: 50, QuotaCheckpoints: -1}
}

// ErrOverQuota: the project would exceed a limit (HTTP 413).
type ErrOverQuota struct {
	Resource string
	Limit    int64
}

func (e *ErrOverQuota) Error() string {
	return fmt.Sprintf("Maximum number of %s allowed (%d) exceeded", e.Resource, e.Limit)
}

// Quotas keeps per-project limits (overrides of the defaults), quota
// classes and usage, in Redis hashes.
type Quotas struct {
	rdb      redis.UniversalClient
	prefix   string
	Defaults map[string]int64
}

// NewQuotas returns the quotas under key prefix, with Karbor's defaults.
func NewQuotas(rdb redis.UniversalClient, prefix string) *Quotas {
	return &Quotas{rdb: rdb, prefix: prefix + "quota:", Defaults: DefaultQuotas()}
}

func (q *Quotas) projectKey(p string) string { return q.prefix + "project:" + p }
func (q *Quotas) classKey(c string) string   { return q.prefix + "class:" + c }
func (q *Quotas) usageKey(p string) string   { return q.prefix + "usage:" + p }

func (q *Quotas) hash(ctx context.Context, key string) (map[string]int64, error) {
	m, err := q.rdb.HGetAll(ctx, key).Result()
	if err != nil {
		return nil, fmt.Errorf("quotas %s: %w", key, err)
	}
	out := map[string]int64{}
	for k, v := range m {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("quotas %s %s: %w", key, k, err)
		}
		out[k] = n
	}
	return out, nil
}

// Class returns a quota class: the defaults overridden by the class's own
// limits. The class "default" applies to every project without overrides.
func (q *Quotas) Class(ctx context.Context, name string) (map[string]int64, error) {
	own, err := q.hash(ctx, q.classKey(name))
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for _, r := range QuotaResources {
		out[r] = q.Defaults[r]
		if v, ok := own[r]; ok {
			out[r] = v
		}
	}
	return out, nil
}

// Limits returns a project's effective limits: its overrides, else the
// "default" class, else the defaults.
func (q *Quotas) Limits(ctx context.Context, project string) (map[string]int64, error) {
	out, err := q.Class(ctx, "default")
	if err != nil {
		return nil, err
	}
	own, err := q.hash(ctx, q.projectKey(project))
	if err != nil {
		return nil, err
	}
	for r, v := range own {
		out[r] = v
	}
	return out, nil
}

// Usage returns how much of each resource a project uses.
func (q *Quotas) Usage(ctx context.Context, project string) (map[string]int64, error) {
	u, err := q.hash(ctx, q.usageKey(project))
	if err != nil {
		return nil, err
	}
	for _, r := range QuotaResources {
		u[r] += 0
	}
	return u, nil
}

// SetProject overrides some of a project's limits.
func (q *Quotas) SetProject(ctx context.Context, project string, limits map[string]int64) error {
	return q.set(ctx, q.projectKey(project), limits)
}

// SetClass sets some limits of a quota class.
func (q *Quotas) SetClass(ctx context.Context, name string, limits map[string]int64) error {
	return q.set(ctx, q.classKey(name), limits)
}

func (q *Quotas) set(ctx context.Context, key string, limits map[string]int64) error {
	if len(limits) == 0 {
		return nil
	}
	vals := make([]any, 0, 2*len(limits))
	for r, v := range limits {
		vals = append(vals, r, v)
	}
	if err := q.rdb.HSet(ctx, key, vals...).Err(); err != nil {
		return fmt.Errorf("quotas %s: %w", key, err)
	}
	return nil
}

// DeleteProject drops a project's overrides and its usage (Karbor's quota
// delete).
func (q *Quotas) DeleteProject(ctx context.Context, project string) error {
	return q.rdb.Del(ctx, q.projectKey(project), q.usageKey(project)).Err()
}

var reserveScript = redis.NewScript(`
local limit = tonumber(ARGV[2])
local delta = tonumber(ARGV[3])
local used = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if delta > 0 and limit >= 0 and used + delta > limit then
  return -1
end
if used + delta < 0 then delta = -used end
return redis.call('HINCRBY', KEYS[1], ARGV[1], delta)
`)

// Reserve adds delta to a project's use of resource, atomically refusing
// with *ErrOverQuota an increase past the limit. A negative delta gives
// back (never below zero).
func (q *Quotas) Reserve(ctx context.Context, project, resource string, delta int64) error {
	limits, err := q.Limits(ctx, project)
	if err != nil {
		return err
	}
	limit, ok := limits[resource]
	if !ok {
		limit = -1
	}
	n, err := reserveScript.Run(ctx, q.rdb, []string{q.usageKey(project)}, resource, limit, delta).Int64()
	if err != nil {
		return fmt.Errorf("quota %s of %s: %w", resource, project, err)
	}
	if n < 0 {
		return &ErrOverQuota{Resource: resource, Limit: limit}
	}
	return nil
}

// Take takes one unit of a project's quota of resource (*ErrOverQuota when
// over) for create, and gives it back if create fails. A unit that cannot
// be given back is joined to create's error.
func (q *Quotas) Take(ctx context.Context, project, resource string, create func() error) error {
	if err := q.Reserve(ctx, project, resource, 1); err != nil {
		return err
	}
	err := create()
	if err != nil {
		if rerr := q.Reserve(ctx, project, resource, -1); rerr != nil {
			return errors.Join(err, fmt.Errorf("quota %s of %s not given back: %w", resource, project, rerr))
		}
	}
	return err
}
