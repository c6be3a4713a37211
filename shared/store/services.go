package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Service is one function on one host, shown as Karbor's os-services.
type Service struct {
	ID             int       `json:"id"`
	Binary         string    `json:"binary"`
	Host           string    `json:"host"`
	Disabled       bool      `json:"disabled"`
	DisabledReason *string   `json:"disabled_reason"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// Services records the functions' heartbeats and whether an operator
// disabled them. Each Services value beats at most once per BeatEvery.
type Services struct {
	rdb       redis.UniversalClient
	seq       string // counter of service ids
	ids       string // hash host/binary -> id
	table     *Table[Service]
	BeatEvery time.Duration
	Now       func() time.Time

	mu   sync.Mutex
	last map[string]time.Time
}

// NewServices returns the services under key prefix.
func NewServices(rdb redis.UniversalClient, prefix string) *Services {
	return &Services{rdb: rdb, seq: prefix + "service:seq", ids: prefix + "service:ids",
		table: NewTable(rdb, prefix, "service",
			func(s *Service) string { return strconv.Itoa(s.ID) },
			func(*Service) string { return "" },
			func(s *Service) time.Time { return time.Unix(int64(s.ID), 0) }),
		BeatEvery: 10 * time.Second, Now: time.Now, last: map[string]time.Time{}}
}

// Beat records that binary runs on host, now. Cheap when called often.
func (s *Services) Beat(ctx context.Context, binary, host string) error {
	now := s.Now().UTC()
	name := host + "/" + binary
	s.mu.Lock()
	if now.Sub(s.last[name]) < s.BeatEvery {
		s.mu.Unlock()
		return nil
	}
	s.last[name] = now
	s.mu.Unlock()
	id, err := s.id(ctx, name)
	if err != nil {
		return err
	}
	beat := func(sv *Service) error {
		sv.UpdatedAt = now
		return nil
	}
	_, err = s.table.Update(ctx, strconv.Itoa(id), beat)
	if errors.Is(err, ErrNotFound) {
		err = s.table.Create(ctx, &Service{ID: id, Binary: binary, Host: host, UpdatedAt: now})
		if errors.Is(err, ErrExists) {
			_, err = s.table.Update(ctx, strconv.Itoa(id), beat)
		}
	}
	return err
}

// id returns the service id of host/binary, assigning the next one.
func (s *Services) id(ctx context.Context, name string) (int, error) {
	if v, err := s.rdb.HGet(ctx, s.ids, name).Int(); err == nil {
		return v, nil
	} else if !errors.Is(err, redis.Nil) {
		return 0, fmt.Errorf("service %s: %w", name, err)
	}
	next, err := s.rdb.Incr(ctx, s.seq).Result()
	if err != nil {
		return 0, fmt.Errorf("service %s: %w", name, err)
	}
	if ok, err := s.rdb.HSetNX(ctx, s.ids, name, next).Result(); err != nil || !ok {
		// Another process assigned it first: use theirs.
		return s.rdb.HGet(ctx, s.ids, name).Int()
	}
	return int(next), nil
}

// List returns every service, by id.
func (s *Services) List(ctx context.Context) ([]*Service, error) {
	return s.table.List(ctx, ListOptions{AllProjects: true, Asc: true})
}

// SetDisabled enables or disables a service; check may refuse (its error
// is returned). ErrNotFound for an unknown id.
func (s *Services) SetDisabled(ctx context.Context, id int, disabled bool, reason *string, check func(*Service) error) (*Service, error) {
	return s.table.Update(ctx, strconv.Itoa(id), func(sv *Service) error {
		if err := check(sv); err != nil {
			return err
		}
		sv.Disabled, sv.DisabledReason = disabled, reason
		return nil
	})
}

// Disabled reports whether an operator disabled binary on every host it
// runs on (the tick function checks this before running scheduled
// operations).
func (s *Services) Disabled(ctx context.Context, binary string) (bool, error) {
	all, err := s.List(ctx)
	if err != nil {
		return false, err
	}
	seen := false
	for _, sv := range all {
		if sv.Binary == binary {
			seen = true
			if !sv.Disabled {
				return false, nil
			}
		}
	}
	return seen, nil
}
