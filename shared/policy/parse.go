package policy

import (
	"fmt"
	"strconv"
	"strings"
)

// check is one compiled rule (or part of one).
type check interface {
	eval(ev *evaluation) bool
}

// evaluation is one Allowed call: the caller's credentials and the target.
type evaluation struct {
	creds  map[string]any
	target map[string]string
}

type trueCheck struct{}

func (trueCheck) eval(*evaluation) bool { return true }

type falseCheck struct{}

func (falseCheck) eval(*evaluation) bool { return false }

type andCheck []check

func (c andCheck) eval(ev *evaluation) bool {
	for _, sub := range c {
		if !sub.eval(ev) {
			return false
		}
	}
	return true
}

type orCheck []check

func (c orCheck) eval(ev *evaluation) bool {
	for _, sub := range c {
		if sub.eval(ev) {
			return true
		}
	}
	return false
}

type notCheck struct{ sub check }

func (c notCheck) eval(ev *evaluation) bool { return !c.sub.eval(ev) }

// ruleCheck is "rule:NAME"; ref is resolved once every rule is parsed.
type ruleCheck struct {
	name string
	ref  *compiled
}

func (c *ruleCheck) eval(ev *evaluation) bool { return c.ref.check.eval(ev) }

// roleCheck is "role:NAME": the caller holds the role (case-insensitive).
type roleCheck struct{ match format }

func (c roleCheck) eval(ev *evaluation) bool {
	want, ok := c.match.expand(ev.target)
	if !ok {
		return false
	}
	roles, _ := ev.creds["roles"].([]string)
	for _, r := range roles {
		if strings.EqualFold(r, want) {
			return true
		}
	}
	return false
}

// genericCheck is "KIND:MATCH": the credential KIND (or the literal KIND, if
// quoted, True, False or a number) equals MATCH once %(key)s are replaced by
// the target's values. A list credential matches if it contains MATCH.
// Values compare as Python's str() shows them (True, False).
type genericCheck struct {
	kind    string
	literal *string // KIND is a literal: compare MATCH to it
	match   format
}

func (c genericCheck) eval(ev *evaluation) bool {
	want, ok := c.match.expand(ev.target)
	if !ok {
		return false
	}
	if c.literal != nil {
		return *c.literal == want
	}
	switch v := ev.creds[c.kind].(type) {
	case string:
		return v == want
	case bool:
		return pyBool(v) == want
	case []string:
		for _, s := range v {
			if s == want {
				return true
			}
		}
	}
	return false
}

func pyBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

// format is a match string with Python %-substitutions: literal pieces and
// %(key)s references into the target.
type format []fpart

type fpart struct {
	text string
	key  bool // text is a target key
}

// parseFormat reads s as Python's "..." % target would: %(key)s and %%.
func parseFormat(s string) (format, error) {
	var f format
	var lit strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			lit.WriteByte(s[i])
			continue
		}
		rest := s[i+1:]
		switch {
		case strings.HasPrefix(rest, "%"):
			lit.WriteByte('%')
			i++
		case strings.HasPrefix(rest, "("):
			end := strings.Index(rest, ")s")
			if end < 0 {
				return nil, fmt.Errorf("%q: %%(key) must be followed by s", s)
			}
			if lit.Len() > 0 {
				f = append(f, fpart{text: lit.String()})
				lit.Reset()
			}
			f = append(f, fpart{text: rest[1:end], key: true})
			i += end + 2
		default:
			return nil, fmt.Errorf("%q: a %% must start %%(key)s or be doubled", s)
		}
	}
	if lit.Len() > 0 || len(f) == 0 {
		f = append(f, fpart{text: lit.String()})
	}
	return f, nil
}

// expand substitutes the target's values; false if a key is missing.
func (f format) expand(target map[string]string) (string, bool) {
	if len(f) == 1 && !f[0].key {
		return f[0].text, true
	}
	var b strings.Builder
	for _, p := range f {
		if !p.key {
			b.WriteString(p.text)
			continue
		}
		v, ok := target[p.text]
		if !ok {
			return "", false
		}
		b.WriteString(v)
	}
	return b.String(), true
}

// parseRule compiles an oslo.policy rule string; an empty one always
// passes. refs collects its "rule:NAME" checks, resolved once every rule is
// known.
func parseRule(text string, refs *[]*ruleCheck) (check, error) {
	toks := tokenize(text)
	if len(toks) == 0 {
		return trueCheck{}, nil
	}
	p := &parser{toks: toks, refs: refs}
	c, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.toks) {
		return nil, fmt.Errorf("unexpected %q", p.toks[p.pos].text)
	}
	return c, nil
}

// parseListRule compiles oslo's legacy list form: a list of alternatives,
// each a check string or a list of checks that must all pass; an empty list
// always passes.
func parseListRule(rule []any, refs *[]*ruleCheck) (check, error) {
	if len(rule) == 0 {
		return trueCheck{}, nil
	}
	var or orCheck
	for _, alt := range rule {
		var items []any
		switch a := alt.(type) {
		case string:
			items = []any{a}
		case []any:
			items = a
		default:
			return nil, fmt.Errorf("list rule element %v is neither a string nor a list", alt)
		}
		if len(items) == 0 {
			continue
		}
		var and andCheck
		for _, it := range items {
			s, ok := it.(string)
			if !ok {
				return nil, fmt.Errorf("list rule check %v is not a string", it)
			}
			c, err := parseCheck(s, refs)
			if err != nil {
				return nil, err
			}
			and = append(and, c)
		}
		if len(and) == 1 {
			or = append(or, and[0])
		} else {
			or = append(or, and)
		}
	}
	switch len(or) {
	case 0:
		return falseCheck{}, nil
	case 1:
		return or[0], nil
	}
	return or, nil
}

type tokKind int

const (
	tokCheck tokKind = iota
	tokAnd
	tokOr
	tokNot
	tokOpen
	tokClose
)

type token struct {
	kind tokKind
	text string
}

// tokenize splits a rule as oslo.policy does: on whitespace, with leading
// "(" and trailing ")" split off each word.
func tokenize(text string) []token {
	var out []token
	for _, word := range strings.Fields(text) {
		clean := strings.TrimLeft(word, "(")
		for range len(word) - len(clean) {
			out = append(out, token{kind: tokOpen, text: "("})
		}
		core := strings.TrimRight(clean, ")")
		closing := len(clean) - len(core)
		if core != "" {
			switch strings.ToLower(core) {
			case "and":
				out = append(out, token{kind: tokAnd, text: core})
			case "or":
				out = append(out, token{kind: tokOr, text: core})
			case "not":
				out = append(out, token{kind: tokNot, text: core})
			default:
				out = append(out, token{kind: tokCheck, text: core})
			}
		}
		for range closing {
			out = append(out, token{kind: tokClose, text: ")"})
		}
	}
	return out
}

// parser is a recursive descent over: or := and {"or" and}; and := not
// {"and" not}; not := "not" not | "(" or ")" | check.
type parser struct {
	toks []token
	pos  int
	refs *[]*ruleCheck
}

func (p *parser) peek() (token, bool) {
	if p.pos < len(p.toks) {
		return p.toks[p.pos], true
	}
	return token{}, false
}

func (p *parser) or() (check, error) {
	first, err := p.and()
	if err != nil {
		return nil, err
	}
	alts := orCheck{first}
	for {
		t, ok := p.peek()
		if !ok || t.kind != tokOr {
			break
		}
		p.pos++
		next, err := p.and()
		if err != nil {
			return nil, err
		}
		alts = append(alts, next)
	}
	if len(alts) == 1 {
		return first, nil
	}
	return alts, nil
}

func (p *parser) and() (check, error) {
	first, err := p.not()
	if err != nil {
		return nil, err
	}
	all := andCheck{first}
	for {
		t, ok := p.peek()
		if !ok || t.kind != tokAnd {
			break
		}
		p.pos++
		next, err := p.not()
		if err != nil {
			return nil, err
		}
		all = append(all, next)
	}
	if len(all) == 1 {
		return first, nil
	}
	return all, nil
}

func (p *parser) not() (check, error) {
	t, ok := p.peek()
	if !ok {
		return nil, fmt.Errorf("rule ends where a check is expected")
	}
	p.pos++
	switch t.kind {
	case tokNot:
		sub, err := p.not()
		if err != nil {
			return nil, err
		}
		return notCheck{sub}, nil
	case tokOpen:
		sub, err := p.or()
		if err != nil {
			return nil, err
		}
		if t, ok := p.peek(); !ok || t.kind != tokClose {
			return nil, fmt.Errorf("missing )")
		}
		p.pos++
		return sub, nil
	case tokCheck:
		return parseCheck(t.text, p.refs)
	}
	return nil, fmt.Errorf("unexpected %q where a check is expected", t.text)
}

// parseCheck compiles one check: "@", "!", "rule:NAME", "role:NAME" or
// "KIND:MATCH".
func parseCheck(s string, refs *[]*ruleCheck) (check, error) {
	switch s {
	case "@":
		return trueCheck{}, nil
	case "!":
		return falseCheck{}, nil
	}
	kind, match, ok := strings.Cut(s, ":")
	if !ok || kind == "" {
		return nil, fmt.Errorf("check %q is not KIND:MATCH, @ or !", s)
	}
	switch kind {
	case "rule":
		c := &ruleCheck{name: match}
		*refs = append(*refs, c)
		return c, nil
	case "http", "https":
		return nil, fmt.Errorf("check %q: %s checks are not supported", s, kind)
	}
	f, err := parseFormat(match)
	if err != nil {
		return nil, fmt.Errorf("check %q: %w", s, err)
	}
	if kind == "role" {
		return roleCheck{match: f}, nil
	}
	return genericCheck{kind: kind, literal: literal(kind), match: f}, nil
}

// literal reads KIND as Python's ast.literal_eval would for the literals
// that make sense here: a quoted string, True, False or an integer. It
// returns nil when KIND names a credential.
func literal(kind string) *string {
	if len(kind) >= 2 && (kind[0] == '\'' || kind[0] == '"') && kind[len(kind)-1] == kind[0] {
		s := kind[1 : len(kind)-1]
		return &s
	}
	switch kind {
	case "True", "False":
		return &kind
	}
	if n, err := strconv.ParseInt(kind, 10, 64); err == nil {
		s := strconv.FormatInt(n, 10)
		return &s
	}
	return nil
}
