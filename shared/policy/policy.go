package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/pouchdp/pouch/shared/auth"
)

// DefaultRule is the rule applied to rule names that are not defined.
const DefaultRule = "default"

// defaults are Karbor's rules (spec §9.1): the base rules and one per API
// action.
var defaults = map[string]string{
	"context_is_admin": "role:admin",
	"admin_or_owner":   "is_admin:True or (role:admin and is_admin_project:True) or project_id:%(project_id)s",
	"default":          "rule:admin_or_owner",
	"admin_api":        "is_admin:True or (role:admin and is_admin_project:True)",
}

func init() {
	for rule, names := range map[string][]string{
		"rule:admin_or_owner": {
			"plan:create", "plan:update", "plan:delete", "plan:get", "plan:get_all",
			"restore:create", "restore:update", "restore:get", "restore:get_all",
			"verification:create", "verification:get", "verification:get_all",
			"provider:get", "provider:get_all",
			"provider:checkpoint_get", "provider:checkpoint_get_all", "provider:checkpoint_create",
			"provider:checkpoint_delete", "provider:checkpoint_update",
			"copy:create",
			"protectable:get", "protectable:get_all", "protectable:instance_get", "protectable:instance_get_all",
			"trigger:create", "trigger:update", "trigger:delete", "trigger:get", "trigger:list",
			"scheduled_operation:create", "scheduled_operation:delete", "scheduled_operation:get",
			"scheduled_operation:list",
			"operation_log:get", "operation_log:list",
			"quota:get", "quota:get_default", "quota_class:get",
		},
		"rule:admin_api": {
			"quota:update", "quota:delete", "quota_class:update",
			"service:get_all", "service:update",
		},
	} {
		for _, n := range names {
			defaults[n] = rule
		}
	}
}

// Defaults returns Karbor's rules: name → rule string.
func Defaults() map[string]string {
	return maps.Clone(defaults)
}

// Enforcer checks oslo.policy rules. It is immutable once built and safe for
// concurrent use.
type Enforcer struct {
	rules map[string]*compiled
}

type compiled struct {
	text  string // as written, for messages
	check check
}

// New returns Karbor's defaults overridden by the rules in file: a YAML or
// JSON map of rule name to rule (oslo.policy's format; a rule may also be
// oslo's legacy list form). "" means the defaults alone. A file that does
// not parse, or a rule that does not, or that refers to an undefined rule or
// to itself through other rules, is an error naming the file and the rule.
func New(file string) (*Enforcer, error) {
	texts := make(map[string]any, len(defaults))
	for name, text := range defaults {
		texts[name] = text
	}
	src := "Karbor's defaults"
	if file != "" {
		overrides, err := readFile(file)
		if err != nil {
			return nil, err
		}
		for name, v := range overrides {
			texts[name] = v
		}
		src = "policy file " + file
	}
	e, err := build(texts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", src, err)
	}
	return e, nil
}

// Parse returns Karbor's defaults overridden by rules (name → rule string).
func Parse(rules map[string]string) (*Enforcer, error) {
	texts := make(map[string]any, len(defaults)+len(rules))
	for name, text := range defaults {
		texts[name] = text
	}
	for name, text := range rules {
		texts[name] = text
	}
	return build(texts)
}

func readFile(file string) (map[string]any, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("policy file: %w", err)
	}
	var doc any
	if strings.EqualFold(filepath.Ext(file), ".json") {
		dec := json.NewDecoder(bytes.NewReader(data))
		if err := dec.Decode(&doc); err != nil {
			return nil, fmt.Errorf("policy file %s: %w", file, err)
		}
	} else if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("policy file %s: %w", file, err)
	}
	switch d := doc.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		return d, nil
	}
	return nil, fmt.Errorf("policy file %s: not a map of rule name to rule", file)
}

func build(texts map[string]any) (*Enforcer, error) {
	e := &Enforcer{rules: make(map[string]*compiled, len(texts))}
	var refs []*ruleCheck
	for _, name := range sortedKeys(texts) {
		c, text, err := compile(texts[name], &refs)
		if err != nil {
			return nil, fmt.Errorf("rule %q: %w", name, err)
		}
		e.rules[name] = &compiled{text: text, check: c}
	}
	for _, ref := range refs {
		ref.ref = e.rules[ref.name]
	}
	for _, name := range sortedKeys(texts) {
		if err := e.verify(name, e.rules[name].check, map[string]bool{name: true}); err != nil {
			return nil, fmt.Errorf("rule %q: %w", name, err)
		}
	}
	return e, nil
}

func compile(v any, refs *[]*ruleCheck) (check, string, error) {
	switch r := v.(type) {
	case nil:
		return trueCheck{}, "", nil
	case string:
		c, err := parseRule(r, refs)
		return c, r, err
	case []any:
		c, err := parseListRule(r, refs)
		return c, fmt.Sprint(r), err
	}
	return nil, "", fmt.Errorf("%v is neither a rule string nor a list", v)
}

// verify reports "rule:NAME" checks under c that name an undefined rule or
// lead back to a rule on the path.
func (e *Enforcer) verify(name string, c check, path map[string]bool) error {
	switch c := c.(type) {
	case *ruleCheck:
		if c.ref == nil {
			return fmt.Errorf("rule:%s refers to an undefined rule", c.name)
		}
		if path[c.name] {
			return fmt.Errorf("rule:%s refers back to itself", c.name)
		}
		path[c.name] = true
		defer delete(path, c.name)
		return e.verify(c.name, c.ref.check, path)
	case andCheck:
		for _, sub := range c {
			if err := e.verify(name, sub, path); err != nil {
				return err
			}
		}
	case orCheck:
		for _, sub := range c {
			if err := e.verify(name, sub, path); err != nil {
				return err
			}
		}
	case notCheck:
		return e.verify(name, c.sub, path)
	}
	return nil
}

func sortedKeys(m map[string]any) []string { return slices.Sorted(maps.Keys(m)) }

// Rule returns the text of a rule as loaded, and whether it is defined.
func (e *Enforcer) Rule(name string) (string, bool) {
	c, ok := e.rules[name]
	if !ok {
		return "", false
	}
	return c.text, true
}

// Allowed reports whether id may apply rule to target (keys project_id,
// user_id, ...). A rule that is not defined is checked as "default". A nil
// identity has no credentials.
func (e *Enforcer) Allowed(rule string, id *auth.Identity, target map[string]string) bool {
	c, ok := e.rules[rule]
	if !ok {
		c = e.rules[DefaultRule]
	}
	return c.check.eval(&evaluation{creds: credentials(id), target: target})
}

// IsAdmin applies context_is_admin to id (with the target being the caller
// itself), as Karbor decides a request context's is_admin.
func (e *Enforcer) IsAdmin(id *auth.Identity) bool {
	c, ok := e.rules["context_is_admin"]
	if !ok || id == nil {
		return false
	}
	creds := credentials(id)
	creds["is_admin"] = false
	return c.check.eval(&evaluation{creds: creds,
		target: map[string]string{"project_id": id.ProjectID, "user_id": id.UserID}})
}

// credentials are the values checks compare: is_admin, roles, project_id,
// user_id and is_admin_project.
func credentials(id *auth.Identity) map[string]any {
	if id == nil {
		return map[string]any{}
	}
	return map[string]any{
		"is_admin":         id.IsAdmin,
		"roles":            id.Roles,
		"project_id":       id.ProjectID,
		"user_id":          id.UserID,
		"is_admin_project": id.IsAdminProject,
	}
}
