package store

import (
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pouchdp/pouch/shared/model"
)

// Store is every table.
type Store struct {
	Plans         *Table[model.Plan]
	Restores      *Table[model.Restore]
	OperationLogs *Table[model.OperationLog]
	Verifications *Table[model.Verification]
	Triggers      *Table[model.Trigger]
	Scheduled     *Table[model.ScheduledOperation]
}

// New returns the tables under key prefix (e.g. "pouch:").
func New(rdb redis.UniversalClient, prefix string) *Store {
	return &Store{
		Plans: NewTable(rdb, prefix, "plan",
			func(p *model.Plan) string { return p.ID },
			func(p *model.Plan) string { return p.ProjectID },
			func(p *model.Plan) time.Time { return p.CreatedAt }),
		Restores: NewTable(rdb, prefix, "restore",
			func(r *model.Restore) string { return r.ID },
			func(r *model.Restore) string { return r.ProjectID },
			func(r *model.Restore) time.Time { return r.CreatedAt }),
		OperationLogs: NewTable(rdb, prefix, "oplog",
			func(l *model.OperationLog) string { return l.ID },
			func(l *model.OperationLog) string { return l.ProjectID },
			func(l *model.OperationLog) time.Time {
				if l.StartedAt == nil {
					return time.Time{}
				}
				return *l.StartedAt
			}),
		Verifications: NewTable(rdb, prefix, "verification",
			func(v *model.Verification) string { return v.ID },
			func(v *model.Verification) string { return v.ProjectID },
			func(v *model.Verification) time.Time { return v.CreatedAt }),
		Triggers: NewTable(rdb, prefix, "trigger",
			func(t *model.Trigger) string { return t.ID },
			func(t *model.Trigger) string { return t.ProjectID },
			func(t *model.Trigger) time.Time { return t.CreatedAt }),
		Scheduled: NewTable(rdb, prefix, "scheduled",
			func(s *model.ScheduledOperation) string { return s.ID },
			func(s *model.ScheduledOperation) string { return s.ProjectID },
			func(s *model.ScheduledOperation) time.Time { return s.CreatedAt }),
	}
}
