package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/pouchdp/pouch/shared/model"
	"github.com/pouchdp/pouch/shared/scheduler"
	"github.com/pouchdp/pouch/shared/store"
)

// Scheduled operations (spec §2.10, §7.3, §7.5). There is no update: Karbor
// has none, and enabled is always true.

type scheduledBody struct {
	Name                *string         `json:"name"`
	Description         *string         `json:"description"`
	OperationType       *string         `json:"operation_type"`
	TriggerID           *string         `json:"trigger_id"`
	OperationDefinition json.RawMessage `json:"operation_definition"`
}

// Keys of an operation definition that Pouch reads.
const (
	defProviderID        = "provider_id"
	defPlanID            = "plan_id"
	defMaxBackups        = "max_backups"
	defRetentionDuration = "retention_duration"
)

// gfsKeys are Pouch's grandfather-father-son retention counts, beyond
// Karbor, for retention_protect only.
var gfsKeys = []string{"keep_last", "keep_hourly", "keep_daily", "keep_weekly", "keep_monthly", "keep_yearly"}

func scheduledView(s *model.ScheduledOperation) map[string]any {
	def := s.OperationDefinition
	if def == nil {
		def = map[string]string{}
	}
	return map[string]any{"id": s.ID, "name": s.Name, "description": s.Description, "operation_type": s.OperationType,
		"trigger_id": s.TriggerID, "operation_definition": def, "enabled": s.Enabled}
}

// parseDefinition reads an operation definition: an object, or the string
// "k=v,k=v" that `openstack data protection scheduledoperation create`
// sends unparsed (python-karborclient's OSC plugin skips the parsing its
// legacy shell does).
func parseDefinition(raw json.RawMessage) (map[string]string, error) {
	var text string
	if err := json.Unmarshal(raw, &text); err != nil {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil {
			return nil, errorf(http.StatusBadRequest, "Invalid operation_definition: an object (or \"key=value,...\") is expected.")
		}
		return definitionStrings(obj)
	}
	out := map[string]string{}
	for _, kv := range strings.Split(text, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if k = strings.TrimSpace(k); !ok || k == "" {
			return nil, errorf(http.StatusBadRequest, "Invalid operation_definition %q: key=value pairs separated by commas are expected.", text)
		}
		out[k] = strings.TrimSpace(v)
	}
	return out, nil
}

// definitionStrings turns an operation definition's values into the strings
// Karbor stores (str() of the value): strings as they are, numbers as
// written, booleans True/False. Objects, lists and null are refused.
func definitionStrings(raw map[string]json.RawMessage) (map[string]string, error) {
	out := make(map[string]string, len(raw))
	for _, k := range slices.Sorted(maps.Keys(raw)) {
		v := bytes.TrimSpace(raw[k])
		var x any
		if err := json.Unmarshal(v, &x); err != nil {
			return nil, errorf(http.StatusBadRequest, "Invalid operation_definition.%s: %v", k, err)
		}
		switch x := x.(type) {
		case string:
			out[k] = x
		case float64:
			out[k] = string(v) // as written: 7, not 7e+00
		case bool:
			out[k] = pythonStr(x)
		default:
			return nil, errorf(http.StatusBadRequest, "Invalid operation_definition.%s: a string, a number or a boolean is expected.", k)
		}
	}
	return out, nil
}

// intish reads an integer as Python's int() reads a string.
func intish(s string) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	return n, err == nil
}

// checkDefinition checks an operation definition's own rules (spec §7.5)
// and returns its provider and plan ids, normalised (they are stored so).
func checkDefinition(opType string, def map[string]string) (providerID, planID string, err error) {
	for _, k := range []string{defProviderID, defPlanID} {
		v, ok := def[k]
		if !ok {
			return "", "", errorf(http.StatusBadRequest, "Invalid operation_definition.%s: required.", k)
		}
		id, err := uuid.Parse(v)
		if err != nil {
			return "", "", errorf(http.StatusBadRequest, "Invalid operation_definition.%s %q: not a UUID.", k, v)
		}
		def[k] = id.String()
	}
	for _, k := range []string{defMaxBackups, defRetentionDuration} {
		if v, ok := def[k]; ok {
			if _, ok := intish(v); !ok {
				return "", "", errorf(http.StatusBadRequest, "Invalid operation_definition.%s %q: an integer is expected.", k, v)
			}
		}
	}
	for _, k := range gfsKeys {
		v, ok := def[k]
		if !ok {
			continue
		}
		if opType != model.ScheduledRetentionProtect {
			return "", "", errorf(http.StatusBadRequest, "Invalid operation_definition.%s: only a %s operation keeps backups.", k, model.ScheduledRetentionProtect)
		}
		if n, ok := intish(v); !ok || n < 0 {
			return "", "", errorf(http.StatusBadRequest, "Invalid operation_definition.%s %q: a non-negative integer is expected.", k, v)
		}
	}
	return def[defProviderID], def[defPlanID], nil
}

func (a *API) createScheduledOperation(r *http.Request, c *Caller) (any, error) {
	var b scheduledBody
	if err := decode(r, "scheduled_operation_create", "scheduled_operation", &b); err != nil {
		return nil, err
	}
	if err := checkName(b.Name); err != nil {
		return nil, err
	}
	if err := checkDescription(b.Description); err != nil {
		return nil, err
	}
	switch {
	case b.OperationType == nil || *b.OperationType == "":
		return nil, errorf(http.StatusBadRequest, "Invalid operation_type: required, %s or %s.", model.ScheduledProtect, model.ScheduledRetentionProtect)
	case *b.OperationType != model.ScheduledProtect && *b.OperationType != model.ScheduledRetentionProtect:
		return nil, errorf(http.StatusBadRequest, "Invalid operation_type %q: %s or %s.", *b.OperationType, model.ScheduledProtect, model.ScheduledRetentionProtect)
	}
	if b.TriggerID == nil {
		return nil, errorf(http.StatusBadRequest, "Invalid trigger_id: required.")
	}
	tid, err := uuid.Parse(*b.TriggerID)
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "Invalid trigger_id %q: not a UUID.", *b.TriggerID)
	}
	def, err := parseDefinition(b.OperationDefinition)
	if err != nil {
		return nil, err
	}
	if len(def) == 0 {
		return nil, errorf(http.StatusBadRequest, "Invalid operation_definition: required, with provider_id and plan_id.")
	}
	providerID, planID, err := checkDefinition(*b.OperationType, def)
	if err != nil {
		return nil, err
	}

	t, err := a.Store.Triggers.Get(r.Context(), tid.String())
	if errors.Is(err, store.ErrNotFound) {
		return nil, errorf(http.StatusNotFound, "Trigger %s could not be found.", tid)
	}
	if err != nil {
		return nil, err
	}
	if t.ProjectID != c.ProjectID { // even for an admin, as in Karbor
		return nil, errorf(http.StatusBadRequest, "Invalid trigger id provided.")
	}
	// Karbor answers 500 for a plan that does not exist; Pouch 404.
	p, err := a.Store.Plans.Get(r.Context(), planID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errorf(http.StatusNotFound, "Plan %s could not be found.", planID)
	}
	if err != nil {
		return nil, err
	}
	if p.ProjectID != c.ProjectID {
		return nil, errorf(http.StatusBadRequest, "Invalid operation_definition.plan_id: plan %s is not in project %s.", planID, c.ProjectID)
	}
	if p.ProviderID != providerID {
		return nil, errorf(http.StatusBadRequest, "Invalid operation_definition.provider_id: plan %s belongs to provider %s, not %s.",
			planID, p.ProviderID, providerID)
	}
	if _, err := a.Providers.Get(providerID); err != nil {
		return nil, errorf(http.StatusBadRequest, "Invalid operation_definition.provider_id: provider %s could not be found.", providerID)
	}

	now := a.Now().UTC()
	op := &model.ScheduledOperation{ID: uuid.NewString(), Name: *b.Name, Description: b.Description,
		OperationType: *b.OperationType, TriggerID: t.ID, OperationDefinition: def, Enabled: true,
		UserID: c.UserID, ProjectID: c.ProjectID, CreatedAt: now, UpdatedAt: now}
	// With Keystone, the operation will act as its creator through a
	// trust made now (Karbor's design); with noauth, as its project.
	if a.Delegator != nil {
		trust, err := a.Delegator.CreateTrust(r.Context(), c)
		if err != nil {
			return nil, fmt.Errorf("scheduled operation: %w", err)
		}
		op.Credential = map[string]string{credentialTrust: trust}
	}
	// undo removes what was made when the operation cannot be registered.
	undo := func() {
		_ = a.Store.Scheduled.Delete(r.Context(), op.ID)
		a.dropTrust(r, c, op)
	}
	if err := a.Store.Scheduled.Create(r.Context(), op); err != nil {
		a.dropTrust(r, c, op)
		return nil, err
	}
	// The trigger may have been deleted since it was read: do not leave an
	// operation on a trigger that is gone. (A delete of the trigger between
	// this check and the operation's creation can still slip through: the
	// two tables are not written in one transaction.)
	if _, err := a.Store.Triggers.Get(r.Context(), t.ID); errors.Is(err, store.ErrNotFound) {
		undo()
		return nil, errorf(http.StatusNotFound, "Trigger %s could not be found.", t.ID)
	}
	if err := a.scheduling(func(s *scheduler.Scheduler) error { return s.AddOperation(r.Context(), t.ID, op.ID) }); err != nil {
		undo()
		return nil, err
	}
	return map[string]any{"scheduled_operation": scheduledView(op)}, nil
}

// scheduled reads a scheduled operation the caller may see: another
// project's is 403.
func (a *API) scheduled(r *http.Request, c *Caller) (*model.ScheduledOperation, error) {
	id, err := uuidParam(r, "scheduled_operation")
	if err != nil {
		return nil, err
	}
	return owned(a, r, c, a.Store.Scheduled, id, "Scheduled operation", http.StatusForbidden)
}

func (a *API) showScheduledOperation(r *http.Request, c *Caller) (any, error) {
	op, err := a.scheduled(r, c)
	if err != nil {
		return nil, err
	}
	return map[string]any{"scheduled_operation": scheduledView(op)}, nil
}

func (a *API) deleteScheduledOperation(r *http.Request, c *Caller) (any, error) {
	op, err := a.scheduled(r, c)
	if err != nil {
		return nil, err
	}
	if err := a.Store.Scheduled.Delete(r.Context(), op.ID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, errorf(http.StatusNotFound, "Scheduled operation %s could not be found.", op.ID)
		}
		return nil, err
	}
	a.dropTrust(r, c, op)
	return nil, a.scheduling(func(s *scheduler.Scheduler) error { return s.RemoveOperation(r.Context(), op.TriggerID, op.ID) })
}

// credentialTrust is the key of a scheduled operation's trust id.
const credentialTrust = "trust_id"

// dropTrust deletes the trust of a scheduled operation with the caller's
// token (Keystone lets the trustor or an admin do it). A trust left behind
// lets Pouch act for nobody once the operation is gone, so a failure is
// only logged.
func (a *API) dropTrust(r *http.Request, c *Caller, op *model.ScheduledOperation) {
	id := op.Credential[credentialTrust]
	if id == "" || a.Delegator == nil {
		return
	}
	if err := a.Delegator.DeleteTrust(r.Context(), c.Token, id); err != nil {
		a.Log.WarnContext(r.Context(), "trust not deleted", "trust", id, "operation", op.ID, "err", err)
	}
}

// scheduledList is how scheduled operations are listed (spec §1.3, §2.10:
// the key is "operations").
var scheduledList = listSpec{key: "operations", path: "/scheduled_operations",
	filters: []string{"name", "operation_type", "trigger_id", "operation_definition"},
	regex:   []string{"name", "operation_definition"}}

func (a *API) listScheduledOperations(r *http.Request, c *Caller) (any, error) {
	return listTable(a, r, c, a.Store.Scheduled, scheduledList, scheduledView)
}
