package engine

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pouchdp/pouch/shared/graph"
	"github.com/pouchdp/pouch/shared/model"
	"github.com/pouchdp/pouch/shared/protection"
)

// Task is one hook of one resource of one operation: the payload the engine
// sends to the hook function. Its index is node*4 + hook.
type Task struct {
	Op       string         `json:"op"`
	Index    int            `json:"task"`
	Resource model.Resource `json:"resource"`
}

// Hook is the hook this task runs.
func (t Task) Hook() protection.Hook { return protection.Hook(t.Index % 4) }

func taskIndex(node int, h protection.Hook) int { return node*4 + int(h) }

// Operation statuses in Redis.
const (
	statusStarting  = "starting" // registered, lease taken, graph not stored yet
	statusRunning   = "running"
	statusFailing   = "failing"
	statusSucceeded = "succeeded"
	statusFailed    = "failed"
)

// keys are the Redis keys of one operation. The {id} hash tag keeps them in
// one cluster slot, as scripts need.
type keys struct {
	op, pending, state, kids, parents, nodes, rstatus, rreason, newres, finish string
}

func (e *Engine) keys(opID string) keys {
	b := e.cfg.Prefix + "op:{" + opID + "}"
	return keys{op: b, pending: b + ":pending", state: b + ":state", kids: b + ":kids", parents: b + ":parents",
		nodes: b + ":nodes", rstatus: b + ":rstatus", rreason: b + ":rreason", newres: b + ":newres", finish: b + ":finish"}
}

func (k keys) all() []string {
	return []string{k.op, k.pending, k.state, k.kids, k.parents, k.nodes, k.rstatus, k.rreason, k.newres, k.finish}
}

func (e *Engine) activeKey() string { return e.cfg.Prefix + "ops:active" }

var (
	//go:embed lua/begin.lua
	beginSrc string
	//go:embed lua/complete.lua
	completeSrc string
	//go:embed lua/fail.lua
	failSrc string

	beginScript    = redis.NewScript(beginSrc)
	completeScript = redis.NewScript(completeSrc)
	failScript     = redis.NewScript(failSrc)
)

// Script results.
const (
	resNothing   = 0
	resSucceeded = 1
	resFailed    = 2
	resReady     = 3
)

// fieldBatch bounds the fields of one HSET in the start transaction.
const fieldBatch = 2000

func joinInts(xs []int) string {
	var b strings.Builder
	for i, x := range xs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(x))
	}
	return b.String()
}

// store writes an operation's task DAG in one MULTI/EXEC: pending-dependency
// counters per task, the graph's edges, each node's resource, the counters of
// the operation, and the initial tasks marked queued. It returns the initial
// tasks: prepare_begin of every root.
func (e *Engine) store(ctx context.Context, op *Operation, g *graph.Graph) ([]Task, error) {
	k := e.keys(op.ID)
	meta, err := json.Marshal(op)
	if err != nil {
		return nil, err
	}
	var pending, kids, parents, nodes, state []any
	var initial []Task
	for i, n := range g.Nodes {
		if len(n.Parents) > 0 {
			pending = append(pending, taskIndex(i, protection.PrepareBegin), len(n.Parents))
			parents = append(parents, i, joinInts(n.Parents))
		} else {
			initial = append(initial, Task{Op: op.ID, Index: taskIndex(i, protection.PrepareBegin), Resource: n.Resource})
			state = append(state, taskIndex(i, protection.PrepareBegin), "q")
		}
		pending = append(pending,
			taskIndex(i, protection.PrepareFinish), 1+len(n.Children),
			taskIndex(i, protection.Main), 1,
			taskIndex(i, protection.Complete), 1+len(n.Children))
		if len(n.Children) > 0 {
			kids = append(kids, i, joinInts(n.Children))
		}
		res, err := json.Marshal(n.Resource)
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, i, res)
	}
	now := e.now()
	_, err = e.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, k.op, "meta", meta, "status", statusRunning,
			"tasks_total", 4*len(g.Nodes), "tasks_done", 0, "tasks_failed", 0, "inflight", len(initial),
			"res_total", len(g.Nodes), "res_done", 0, "bytes_total", 0, "bytes_done", 0,
			"started_at", now.UnixMilli(), "lease_at", now.UnixMilli())
		for key, fields := range map[string][]any{k.pending: pending, k.kids: kids, k.parents: parents, k.nodes: nodes, k.state: state} {
			for len(fields) > 0 {
				n := min(len(fields), fieldBatch)
				p.HSet(ctx, key, fields[:n]...)
				fields = fields[n:]
			}
		}
		p.ZAdd(ctx, e.activeKey(), redis.Z{Score: float64(now.UnixMilli()), Member: op.ID})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("operation %s: store task graph: %w", op.ID, err)
	}
	return initial, nil
}

// begin claims a queued task for this runner.
func (e *Engine) begin(ctx context.Context, t Task, token string) (code int, renew bool, err error) {
	k := e.keys(t.Op)
	var res []int64
	err = e.retry(ctx, func() error {
		var err error
		res, err = beginScript.Run(ctx, e.rdb, []string{k.op, k.state, k.finish},
			t.Index, token, e.now().UnixMilli(), e.cfg.LeaseRenew.Milliseconds(), e.cfg.FinishLease.Milliseconds()).Int64Slice()
		return err
	})
	if err != nil {
		return 0, false, fmt.Errorf("begin task %d of %s: %w", t.Index, t.Op, err)
	}
	return int(res[0]), res[1] == 1, nil
}

// complete records a finished task and returns the tasks that became ready.
func (e *Engine) complete(ctx context.Context, op *Operation, t Task, done, total int64) (int, []Task, error) {
	k := e.keys(t.Op)
	var res []any
	err := e.retry(ctx, func() error {
		var err error
		res, err = completeScript.Run(ctx, e.rdb,
			[]string{k.op, k.pending, k.state, k.kids, k.parents, k.nodes, k.rstatus, k.finish},
			t.Index, done, total, e.cfg.FinishLease.Milliseconds(), t.Resource.StatusKey(), resourceDone(op.Type)).Slice()
		return err
	})
	if err != nil {
		return 0, nil, fmt.Errorf("complete task %d of %s: %w", t.Index, t.Op, err)
	}
	code, _ := res[0].(int64)
	if code != resReady {
		return int(code), nil, nil
	}
	ready := make([]Task, 0, (len(res)-1)/2)
	for i := 1; i+1 < len(res); i += 2 {
		idx, _ := res[i].(int64)
		node, _ := res[i+1].(string)
		nt := Task{Op: t.Op, Index: int(idx)}
		if err := json.Unmarshal([]byte(node), &nt.Resource); err != nil {
			return 0, nil, fmt.Errorf("operation %s node of task %d: %w", t.Op, idx, err)
		}
		ready = append(ready, nt)
	}
	return resReady, ready, nil
}

// fail records a task whose hook failed for good.
func (e *Engine) fail(ctx context.Context, t Task, reason string, done, total int64) (int, error) {
	k := e.keys(t.Op)
	var res []int64
	err := e.retry(ctx, func() error {
		var err error
		res, err = failScript.Run(ctx, e.rdb, []string{k.op, k.state, k.rstatus, k.rreason, k.finish},
			t.Index, t.Resource.StatusKey(), reason, e.cfg.FinishLease.Milliseconds(), done, total).Int64Slice()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("fail task %d of %s: %w", t.Index, t.Op, err)
	}
	return int(res[0]), nil
}

// retry runs a Redis step until it succeeds, the context ends or the attempts
// run out. Every step it retries is idempotent.
func (e *Engine) retry(ctx context.Context, f func() error) error {
	var err error
	for attempt := 1; ; attempt++ {
		if err = f(); err == nil || attempt >= e.cfg.RedisAttempts || !retryableRedis(err) {
			return err
		}
		e.log.WarnContext(ctx, "redis step failed, retrying", "attempt", attempt, "err", err)
		if err := sleep(ctx, backoff(e.cfg.RetryBase, e.cfg.RetryMax, attempt)); err != nil {
			return err
		}
	}
}

func retryableRedis(err error) bool {
	if redis.HasErrorPrefix(err, "NOSCRIPT") {
		return true
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var re redis.Error
	if errors.As(err, &re) {
		return false // a reply from Redis (script error, wrong type): retrying changes nothing
	}
	return true // network, timeout, pool
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
