package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	testUUID    = "b766f37c-d011-4026-8228-28730d734a3f"
	testUUIDHex = "b766f37cd011402682282873" + "0d734a3f"
	testServer  = "OS::Nova::Server"
)

// edit returns the JSON text base with the value at path (keys and list
// indices separated by "/") set to the JSON text v, or removed if v is "".
func edit(t *testing.T, base, path, v string) string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(base))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("base %s: %v", base, err)
	}
	toks := strings.Split(path, "/")
	cur := doc
	for i, tok := range toks {
		last := i == len(toks)-1
		switch c := cur.(type) {
		case map[string]any:
			switch {
			case !last:
				cur = c[tok]
			case v == "":
				delete(c, tok)
			default:
				c[tok] = json.RawMessage(v)
			}
		case []any:
			n, err := strconv.Atoi(tok)
			if err != nil || n >= len(c) {
				t.Fatalf("edit %s: no %s", path, tok)
			}
			if last {
				c[n] = json.RawMessage(v)
			} else {
				cur = c[n]
			}
		default:
			t.Fatalf("edit %s: %s is not in an object or a list", path, tok)
		}
	}
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatalf("edit %s = %s: %v", path, v, err)
	}
	return string(out)
}

// q is s as a JSON string.
func q(s string) string { return strconv.Quote(s) }

// schemaCase is a body for a schema: valid if want is nil, else refused with
// 400 and a message containing every string of want.
type schemaCase struct {
	name string
	body string
	want []string
}

func runSchemaCases(t *testing.T, schema string, cases []schemaCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := validate(schema, []byte(tc.body))
			if tc.want == nil {
				if err != nil {
					t.Fatalf("%s refused %s: %v", schema, tc.body, err)
				}
				return
			}
			var ae *Error
			if !errors.As(err, &ae) || ae.Code != http.StatusBadRequest {
				t.Fatalf("%s accepted %s or did not answer 400: %#v", schema, tc.body, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(ae.Message, w) {
					t.Errorf("%s: message %q does not contain %q", schema, ae.Message, w)
				}
			}
		})
	}
}

// paramCases are the refusals of a parameters object at path (in a valid
// body base) whose message names the field prefix.
func paramCases(t *testing.T, base, path, prefix string) []schemaCase {
	opt := func(v string) string {
		return edit(t, base, path, `{`+q(testServer)+`: {"k": `+v+`}}`)
	}
	k := prefix + "." + testServer + ".k"
	return []schemaCase{
		{"parameters not an object", edit(t, base, path, `"x"`), []string{prefix, `not of type "object"`}},
		{"parameters a list", edit(t, base, path, `[]`), []string{prefix}},
		{"bad parameters key", edit(t, base, path, `{"a/b": {}}`), []string{prefix, `"a/b"`, "unexpected"}},
		{"empty parameters key", edit(t, base, path, `{"": {}}`), []string{prefix, `""`}},
		{"parameters key too long", edit(t, base, path, `{`+q(strings.Repeat("k", 256))+`: {}}`), []string{prefix, "kkk"}},
		{"options not an object", edit(t, base, path, `{`+q(testServer)+`: "x"}`), []string{prefix + "." + testServer}},
		{"bad option name", edit(t, base, path, `{`+q(testServer)+`: {"a/b": 1}}`), []string{prefix + "." + testServer, `"a/b"`}},
		{"float option", opt(`1.5`), []string{k, "Value: 1.5."}},
		{"integral float option", opt(`1.0`), []string{k, "Value: 1.0.", "not an integer"}},
		{"exponent option", opt(`1e2`), []string{k, "1e2"}},
		{"huge exponent option", opt(`1e999999`), []string{k}},
		{"option beyond 64 bits", opt(`9223372036854775808`), []string{k, "9223372036854775808"}},
		{"nested option", opt(`{"a": 1}`), []string{k, `not of type`}},
		{"list option", opt(`[1]`), []string{k}},
		{"null option", opt(`null`), []string{k, "null"}},
	}
}

const planBase = `{"plan": {"name": "nightly", "description": "d", "provider_id": "` + testUUID + `",
	"parameters": {"OS::Nova::Server": {"backup_mode": "full", "copies": 2, "incremental": false},
	               "OS::Nova::Server#` + testUUID + `": null, "OS::Cinder::Volume": {}},
	"resources": [{"id": "vm1", "type": "OS::Nova::Server", "name": "vm1", "extra_info": {"availability_zone": "az1"}},
	              {"id": "v1", "type": "OS::Cinder::Volume", "name": "v1"}]}}`

func TestSchemaPlanCreate(t *testing.T) {
	t.Parallel()
	b := planBase
	cases := []schemaCase{
		{"full", b, nil},
		{"minimal", `{"plan": {"name": "p", "provider_id": "` + testUUIDHex + `", "parameters": {}}}`, nil},
		{"description null", edit(t, b, "plan/description", `null`), nil},
		{"no resources", edit(t, b, "plan/resources", ``), nil},
		{"empty resources", edit(t, b, "plan/resources", `[]`), nil}, // the handler refuses it
		{"extra_info null", edit(t, b, "plan/resources/1/extra_info", `null`), nil},
		{"name of 255", edit(t, b, "plan/name", q(strings.Repeat("é", 255))), nil},
		{"description of 255", edit(t, b, "plan/description", q(strings.Repeat("d", 255))), nil},
		{"key of 255", edit(t, b, "plan/parameters", `{`+q(strings.Repeat("K", 255))+`: {`+q(strings.Repeat("k", 255))+`: 1}}`), nil},
		{"64-bit bounds", edit(t, b, "plan/parameters", `{"T": {"min": -9223372036854775808, "max": 9223372036854775807}}`), nil},
		{"uppercase uuid", edit(t, b, "plan/provider_id", q(strings.ToUpper(testUUID))), nil},

		{"no wrapper", `{"name": "p"}`, []string{`"plan"`}},
		{"wrong wrapper", `{"plans": {}}`, []string{`"plan" is a required property`}},
		{"two wrappers", edit(t, b, "extra", `1`), []string{`"extra"`, `single key "plan"`}},
		{"a list", `[1]`, []string{`not of type "object"`, `"plan"`}},
		{"a string", `"plan"`, []string{`not of type "object"`}},
		{"null", `null`, []string{`not of type "object"`}},
		{"plan not an object", `{"plan": []}`, []string{"field/attribute plan.", `not of type "object"`}},
		{"unknown field", edit(t, b, "plan/colour", `"red"`), []string{"field/attribute plan.", `"colour" was unexpected`}},
		{"status", edit(t, b, "plan/status", `"started"`), []string{`"status"`}},
		{"no name", edit(t, b, "plan/name", ``), []string{"plan.name", "required"}},
		{"null name", edit(t, b, "plan/name", `null`), []string{"plan.name", `Value: null. null is not of type "string"`}},
		{"empty name", edit(t, b, "plan/name", `""`), []string{"plan.name"}},
		{"blank name", edit(t, b, "plan/name", `" \t"`), []string{"plan.name", "blank"}},
		{"long name", edit(t, b, "plan/name", q(strings.Repeat("n", 256))), []string{"plan.name", "too long"}},
		{"name not a string", edit(t, b, "plan/name", `3`), []string{"plan.name", "Value: 3."}},
		{"long description", edit(t, b, "plan/description", q(strings.Repeat("d", 256))), []string{"plan.description", "at most 255"}},
		{"description not a string", edit(t, b, "plan/description", `{}`), []string{"plan.description"}},
		{"no provider_id", edit(t, b, "plan/provider_id", ``), []string{"plan.provider_id", "required"}},
		{"provider_id not a UUID", edit(t, b, "plan/provider_id", `"noop"`), []string{"plan.provider_id", `"noop" is not a valid UUID`}},
		{"provider_id of 35", edit(t, b, "plan/provider_id", q(testUUID[1:])), []string{"plan.provider_id"}},
		{"provider_id not hex", edit(t, b, "plan/provider_id", q(strings.Repeat("g", 32))), []string{"plan.provider_id"}},
		{"provider_id dashes misplaced", edit(t, b, "plan/provider_id", q("b766f37cd-011-4026-8228-28730d734a3f")), []string{"plan.provider_id"}},
		{"provider_id in braces", edit(t, b, "plan/provider_id", q("{"+testUUID+"}")), []string{"plan.provider_id"}},
		{"provider_id a URN", edit(t, b, "plan/provider_id", q("urn:uuid:"+testUUID)), []string{"plan.provider_id"}},
		{"provider_id a number", edit(t, b, "plan/provider_id", `1`), []string{"plan.provider_id"}},
		{"no parameters", edit(t, b, "plan/parameters", ``), []string{"plan.parameters", "required"}},
		{"null parameters", edit(t, b, "plan/parameters", `null`), []string{"plan.parameters"}},
		{"resources not a list", edit(t, b, "plan/resources", `{}`), []string{"plan.resources", `not of type "array"`}},
		{"resource not an object", edit(t, b, "plan/resources/1", `"vm1"`), []string{"plan.resources[1]"}},
		{"resource without id", edit(t, b, "plan/resources/1", `{"type": "T", "name": "n"}`), []string{"plan.resources[1].id", "required"}},
		{"resource without type", edit(t, b, "plan/resources/0", `{"id": "i", "name": "n"}`), []string{"plan.resources[0].type"}},
		{"resource without name", edit(t, b, "plan/resources/0", `{"id": "i", "type": "T"}`), []string{"plan.resources[0].name"}},
		{"resource id a number", edit(t, b, "plan/resources/0", `{"id": 1, "type": "T", "name": "n"}`), []string{"plan.resources[0].id"}},
		{"resource unknown field", edit(t, b, "plan/resources/0", `{"id": "i", "type": "T", "name": "n", "colour": 1}`), []string{"plan.resources[0].", `"colour"`}},
		{"extra_info not an object", edit(t, b, "plan/resources/1/extra_info", `"az1"`), []string{"plan.resources[1].extra_info"}},
	}
	cases = append(cases, paramCases(t, b, "plan/parameters", "plan.parameters")...)
	runSchemaCases(t, "plan_create", cases)
}

func TestSchemaPlanUpdate(t *testing.T) {
	t.Parallel()
	b := `{"plan": {"name": "weekly", "description": null, "status": "started", "resources": []}}`
	runSchemaCases(t, "plan_update", []schemaCase{
		{"all", b, nil},
		{"nothing", `{"plan": {}}`, nil}, // the handler refuses it
		{"status null", `{"plan": {"status": null}}`, nil},
		{"any status", `{"plan": {"status": "whatever"}}`, nil},
		{"resources", `{"plan": {"resources": [{"id": "i", "type": "T", "name": "n"}]}}`, nil},

		{"provider_id", `{"plan": {"provider_id": "` + testUUID + `"}}`, []string{"field/attribute plan.", `"provider_id" was unexpected`}},
		{"parameters", `{"plan": {"parameters": {}}}`, []string{`"parameters" was unexpected`}},
		{"unknown field", `{"plan": {"colour": "red"}}`, []string{`"colour"`}},
		{"wrong wrapper", `{"plans": {"name": "x"}}`, []string{`"plan"`}},
		{"blank name", `{"plan": {"name": "  "}}`, []string{"plan.name"}},
		{"null name", `{"plan": {"name": null}}`, []string{"plan.name"}},
		{"status a number", `{"plan": {"status": 1}}`, []string{"plan.status"}},
		{"long description", `{"plan": {"description": ` + q(strings.Repeat("d", 256)) + `}}`, []string{"plan.description"}},
		{"resource without name", `{"plan": {"resources": [{"id": "x", "type": "T"}]}}`, []string{"plan.resources[0].name"}},
	})
}

func TestSchemaCheckpointCreate(t *testing.T) {
	t.Parallel()
	b := `{"checkpoint": {"plan_id": "` + testUUID + `", "extra-info": {"created_by": "operation-engine", "n": 1, "b": true}}}`
	runSchemaCases(t, "checkpoint_create", []schemaCase{
		{"extra-info", b, nil},
		{"plan_id only", `{"checkpoint": {"plan_id": "` + testUUIDHex + `"}}`, nil},
		{"extra-info null", edit(t, b, "checkpoint/extra-info", `null`), nil},
		{"extra_info", edit(t, b, "checkpoint/extra_info", `{"created_by": "x"}`), nil},
		{"both", edit(t, b, "checkpoint/extra_info", `null`), nil},

		{"no plan_id", `{"checkpoint": {}}`, []string{"checkpoint.plan_id", "required"}},
		{"plan_id not a UUID", `{"checkpoint": {"plan_id": "nightly"}}`, []string{"checkpoint.plan_id", "nightly"}},
		{"plan_id null", `{"checkpoint": {"plan_id": null}}`, []string{"checkpoint.plan_id"}},
		{"unknown field", edit(t, b, "checkpoint/colour", `"red"`), []string{`"colour"`}},
		{"wrong wrapper", `{"checkpoints": {"plan_id": "` + testUUID + `"}}`, []string{`"checkpoint"`}},
		{"extra-info a string", edit(t, b, "checkpoint/extra-info", `"x"`), []string{"checkpoint.extra-info"}},
		{"nested extra-info", edit(t, b, "checkpoint/extra-info/n", `{"a": 1}`), []string{"checkpoint.extra-info.n"}},
		{"float extra_info", edit(t, b, "checkpoint/extra_info", `{"f": 0.5}`), []string{"checkpoint.extra_info.f"}},
		{"null in extra-info", edit(t, b, "checkpoint/extra-info/n", `null`), []string{"checkpoint.extra-info.n"}},
	})
}

func TestSchemaCheckpointReset(t *testing.T) {
	t.Parallel()
	runSchemaCases(t, "checkpoint_reset", []schemaCase{
		{"available", `{"os-resetState": {"state": "available"}}`, nil},
		{"error", `{"os-resetState": {"state": "error"}}`, nil},

		{"other state", `{"os-resetState": {"state": "deleted"}}`, []string{"os-resetState.state", `"deleted" is not one of "available" or "error"`}},
		{"state a number", `{"os-resetState": {"state": 1}}`, []string{"os-resetState.state"}},
		{"no state", `{"os-resetState": {}}`, []string{"os-resetState.state", "required"}},
		{"unknown field", `{"os-resetState": {"state": "error", "force": true}}`, []string{"os-resetState", `"force"`}},
		{"wrong wrapper", `{"reset": {"state": "error"}}`, []string{`"os-resetState"`}},
	})
}

func TestSchemaCheckpointCopy(t *testing.T) {
	t.Parallel()
	b := `{"copy": {"plan_id": "` + testUUID + `", "parameters": {}}}`
	cases := []schemaCase{
		{"valid", b, nil},
		{"with parameters", edit(t, b, "copy/parameters", `{"OS::Cinder::Volume": {"k": "v"}}`), nil},

		{"no parameters", edit(t, b, "copy/parameters", ``), []string{"copy.parameters", "required"}},
		{"null parameters", edit(t, b, "copy/parameters", `null`), []string{"copy.parameters"}},
		{"no plan_id", edit(t, b, "copy/plan_id", ``), []string{"copy.plan_id"}},
		{"bad plan_id", edit(t, b, "copy/plan_id", `"x"`), []string{"copy.plan_id"}},
		{"unknown field", edit(t, b, "copy/provider_id", q(testUUID)), []string{"copy", `"provider_id"`}},
	}
	cases = append(cases, paramCases(t, b, "copy/parameters", "copy.parameters")...)
	runSchemaCases(t, "checkpoint_copy", cases)
}

func TestSchemaRestoreCreate(t *testing.T) {
	t.Parallel()
	b := `{"restore": {"provider_id": "` + testUUID + `", "checkpoint_id": "` + testUUIDHex + `",
		"parameters": {"OS::Nova::Server": {"restore_name": "x"}}, "restore_target": "http://elsewhere/identity",
		"restore_auth": {"type": "password", "username": "u", "password": "p"}}}`
	cases := []schemaCase{
		{"full", b, nil},
		{"nulls", edit(t, edit(t, b, "restore/restore_target", `null`), "restore/restore_auth", `null`), nil},
		{"minimal", `{"restore": {"provider_id": "` + testUUID + `", "checkpoint_id": "` + testUUID + `", "parameters": {}}}`, nil},

		{"no provider_id", edit(t, b, "restore/provider_id", ``), []string{"restore.provider_id"}},
		{"bad provider_id", edit(t, b, "restore/provider_id", `"noop"`), []string{"restore.provider_id", "noop"}},
		{"no checkpoint_id", edit(t, b, "restore/checkpoint_id", ``), []string{"restore.checkpoint_id"}},
		{"bad checkpoint_id", edit(t, b, "restore/checkpoint_id", `"last"`), []string{"restore.checkpoint_id", "last"}},
		{"no parameters", edit(t, b, "restore/parameters", ``), []string{"restore.parameters"}},
		{"restore_target a number", edit(t, b, "restore/restore_target", `1`), []string{"restore.restore_target"}},
		{"restore_auth a string", edit(t, b, "restore/restore_auth", `"secret"`), []string{"restore.restore_auth"}},
		{"restore_auth of another type", edit(t, b, "restore/restore_auth/type", `"token"`), []string{"restore.restore_auth.type", `"token"`}},
		{"restore_auth without username", edit(t, b, "restore/restore_auth/username", ``), []string{"restore.restore_auth.username"}},
		{"restore_auth password a number", edit(t, b, "restore/restore_auth/password", `1`), []string{"restore.restore_auth.password"}},
		{"restore_auth unknown field", edit(t, b, "restore/restore_auth/domain", `"d"`), []string{"restore.restore_auth", `"domain"`}},
		{"unknown field", edit(t, b, "restore/colour", `"red"`), []string{`"colour"`}},
		{"wrong wrapper", `{"restores": {}}`, []string{`"restore"`}},
	}
	cases = append(cases, paramCases(t, b, "restore/parameters", "restore.parameters")...)
	runSchemaCases(t, "restore_create", cases)
}

func TestSchemaVerificationCreate(t *testing.T) {
	t.Parallel()
	b := `{"verification": {"provider_id": "` + testUUID + `", "checkpoint_id": "` + testUUID + `"}}`
	cases := []schemaCase{
		{"no parameters", b, nil},
		{"parameters", edit(t, b, "verification/parameters", `{"OS::Nova::Server": {"k": true}}`), nil},

		{"null parameters", edit(t, b, "verification/parameters", `null`), []string{"verification.parameters"}},
		{"no provider_id", edit(t, b, "verification/provider_id", ``), []string{"verification.provider_id"}},
		{"bad checkpoint_id", edit(t, b, "verification/checkpoint_id", `"x"`), []string{"verification.checkpoint_id"}},
		{"unknown field", edit(t, b, "verification/colour", `1`), []string{`"colour"`}},
	}
	cases = append(cases, paramCases(t, b, "verification/parameters", "verification.parameters")...)
	runSchemaCases(t, "verification_create", cases)
}

const triggerBase = `{"trigger_info": {"name": "weekly", "type": "time", "properties": {"format": "calendar",
	"pattern": "BEGIN:VEVENT\\nRRULE:FREQ=WEEKLY;INTERVAL=1;\\nEND:VEVENT", "start_time": "2017-06-01 10:00:00",
	"end_time": "2027-06-01 10:00:00", "window": 30}}}`

// triggerPropertyCases are the refusals in trigger properties, for create
// and update.
func triggerPropertyCases(t *testing.T, b string) []schemaCase {
	return []schemaCase{
		{"properties not an object", edit(t, b, "trigger_info/properties", `"x"`), []string{"trigger_info.properties"}},
		{"unknown property", edit(t, b, "trigger_info/properties/colour", `"red"`), []string{"trigger_info.properties", `"colour"`}},
		{"window not digits", edit(t, b, "trigger_info/properties/window", `"3x"`), []string{"trigger_info.properties.window", `"3x"`}},
		{"window a float", edit(t, b, "trigger_info/properties/window", `30.0`), []string{"trigger_info.properties.window", "30.0"}},
		{"window a bool", edit(t, b, "trigger_info/properties/window", `true`), []string{"trigger_info.properties.window"}},
		{"start_time a number", edit(t, b, "trigger_info/properties/start_time", `1`), []string{"trigger_info.properties.start_time"}},
		{"pattern null", edit(t, b, "trigger_info/properties/pattern", `null`), []string{"trigger_info.properties.pattern"}},
		{"long name", edit(t, b, "trigger_info/name", q(strings.Repeat("n", 256))), []string{"trigger_info.name"}},
		{"type a number", edit(t, b, "trigger_info/type", `1`), []string{"trigger_info.type"}},
		{"unknown field", edit(t, b, "trigger_info/colour", `1`), []string{"trigger_info", `"colour"`}},
		{"wrong wrapper", `{"trigger": {}}`, []string{`"trigger_info"`}},
	}
}

func TestSchemaTriggerCreate(t *testing.T) {
	t.Parallel()
	b := triggerBase
	cases := []schemaCase{
		{"full", b, nil},
		{"window a string", edit(t, b, "trigger_info/properties/window", `"30"`), nil},
		{"minimal", `{"trigger_info": {"name": "t", "type": "time", "properties": {"format": "crontab", "pattern": "0 * * * *"}}}`, nil},

		{"no name", edit(t, b, "trigger_info/name", ``), []string{"trigger_info.name", "required"}},
		{"no type", edit(t, b, "trigger_info/type", ``), []string{"trigger_info.type", "required"}},
		{"no properties", edit(t, b, "trigger_info/properties", ``), []string{"trigger_info.properties", "required"}},
		{"no format", edit(t, b, "trigger_info/properties/format", ``), []string{"trigger_info.properties.format", "required"}},
		{"no pattern", edit(t, b, "trigger_info/properties/pattern", ``), []string{"trigger_info.properties.pattern", "required"}},
	}
	cases = append(cases, triggerPropertyCases(t, b)...)
	runSchemaCases(t, "trigger_create", cases)
}

func TestSchemaTriggerUpdate(t *testing.T) {
	t.Parallel()
	b := triggerBase
	cases := []schemaCase{
		{"full", b, nil},
		{"nothing", `{"trigger_info": {}}`, nil},
		{"name only", `{"trigger_info": {"name": "n"}}`, nil},
		{"start_time only", `{"trigger_info": {"properties": {"start_time": "2017-06-01 10:00:00"}}}`, nil},
		{"empty properties", `{"trigger_info": {"properties": {}}}`, nil},

		{"blank name", `{"trigger_info": {"name": " "}}`, []string{"trigger_info.name"}},
	}
	cases = append(cases, triggerPropertyCases(t, b)...)
	runSchemaCases(t, "trigger_update", cases)
}

func TestSchemaScheduledOperationCreate(t *testing.T) {
	t.Parallel()
	b := `{"scheduled_operation": {"name": "so", "description": "d", "operation_type": "retention_protect",
		"trigger_id": "` + testUUID + `", "operation_definition": {"provider_id": "` + testUUID + `",
		"plan_id": "` + testUUID + `", "max_backups": 3, "retention_duration": "14", "flag": false}}}`
	runSchemaCases(t, "scheduled_operation_create", []schemaCase{
		{"full", b, nil},
		{"description null", edit(t, b, "scheduled_operation/description", `null`), nil},
		{"no description", edit(t, b, "scheduled_operation/description", ``), nil},

		{"no name", edit(t, b, "scheduled_operation/name", ``), []string{"scheduled_operation.name"}},
		{"empty name", edit(t, b, "scheduled_operation/name", `""`), []string{"scheduled_operation.name"}},
		{"description a number", edit(t, b, "scheduled_operation/description", `1`), []string{"scheduled_operation.description"}},
		{"no operation_type", edit(t, b, "scheduled_operation/operation_type", ``), []string{"scheduled_operation.operation_type"}},
		{"no trigger_id", edit(t, b, "scheduled_operation/trigger_id", ``), []string{"scheduled_operation.trigger_id"}},
		{"bad trigger_id", edit(t, b, "scheduled_operation/trigger_id", `"t1"`), []string{"scheduled_operation.trigger_id", "t1"}},
		{"no operation_definition", edit(t, b, "scheduled_operation/operation_definition", ``), []string{"scheduled_operation.operation_definition"}},
		{"operation_definition a list", edit(t, b, "scheduled_operation/operation_definition", `[]`), []string{"scheduled_operation.operation_definition"}},
		{"nested definition", edit(t, b, "scheduled_operation/operation_definition/plan_id", `{}`), []string{"scheduled_operation.operation_definition.plan_id"}},
		{"float definition", edit(t, b, "scheduled_operation/operation_definition/max_backups", `3.5`), []string{"scheduled_operation.operation_definition.max_backups"}},
		{"unknown field", edit(t, b, "scheduled_operation/enabled", `true`), []string{`"enabled"`}},
	})
}

func TestSchemaQuotas(t *testing.T) {
	t.Parallel()
	for _, w := range []string{"quota", "quota_class"} {
		t.Run(w, func(t *testing.T) {
			t.Parallel()
			b := `{"` + w + `": {"plans": 10, "checkpoints": "-1", "flag": true}}`
			runSchemaCases(t, w+"_update", []schemaCase{
				{"values", b, nil},
				{"empty", `{"` + w + `": {}}`, nil},

				{"float", edit(t, b, w+"/plans", `1.5`), []string{w + ".plans"}},
				{"null", edit(t, b, w+"/plans", `null`), []string{w + ".plans"}},
				{"object", edit(t, b, w+"/plans", `{}`), []string{w + ".plans"}},
				{"not an object", `{"` + w + `": [1]}`, []string{"field/attribute " + w + ".", `not of type "object"`}},
				{"two wrappers", edit(t, b, "quotas", `{}`), []string{`"quotas"`, `single key "` + w + `"`}},
			})
		})
	}
}

func TestSchemaServiceUpdate(t *testing.T) {
	t.Parallel()
	runSchemaCases(t, "service_update", []schemaCase{
		{"enabled", `{"status": "enabled"}`, nil},
		{"disabled", `{"status": "disabled", "disabled_reason": "maintenance"}`, nil},
		{"reason null", `{"status": "enabled", "disabled_reason": null}`, nil},

		{"no status", `{"disabled_reason": "x"}`, []string{"field/attribute status.", "required"}},
		{"other status", `{"status": "on"}`, []string{"field/attribute status.", `"on"`}},
		{"long reason", `{"status": "disabled", "disabled_reason": ` + q(strings.Repeat("r", 256)) + `}`, []string{"disabled_reason"}},
		{"unknown field", `{"status": "enabled", "host": "h"}`, []string{"Invalid request body", `"host"`}},
		{"wrapped", `{"service": {"status": "enabled"}}`, []string{"field/attribute status.", "required"}},
	})
}

// TestSchemaMessages pins the wording of the common errors.
func TestSchemaMessages(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ schema, body, want string }{
		{"plan_create", edit(t, planBase, "plan/name", `null`),
			`Invalid input for field/attribute plan.name. Value: null. null is not of type "string".`},
		{"plan_create", edit(t, planBase, "plan/colour", `1`),
			`Invalid input for field/attribute plan. Additional properties are not allowed ("colour" was unexpected).`},
		{"plan_create", edit(t, edit(t, planBase, "b", `1`), "a", `2`),
			`Invalid request body: Additional properties are not allowed ("a", "b" were unexpected). The body must be an object with the single key "plan".`},
		{"plan_create", edit(t, planBase, "plan/provider_id", ``),
			`Invalid input for field/attribute plan.provider_id. "provider_id" is a required property.`},
		{"plan_create", edit(t, planBase, "plan/parameters/OS::Nova::Server/copies", `2.0`),
			`Invalid input for field/attribute plan.parameters.OS::Nova::Server.copies. Value: 2.0. 2.0 is not an integer (without fraction or exponent, within 64 bits).`},
		{"plan_create", edit(t, planBase, "plan/parameters/OS::Nova::Server/copies", `[]`),
			`Invalid input for field/attribute plan.parameters.OS::Nova::Server.copies. Value: []. [] is not of type "boolean", "integer" or "string".`},
		{"plan_create", edit(t, planBase, "plan/resources/1/id", `false`),
			`Invalid input for field/attribute plan.resources[1].id. Value: false. false is not of type "string".`},
		{"plan_create", edit(t, planBase, "plan/name", q(strings.Repeat("n", 300))),
			`Invalid input for field/attribute plan.name. Value: "` + strings.Repeat("n", 99) + `.... "` + strings.Repeat("n", 99) + `... is too long (at most 255 characters).`},
		{"service_update", `{"status": "up"}`,
			`Invalid input for field/attribute status. Value: "up". "up" is not one of "enabled" or "disabled".`},
		{"service_update", `[]`, `Invalid request body: [] is not of type "object".`},
		{"restore_create", `{"restore": {"provider_id": "` + testUUID + `", "checkpoint_id": "` + testUUID + `", "parameters": {}, "restore_auth": {"type": "token", "username": "u", "password": "p"}}}`,
			`Invalid input for field/attribute restore.restore_auth.type. Value: "token". "token" is not "password".`},
	} {
		err := validate(tc.schema, []byte(tc.body))
		var ae *Error
		if !errors.As(err, &ae) || ae.Message != tc.want {
			t.Errorf("%s %s:\n got %v\nwant %s", tc.schema, clip(tc.body, 80), err, tc.want)
		}
	}
}

// TestSchemaManyKeysMessage: a long list of unexpected keys is cut.
func TestSchemaManyKeysMessage(t *testing.T) {
	t.Parallel()
	var sb strings.Builder
	sb.WriteString(`{"status": "enabled"`)
	for i := range 1000 {
		fmt.Fprintf(&sb, `, "k%04d": 1`, i)
	}
	sb.WriteString("}")
	err := validate("service_update", []byte(sb.String()))
	want := `Invalid request body: Additional properties are not allowed ("k0000", "k0001", "k0002", "k0003", "k0004" and 995 more were unexpected).`
	if ae, ok := err.(*Error); !ok || ae.Message != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

// TestSchemaDeterministic: with many errors in a body, the one reported
// never depends on map order.
func TestSchemaDeterministic(t *testing.T) {
	t.Parallel()
	body := `{"plan": {"name": 1, "description": 2, "provider_id": 3, "parameters": {"A": {"x": 1.5, "y": null, "z": []},
		"B": {"x": {}}, "c/d": {}}, "resources": [{"id": 1}, {"name": 2}], "p": 1, "q": 2}}`
	first := validate("plan_create", []byte(body))
	for range 50 {
		if err := validate("plan_create", []byte(body)); err.Error() != first.Error() {
			t.Fatalf("%v then %v", first, err)
		}
	}
	// The deepest error: a resource field or an option, whichever sorts first.
	if !strings.Contains(first.Error(), "plan.parameters.A.x") {
		t.Errorf("reported %v", first)
	}
}

func TestSchemaMalformed(t *testing.T) {
	t.Parallel()
	for _, name := range schemaNames() {
		for _, body := range []string{"", " \n\t", "{", `{"plan": `, "{} {}", "{}x", `{"a" 1}`, "nul", "\xff", `"\ud800"x`} {
			err := validate(name, []byte(body))
			var ae *Error
			if !errors.As(err, &ae) || ae.Code != http.StatusBadRequest || !strings.HasPrefix(ae.Message, "Malformed request body") {
				t.Errorf("%s %q: %#v, want a 400 Malformed request body", name, body, err)
			}
		}
		// Every request schema wants an object.
		if err := validate(name, []byte(`{}`)); err == nil {
			t.Errorf("%s accepts {}", name)
		}
	}
}

func TestSchemaUnknown(t *testing.T) {
	t.Parallel()
	err := validate("plan_delete", []byte(`{}`))
	var ae *Error
	if err == nil || errors.As(err, &ae) {
		t.Errorf("unknown schema: %#v, want a plain error", err)
	}
}

// TestSchemaSet: every schema the routes use is there, and only those.
func TestSchemaSet(t *testing.T) {
	t.Parallel()
	if _, err := schemas(); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"plan_create": "plan", "plan_update": "plan", "checkpoint_create": "checkpoint", "checkpoint_reset": "os-resetState",
		"checkpoint_copy": "copy", "restore_create": "restore", "verification_create": "verification",
		"trigger_create": "trigger_info", "trigger_update": "trigger_info", "scheduled_operation_create": "scheduled_operation",
		"quota_update": "quota", "quota_class_update": "quota_class", "service_update": "",
	}
	got := schemaNames()
	if !slices.Equal(got, slices.Sorted(func(yield func(string) bool) {
		for k := range want {
			if !yield(k) {
				return
			}
		}
	})) {
		t.Errorf("schemas %v", got)
	}
	set, _ := schemas()
	for name, w := range want {
		if sch := set[name]; sch != nil && wrapperOf(sch) != w {
			t.Errorf("%s: wrapper %q, want %q", name, wrapperOf(sch), w)
		}
	}
}

// TestSchemaLargeExponents: numbers with huge exponents cost the validator
// nothing (it would spend ~20 ms on each if it read them as written).
func TestSchemaLargeExponents(t *testing.T) {
	t.Parallel()
	var sb strings.Builder
	sb.WriteString(`{"checkpoint": {"plan_id": "` + testUUID + `", "extra-info": {`)
	for i := range 20000 {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `"k%d": 1e999999`, i)
	}
	sb.WriteString("}}}")
	start := time.Now()
	err := validate("checkpoint_create", []byte(sb.String()))
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("validation took %v", took)
	}
	if ae, ok := err.(*Error); !ok || ae.Code != http.StatusBadRequest || !strings.Contains(ae.Message, "checkpoint.extra-info.k") {
		t.Errorf("got %v", err)
	}
}

func TestIsUUIDLike(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{
		testUUID: true, testUUIDHex: true, strings.ToUpper(testUUID): true,
		"": false, testUUID + "0": false, testUUID[:35]: false, "{" + testUUID + "}": false,
		strings.ReplaceAll(testUUID, "-", "_"): false, strings.Repeat("-", 36): false,
		"b766f37c-d011-4026-8228-28730d734a3g": false, "b766f37cd011-4026-8228-28730d734a3f-": false,
	} {
		if got := isUUIDLike(s); got != want {
			t.Errorf("isUUIDLike(%q) = %v", s, got)
		}
	}
}

func TestClip(t *testing.T) {
	t.Parallel()
	if got := clip(strings.Repeat("é", 60), 101); got != strings.Repeat("é", 50)+"..." {
		t.Errorf("clip cut a character: %q", got)
	}
	if got := clip("short", 100); got != "short" {
		t.Errorf("clip(short) = %q", got)
	}
	if got := render(json.Number("1.0")); got != "1.0" {
		t.Errorf("render(1.0) = %q", got)
	}
	if got := render("<&>"); got != `"<&>"` {
		t.Errorf("render escapes HTML: %q", got)
	}
}
