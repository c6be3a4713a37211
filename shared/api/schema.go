package api

import (
	"bytes"
	"cmp"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// Request bodies are checked against the JSON schemas (draft 2020-12) of
// schemas/<name>.json before they are decoded, as Karbor checks them with its
// jsonschema validators (spec §1.2, §2). schemas/common.json holds the
// shared definitions ($defs: uuid, name, parameters, ...); it is not a
// request schema itself.
//
// Three formats are Pouch's own (format assertion is on):
//   - uuid-like: Karbor's uuid-like, 36 characters with dashes or 32 hex
//     digits;
//   - name: a name that is not blank;
//   - int64: an integer written without fraction or exponent that fits in
//     64 bits. JSON Schema counts 1.0 as an integer; Karbor's draft 4
//     validator, reading JSON with Python, does not, and neither does Pouch.

//go:embed schemas/*.json
var schemaFS embed.FS

// schemaBase is the base URL of the embedded schemas; $refs between them
// are relative ("common.json#/$defs/uuid").
const schemaBase = "file:///pouch/schemas/"

// commonSchema holds the shared definitions.
const commonSchema = "common"

// schemas compiles every embedded schema, once.
var schemas = sync.OnceValues(compileSchemas)

func compileSchemas() (map[string]*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	c.UseLoader(embeddedOnly{})
	for _, f := range []*jsonschema.Format{
		{Name: "uuid-like", Validate: validateUUIDLike},
		{Name: "name", Validate: validateName},
		{Name: "int64", Validate: validateInt64},
	} {
		c.RegisterFormat(f)
	}
	files, err := fs.Glob(schemaFS, "schemas/*.json")
	if err != nil {
		return nil, err
	}
	var names []string
	for _, file := range files {
		data, err := schemaFS.ReadFile(file)
		if err != nil {
			return nil, err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		name := strings.TrimSuffix(strings.TrimPrefix(file, "schemas/"), ".json")
		if err := c.AddResource(schemaBase+name+".json", doc); err != nil {
			return nil, err
		}
		if name != commonSchema {
			names = append(names, name)
		}
	}
	set := make(map[string]*jsonschema.Schema, len(names))
	for _, name := range names {
		sch, err := c.Compile(schemaBase + name + ".json")
		if err != nil {
			return nil, err
		}
		set[name] = sch
	}
	return set, nil
}

// embeddedOnly refuses every $ref that is not to an embedded schema.
type embeddedOnly struct{}

func (embeddedOnly) Load(url string) (any, error) {
	return nil, fmt.Errorf("%s is not an embedded schema", url)
}

// schemaNames are the names of the request schemas, sorted.
func schemaNames() []string {
	set, err := schemas()
	if err != nil {
		return nil
	}
	return slices.Sorted(func(yield func(string) bool) {
		for name := range set {
			if !yield(name) {
				return
			}
		}
	})
}

// wrapperOf is the single top-level key of the bodies of schema sch ("" for
// a flat body, as os-services').
func wrapperOf(sch *jsonschema.Schema) string {
	if len(sch.Properties) == 1 && len(sch.Required) == 1 && sch.Properties[sch.Required[0]] != nil {
		return sch.Required[0]
	}
	return ""
}

// validate checks the request body data against the JSON schema named
// schema. A body that is empty, not JSON or not valid is a 400 *Error naming
// the offending field (the deepest one when there are several) by its path
// (plan.parameters.OS::Nova::Server.k, plan.resources[0].id); an unknown
// schema is a programmer's mistake (a plain error, so a 500).
func validate(schema string, data []byte) error {
	set, err := schemas()
	if err != nil {
		return fmt.Errorf("request schemas: %w", err)
	}
	sch := set[schema]
	if sch == nil {
		return fmt.Errorf("no request schema %q", schema)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return errorf(http.StatusBadRequest, "Malformed request body: the body is empty; a JSON object is required.")
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return errorf(http.StatusBadRequest, "Malformed request body: %v", err)
	}
	err = sch.Validate(normalizeNumbers(doc))
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return errorf(http.StatusBadRequest, "Invalid request body: %v", err)
	}
	// The error names values as the caller wrote them (1.0, not 1): read
	// the body again, with its numbers as written.
	orig, _ := jsonschema.UnmarshalJSON(bytes.NewReader(data)) // it decoded above
	return errorf(http.StatusBadRequest, "%s", describe(wrapperOf(sch), orig, deepest(ve)))
}

// normalizeNumbers replaces the json.Numbers of v: integers written without
// fraction or exponent that fit in 64 bits become int64s, every other number
// a float64 (beyond float64's range: ±math.MaxFloat64). The validator then
// never works on the text of a number, which with a large exponent
// (1e999999) costs it dearly, and the int64 format tells the two apart.
func normalizeNumbers(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			v[k] = normalizeNumbers(x)
		}
	case []any:
		for i, x := range v {
			v[i] = normalizeNumbers(x)
		}
	case json.Number:
		s := string(v)
		if !strings.ContainsAny(s, ".eE") {
			if n, err := strconv.ParseInt(s, 10, 64); err == nil {
				return n
			}
		}
		f, _ := strconv.ParseFloat(s, 64) // a JSON number always parses, maybe to ±Inf
		if math.IsInf(f, 0) {
			f = math.Copysign(math.MaxFloat64, f)
		}
		return f
	}
	return v
}

func validateUUIDLike(v any) error {
	s, ok := v.(string)
	if !ok || isUUIDLike(s) {
		return nil
	}
	return errors.New("is not a valid UUID")
}

// isUUIDLike reports whether s is 32 hex digits, optionally in the 8-4-4-4-12
// dashed form.
func isUUIDLike(s string) bool {
	switch len(s) {
	case 32:
	case 36:
		if s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
			return false
		}
		s = s[:8] + s[9:13] + s[14:18] + s[19:23] + s[24:]
	default:
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func validateName(v any) error {
	if s, ok := v.(string); ok && strings.TrimSpace(s) == "" {
		return errors.New("is blank; a name needs a character other than spaces")
	}
	return nil
}

// validateInt64 refuses the float64s of normalizeNumbers: numbers with a
// fraction or an exponent, and integers beyond 64 bits.
func validateInt64(v any) error {
	if _, ok := v.(float64); ok {
		return errors.New("is not an integer (without fraction or exponent, within 64 bits)")
	}
	return nil
}

// deepest is the leaf error of the tree ve that is deepest in the body; ties
// go to a missing property, then an unexpected one, then the rest, then by
// location and text, so that the choice never depends on map order.
func deepest(ve *jsonschema.ValidationError) *jsonschema.ValidationError {
	var best *jsonschema.ValidationError
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				walk(c)
			}
			return
		}
		if best == nil || better(e, best) {
			best = e
		}
	}
	walk(ve)
	return best
}

func better(a, b *jsonschema.ValidationError) bool {
	if d := cmp.Compare(len(a.InstanceLocation), len(b.InstanceLocation)); d != 0 {
		return d > 0
	}
	rank := func(e *jsonschema.ValidationError) int {
		switch e.ErrorKind.(type) {
		case *kind.Required:
			return 0
		case *kind.AdditionalProperties:
			return 1
		case *kind.Type:
			return 2
		}
		return 3
	}
	if d := cmp.Compare(rank(a), rank(b)); d != 0 {
		return d < 0
	}
	if d := slices.Compare(a.InstanceLocation, b.InstanceLocation); d != 0 {
		return d < 0
	}
	return kindText(a.ErrorKind) < kindText(b.ErrorKind)
}

// english prints schema errors; built on first use, which keeps it out of a
// function's cold start.
var english = sync.OnceValue(func() *message.Printer { return message.NewPrinter(language.English) })

func kindText(k jsonschema.ErrorKind) string { return k.LocalizedString(english()) }

// describe writes the error e of the body doc in Nova's and Karbor's words:
// "Invalid input for field/attribute <path>. Value: <value>. <what is
// wrong>". Values are written as JSON and cut when long.
func describe(wrapper string, doc any, e *jsonschema.ValidationError) string {
	loc := e.InstanceLocation
	value := valueAt(doc, loc)
	showValue := true
	var detail string
	switch k := e.ErrorKind.(type) {
	case *kind.Required:
		// The path names the missing field itself.
		loc = append(slices.Clip(loc), k.Missing[0])
		showValue = false
		detail = quoteKey(k.Missing[0]) + " is a required property"
	case *kind.AdditionalProperties:
		showValue = false
		keys := slices.Sorted(slices.Values(k.Properties))
		const most = 5
		quoted := make([]string, 0, most)
		for _, p := range keys[:min(len(keys), most)] {
			quoted = append(quoted, quoteKey(p))
		}
		list := strings.Join(quoted, ", ")
		if len(keys) > most {
			list += fmt.Sprintf(" and %d more", len(keys)-most)
		}
		verb := "was"
		if len(keys) > 1 {
			verb = "were"
		}
		detail = fmt.Sprintf("Additional properties are not allowed (%s %s unexpected)", list, verb)
	case *kind.Type:
		want := make([]string, len(k.Want))
		for i, t := range k.Want {
			want[i] = strconv.Quote(t)
		}
		detail = fmt.Sprintf("%s is not of type %s", render(value), orList(want))
	case *kind.MinLength:
		detail = fmt.Sprintf("%s is too short (at least %d characters)", render(value), k.Want)
	case *kind.MaxLength:
		detail = fmt.Sprintf("%s is too long (at most %d characters)", render(value), k.Want)
	case *kind.Pattern:
		detail = fmt.Sprintf("%s does not match %s", render(value), strconv.Quote(k.Want))
	case *kind.Enum:
		want := make([]string, len(k.Want))
		for i, w := range k.Want {
			want[i] = render(w)
		}
		detail = fmt.Sprintf("%s is not one of %s", render(value), orList(want))
	case *kind.Const:
		detail = fmt.Sprintf("%s is not %s", render(value), render(k.Want))
	case *kind.Format:
		detail = fmt.Sprintf("%s %v", render(value), k.Err)
	default:
		detail = kindText(k)
	}
	path := fieldPath(doc, loc)
	if path == "" {
		msg := "Invalid request body: " + detail + "."
		if wrapper != "" {
			msg += fmt.Sprintf(" The body must be an object with the single key %s.", quoteKey(wrapper))
		}
		return msg
	}
	if showValue {
		return fmt.Sprintf("Invalid input for field/attribute %s. Value: %s. %s.", path, render(value), detail)
	}
	return fmt.Sprintf("Invalid input for field/attribute %s. %s.", path, detail)
}

// valueAt is the value at the instance location loc of doc (nil if none).
func valueAt(doc any, loc []string) any {
	v := doc
	for _, tok := range loc {
		switch c := v.(type) {
		case map[string]any:
			v = c[tok]
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil
			}
			v = c[i]
		default:
			return nil
		}
	}
	return v
}

// fieldPath writes the instance location loc of doc as a path: object keys
// joined with dots, list indices in brackets (plan.resources[0].id).
func fieldPath(doc any, loc []string) string {
	var sb strings.Builder
	v := doc
	for _, tok := range loc {
		if l, ok := v.([]any); ok {
			sb.WriteString("[" + tok + "]")
			if i, err := strconv.Atoi(tok); err == nil && i >= 0 && i < len(l) {
				v = l[i]
			} else {
				v = nil
			}
			continue
		}
		if sb.Len() > 0 {
			sb.WriteByte('.')
		}
		sb.WriteString(clip(tok, maxShown))
		m, _ := v.(map[string]any)
		v = m[tok]
	}
	return sb.String()
}

// maxShown is how much of a value or a key an error message shows.
const maxShown = 100

// render writes v as JSON (numbers as written), cut to maxShown bytes.
func render(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return clip(strings.TrimSuffix(buf.String(), "\n"), maxShown)
}

// quoteKey writes a property name as a JSON string, cut when long.
func quoteKey(k string) string { return render(k) }

// clip cuts s to at most n bytes at a character boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

// orList joins items as `a`, `a or b`, `a, b or c`.
func orList(items []string) string {
	if len(items) <= 1 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}
