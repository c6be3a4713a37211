package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/pouchdp/pouch/shared/model"
	"github.com/pouchdp/pouch/shared/schedule"
	"github.com/pouchdp/pouch/shared/scheduler"
	"github.com/pouchdp/pouch/shared/store"
)

// Triggers (spec §2.9). Only Karbor's trigger type, "time", exists; its
// properties are read by package schedule.

// triggerTime is the only trigger type.
const triggerTime = "time"

type triggerBody struct {
	Name       *string                    `json:"name"`
	Type       *string                    `json:"type"`
	Properties map[string]json.RawMessage `json:"properties"`
}

func triggerView(t *model.Trigger) map[string]any {
	props := t.Properties
	if props == nil {
		props = map[string]string{}
	}
	return map[string]any{"id": t.ID, "name": t.Name, "type": t.Type, "properties": props}
}

// scheduleConfig bounds trigger properties (minimum interval, window); the
// zero Config means Karbor's defaults.
func (a *API) scheduleConfig() schedule.Config { return a.Schedule }

// triggerProperties reads and validates the properties of a create or update
// body. start, if not empty, is the start_time of properties without one.
// The properties returned are the request's, as strings (spec §2.9).
func (a *API) triggerProperties(raw map[string]json.RawMessage, start string) (map[string]string, error) {
	props, err := schedule.FromJSON(raw)
	if err != nil {
		return nil, propertyError(err)
	}
	if _, ok := props[schedule.PropStartTime]; !ok {
		if start == "" {
			return nil, errorf(http.StatusBadRequest, "Invalid trigger property start_time: required when properties are updated.")
		}
		props[schedule.PropStartTime] = start
	}
	if _, err := schedule.Parse(props, a.scheduleConfig()); err != nil {
		return nil, propertyError(err)
	}
	return props, nil
}

// propertyError turns a schedule.PropertyError into a 400 naming the
// property.
func propertyError(err error) error {
	var pe *schedule.PropertyError
	if errors.As(err, &pe) {
		return errorf(http.StatusBadRequest, "Invalid %s", pe.Error())
	}
	return err
}

func checkTriggerType(t *string) error {
	switch {
	case t == nil:
		return errorf(http.StatusBadRequest, "Invalid trigger type: type is required (%q).", triggerTime)
	case *t != triggerTime:
		return errorf(http.StatusBadRequest, "Invalid trigger type %q: the only type is %q.", *t, triggerTime)
	}
	return nil
}

func (a *API) createTrigger(r *http.Request, c *Caller) (any, error) {
	var b triggerBody
	if err := decode(r, "trigger_create", "trigger_info", &b); err != nil {
		return nil, err
	}
	if err := checkName(b.Name); err != nil {
		return nil, err
	}
	if err := checkTriggerType(b.Type); err != nil {
		return nil, err
	}
	if b.Properties == nil {
		return nil, errorf(http.StatusBadRequest, "Invalid input for trigger_info: properties is required.")
	}
	now := a.Now().UTC()
	props, err := a.triggerProperties(b.Properties, now.Truncate(time.Second).Format(schedule.TimeLayout))
	if err != nil {
		return nil, err
	}
	t := &model.Trigger{ID: uuid.NewString(), Name: *b.Name, ProjectID: c.ProjectID, Type: triggerTime,
		Properties: props, CreatedAt: now, UpdatedAt: now}
	if err := a.Store.Triggers.Create(r.Context(), t); err != nil {
		return nil, err
	}
	if err := a.scheduling(func(s *scheduler.Scheduler) error { return s.Register(r.Context(), t) }); err != nil {
		return nil, err
	}
	return map[string]any{"trigger_info": triggerView(t)}, nil
}

// trigger reads a trigger the caller may see: another project's is 403.
func (a *API) trigger(r *http.Request, c *Caller) (*model.Trigger, error) {
	id, err := uuidParam(r, "trigger")
	if err != nil {
		return nil, err
	}
	return owned(a, r, c, a.Store.Triggers, id, "Trigger", http.StatusForbidden)
}

func (a *API) showTrigger(r *http.Request, c *Caller) (any, error) {
	t, err := a.trigger(r, c)
	if err != nil {
		return nil, err
	}
	return map[string]any{"trigger_info": triggerView(t)}, nil
}

// updateTrigger renames a trigger and/or replaces its properties, which must
// then include start_time. type is ignored, as in Karbor.
func (a *API) updateTrigger(r *http.Request, c *Caller) (any, error) {
	id, err := uuidParam(r, "trigger")
	if err != nil {
		return nil, err
	}
	var b triggerBody
	if err := decode(r, "trigger_update", "trigger_info", &b); err != nil {
		return nil, err
	}
	if b.Name != nil {
		if err := checkName(b.Name); err != nil {
			return nil, err
		}
	}
	var props map[string]string
	if len(b.Properties) > 0 {
		if props, err = a.triggerProperties(b.Properties, ""); err != nil {
			return nil, err
		}
	}
	if _, err := owned(a, r, c, a.Store.Triggers, id, "Trigger", http.StatusForbidden); err != nil {
		return nil, err
	}
	t, err := a.Store.Triggers.Update(r.Context(), id, func(t *model.Trigger) error {
		if b.Name != nil {
			t.Name = *b.Name
		}
		if props != nil {
			t.Properties = props
		}
		t.UpdatedAt = a.Now().UTC()
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, errorf(http.StatusNotFound, "Trigger %s could not be found.", id)
	}
	if err != nil {
		return nil, err
	}
	if props != nil {
		// The next firing is the first one of the new properties after now.
		if err := a.scheduling(func(s *scheduler.Scheduler) error { return s.Register(r.Context(), t) }); err != nil {
			return nil, err
		}
	}
	return map[string]any{"trigger_info": triggerView(t)}, nil
}

// deleteTrigger refuses while a scheduled operation uses the trigger: 409
// (Karbor answers 424 Failed Dependency, which python-karborclient reports
// the same way).
func (a *API) deleteTrigger(r *http.Request, c *Caller) (any, error) {
	t, err := a.trigger(r, c)
	if err != nil {
		return nil, err
	}
	// Scheduled operations use triggers of their own project only.
	ops, err := a.Store.Scheduled.List(r.Context(), store.ListOptions{Project: t.ProjectID})
	if err != nil {
		return nil, err
	}
	if slices.ContainsFunc(ops, func(op *model.ScheduledOperation) bool { return op.TriggerID == t.ID }) {
		return nil, errorf(http.StatusConflict, "Trigger %s is being used by one or more operations.", t.ID)
	}
	if err := a.Store.Triggers.Delete(r.Context(), t.ID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, errorf(http.StatusNotFound, "Trigger %s could not be found.", t.ID)
		}
		return nil, err
	}
	return nil, a.scheduling(func(s *scheduler.Scheduler) error { return s.Unregister(r.Context(), t.ID) })
}

// triggerList is how triggers are listed (spec §1.3).
var triggerList = listSpec{key: "triggers", path: "/triggers",
	filters: []string{"name", "type", "properties"}, regex: []string{"name", "properties"}}

func (a *API) listTriggers(r *http.Request, c *Caller) (any, error) {
	return listTable(a, r, c, a.Store.Triggers, triggerList, triggerView)
}

func notYet() error { return errorf(http.StatusNotImplemented, "Not implemented yet.") }

// scheduling applies f to the API's scheduler, if it has one.
func (a *API) scheduling(f func(*scheduler.Scheduler) error) error {
	if a.Scheduler == nil {
		return nil
	}
	return f(a.Scheduler)
}
