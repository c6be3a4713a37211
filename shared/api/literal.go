package api

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// python-karborclient sends dict-valued query parameters as Python repr
// ({'path': '/x'}) and the server reads every filter value with
// ast.literal_eval (spec §1.3). parseLiteral is that, for the literals such
// values hold:
//
//   - dicts, lists and tuples, nested (tuples, also unparenthesised ones at
//     the top, become lists; sets are refused);
//   - strings in single or double quotes, triple-quoted, with a u or r prefix,
//     adjacent ones joined; escapes \\ \' \" \a \b \f \n \r \t \v \ooo \xNN
//     \uNNNN \UNNNNNNNN and backslash-newline; an unknown escape keeps its
//     backslash, as in Python;
//   - ints (decimal, 0x, 0o, 0b, with _ separators, optionally signed) that
//     fit in an int64 (larger decimal ones become floats, as JSON decoders
//     make them), floats, True, False and None;
//   - JSON's true, false and null, so JSON objects read too; for JSON's sake
//     \/ is a slash and a \u surrogate pair is one character (a lone
//     surrogate becomes U+FFFD).
//
// Values are map[string]any, []any, string, int64, float64, bool and nil.
// Dict keys that are numbers, booleans or None are turned into strings as
// json.dumps does ("1", "true", "null"); other keys are refused.

const (
	maxLiteralLen   = 64 << 10 // bytes
	maxLiteralDepth = 32       // nested brackets
)

// errLiteral is wrapped by every parse error.
var errLiteral = errors.New("invalid Python literal")

// parseLiteral reads s as a Python literal (see above).
func parseLiteral(s string) (any, error) {
	if len(s) > maxLiteralLen {
		return nil, fmt.Errorf("%w: longer than %d bytes", errLiteral, maxLiteralLen)
	}
	if !utf8.ValidString(s) {
		return nil, fmt.Errorf("%w: not valid UTF-8", errLiteral)
	}
	if i := strings.IndexByte(s, 0); i >= 0 {
		return nil, fmt.Errorf("%w at offset %d: NUL byte", errLiteral, i)
	}
	p := &litParser{s: s}
	p.space()
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.peek() == ',' { // a tuple without parentheses: 1, 2
		items := []any{v}
		for p.peek() == ',' {
			p.pos++
			p.space()
			if p.pos == len(p.s) {
				break
			}
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			items = append(items, v)
			p.space()
		}
		if p.deepest >= maxLiteralDepth {
			return nil, p.errorf("nested deeper than %d", maxLiteralDepth)
		}
		v = items
	}
	if p.pos < len(p.s) {
		return nil, p.errorf("unexpected %q after the value", p.rest())
	}
	return v, nil
}

// parseLiteralDict reads a query value holding a dict, as a Python literal
// or as JSON.
func parseLiteralDict(s string) (map[string]any, error) {
	v, err := parseLiteral(s)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("not a dict but %s", pyType(v))
	}
	return m, nil
}

func pyType(v any) string {
	switch v.(type) {
	case nil:
		return "None"
	case bool:
		return "a bool"
	case int64:
		return "an int"
	case float64:
		return "a float"
	case string:
		return "a string"
	case []any:
		return "a list"
	case map[string]any:
		return "a dict"
	}
	return fmt.Sprintf("%T", v)
}

type litParser struct {
	s       string
	pos     int
	depth   int // brackets open at pos
	deepest int // the most brackets open so far
}

func (p *litParser) errorf(format string, args ...any) error {
	return fmt.Errorf("%w at offset %d: %s", errLiteral, p.pos, fmt.Sprintf(format, args...))
}

// rest is a short excerpt of the input at the current position.
func (p *litParser) rest() string {
	r := p.s[p.pos:]
	for i := range r {
		if i >= 10 {
			return r[:i] + "..."
		}
	}
	return r
}

func (p *litParser) peek() byte {
	if p.pos < len(p.s) {
		return p.s[p.pos]
	}
	return 0
}

// space skips white space and comments.
func (p *litParser) space() {
	for p.pos < len(p.s) {
		switch p.s[p.pos] {
		case ' ', '\t', '\n', '\r', '\f':
			p.pos++
		case '#':
			for p.pos < len(p.s) && p.s[p.pos] != '\n' {
				p.pos++
			}
		default:
			return
		}
	}
}

func (p *litParser) value() (any, error) {
	c := p.peek()
	switch {
	case p.pos >= len(p.s):
		return nil, p.errorf("unexpected end of input")
	case c == '{':
		return p.dict()
	case c == '[':
		return p.sequence(']')
	case c == '(':
		return p.sequence(')')
	case p.atString():
		return p.str()
	case c == '-' || c == '+':
		p.pos++
		p.space()
		if !p.atNumber() {
			return nil, p.errorf("a sign must be followed by a number")
		}
		return p.number(c == '-')
	case p.atNumber():
		return p.number(false)
	case isNameByte(c):
		return p.name()
	}
	r, _ := utf8.DecodeRuneInString(p.s[p.pos:])
	return nil, p.errorf("unexpected %q", r)
}

func (p *litParser) enter() error {
	p.depth++
	if p.depth > maxLiteralDepth {
		return p.errorf("nested deeper than %d", maxLiteralDepth)
	}
	p.deepest = max(p.deepest, p.depth)
	p.pos++ // the opening bracket
	return nil
}

// sequence reads a list or a tuple (or a value in parentheses).
func (p *litParser) sequence(end byte) (any, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	items := []any{}
	comma := false
	for {
		p.space()
		if p.peek() == end {
			break
		}
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		items = append(items, v)
		p.space()
		if p.peek() == end {
			break
		}
		if p.peek() != ',' {
			return nil, p.errorf("expected ',' or %q", end)
		}
		p.pos++
		comma = true
	}
	p.pos++
	p.depth--
	if end == ')' && len(items) == 1 && !comma {
		return items[0], nil // (x) is x, (x,) a tuple
	}
	return items, nil
}

func (p *litParser) dict() (any, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	m := map[string]any{}
	for {
		p.space()
		if p.peek() == '}' {
			break
		}
		start := p.pos
		k, err := p.value()
		if err != nil {
			return nil, err
		}
		p.space()
		if p.peek() != ':' {
			if len(m) == 0 && (p.peek() == ',' || p.peek() == '}') {
				p.pos = start
				return nil, p.errorf("sets are not supported")
			}
			return nil, p.errorf("expected ':'")
		}
		key, ok := keyString(k)
		if !ok {
			p.pos = start
			return nil, p.errorf("%s cannot be a dict key", pyType(k))
		}
		p.pos++
		p.space()
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		m[key] = v
		p.space()
		if p.peek() == '}' {
			break
		}
		if p.peek() != ',' {
			return nil, p.errorf("expected ',' or '}'")
		}
		p.pos++
	}
	p.pos++
	p.depth--
	return m, nil
}

// keyString turns a dict key into a string as json.dumps would.
func keyString(k any) (string, bool) {
	switch k := k.(type) {
	case string:
		return k, true
	case nil:
		return "null", true
	case bool, int64, float64:
		return fmt.Sprint(k), true
	}
	return "", false
}

// name reads True, False, None and JSON's true, false, null.
func (p *litParser) name() (any, error) {
	start := p.pos
	for p.pos < len(p.s) && isNameByte(p.s[p.pos]) {
		p.pos++
	}
	switch n := p.s[start:p.pos]; n {
	case "True", "true":
		return true, nil
	case "False", "false":
		return false, nil
	case "None", "null":
		return nil, nil
	default:
		quoted := p.peek() == '\'' || p.peek() == '"'
		p.pos = start
		if quoted {
			return nil, p.errorf("string prefix %q is not supported", n)
		}
		return nil, p.errorf("unknown name %q", n)
	}
}

// isNameByte reports whether c can be part of a Python name (bytes of
// non-ASCII characters included).
func isNameByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// atString reports whether a string literal starts here: a quote, or a u or
// r prefix and a quote.
func (p *litParser) atString() bool {
	switch p.peek() {
	case '\'', '"':
		return true
	case 'u', 'U', 'r', 'R':
		return p.pos+1 < len(p.s) && (p.s[p.pos+1] == '\'' || p.s[p.pos+1] == '"')
	}
	return false
}

// str reads one string literal or several adjacent ones, joined.
func (p *litParser) str() (any, error) {
	var b strings.Builder
	for {
		if err := p.stringLiteral(&b); err != nil {
			return nil, err
		}
		end := p.pos
		p.space()
		if !p.atString() {
			p.pos = end
			return b.String(), nil
		}
	}
}

func (p *litParser) stringLiteral(b *strings.Builder) error {
	start := p.pos
	raw := false
	switch p.peek() {
	case 'u', 'U':
		p.pos++
	case 'r', 'R':
		raw = true
		p.pos++
	}
	quote := p.s[p.pos : p.pos+1]
	if strings.HasPrefix(p.s[p.pos:], strings.Repeat(quote, 3)) {
		quote = strings.Repeat(quote, 3)
	}
	p.pos += len(quote)
	for {
		if p.pos >= len(p.s) {
			p.pos = start
			return p.errorf("unterminated string")
		}
		c := p.s[p.pos]
		switch {
		case strings.HasPrefix(p.s[p.pos:], quote):
			p.pos += len(quote)
			return nil
		case (c == '\n' || c == '\r') && len(quote) == 1:
			p.pos = start
			return p.errorf("unterminated string")
		case c == '\\' && raw:
			// The backslash stays, and the next character cannot end the
			// string.
			if p.pos+1 >= len(p.s) {
				p.pos = start
				return p.errorf("unterminated string")
			}
			b.WriteString(p.s[p.pos : p.pos+2])
			p.pos += 2
		case c == '\\':
			if err := p.escape(b); err != nil {
				return err
			}
		default:
			b.WriteByte(c)
			p.pos++
		}
	}
}

var simpleEscapes = map[byte]string{
	'\\': `\`, '\'': `'`, '"': `"`, '/': "/",
	'a': "\a", 'b': "\b", 'f': "\f", 'n': "\n", 'r': "\r", 't': "\t", 'v': "\v",
	'\n': "", // backslash-newline continues the string on the next line
}

// escape reads the escape sequence at p.pos (a backslash) into b.
func (p *litParser) escape(b *strings.Builder) error {
	if p.pos+1 >= len(p.s) {
		return p.errorf("unterminated string")
	}
	c := p.s[p.pos+1]
	if s, ok := simpleEscapes[c]; ok {
		b.WriteString(s)
		p.pos += 2
		return nil
	}
	switch c {
	case '\r':
		p.pos += 2
		if p.peek() == '\n' {
			p.pos++
		}
		return nil
	case '0', '1', '2', '3', '4', '5', '6', '7':
		p.pos++
		n := 0
		for i := 0; i < 3 && p.peek() >= '0' && p.peek() <= '7'; i++ {
			n = n*8 + int(p.peek()-'0')
			p.pos++
		}
		b.WriteRune(rune(n))
		return nil
	case 'x':
		r, err := p.hexEscape(2)
		if err != nil {
			return err
		}
		b.WriteRune(r)
		return nil
	case 'u', 'U':
		size := 4
		if c == 'U' {
			size = 8
		}
		r, err := p.hexEscape(size)
		if err != nil {
			return err
		}
		if r >= 0xD800 && r < 0xDC00 && strings.HasPrefix(p.s[p.pos:], `\u`) {
			// A JSON surrogate pair.
			save := p.pos
			if lo, err := p.hexEscape(4); err == nil && lo >= 0xDC00 && lo < 0xE000 {
				r = 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00)
			} else {
				p.pos = save
			}
		}
		b.WriteRune(r) // a lone surrogate is written as U+FFFD
		return nil
	case 'N':
		return p.errorf(`\N{...} escapes are not supported`)
	}
	// Unknown escape: Python keeps the backslash.
	b.WriteByte('\\')
	p.pos++
	return nil
}

// hexEscape reads \x, \u or \U (at p.pos) and exactly size hex digits.
func (p *litParser) hexEscape(size int) (rune, error) {
	start := p.pos
	p.pos += 2
	if p.pos+size > len(p.s) {
		p.pos = start
		return 0, p.errorf("truncated %s escape", p.s[start:start+2])
	}
	n, err := strconv.ParseUint(p.s[p.pos:p.pos+size], 16, 32)
	if err != nil {
		p.pos = start
		return 0, p.errorf("truncated %s escape", p.s[start:start+2])
	}
	if n > utf8.MaxRune {
		p.pos = start
		return 0, p.errorf("illegal Unicode character %s", p.s[start:start+2+size])
	}
	p.pos += size
	return rune(n), nil
}

// atNumber reports whether a number starts here: a digit, or a point and a
// digit.
func (p *litParser) atNumber() bool {
	c := p.peek()
	return isDigit(c) || c == '.' && p.pos+1 < len(p.s) && isDigit(p.s[p.pos+1])
}

func (p *litParser) number(neg bool) (any, error) {
	start := p.pos
	sign := ""
	if neg {
		sign = "-"
	}
	if p.peek() == '0' && p.pos+1 < len(p.s) {
		base := 0
		switch p.s[p.pos+1] {
		case 'x', 'X':
			base = 16
		case 'o', 'O':
			base = 8
		case 'b', 'B':
			base = 2
		}
		if base != 0 {
			p.pos += 2
			digits, err := p.digits(base, true)
			if err != nil {
				return nil, err
			}
			if digits == "" {
				return nil, p.errorf("invalid number")
			}
			if err := p.numberEnd(); err != nil {
				return nil, err
			}
			n, err := strconv.ParseInt(sign+digits, base, 64)
			if err != nil {
				p.pos = start
				return nil, p.errorf("integer out of range")
			}
			return n, nil
		}
	}

	whole, err := p.digits(10, false)
	if err != nil {
		return nil, err
	}
	var frac, exp string
	isFloat := false
	if p.peek() == '.' {
		isFloat = true
		p.pos++
		if frac, err = p.digits(10, false); err != nil {
			return nil, err
		}
	}
	if c := p.peek(); c == 'e' || c == 'E' {
		isFloat = true
		p.pos++
		if c := p.peek(); c == '+' || c == '-' {
			exp = string(c)
			p.pos++
		}
		digits, err := p.digits(10, false)
		if err != nil {
			return nil, err
		}
		if digits == "" {
			return nil, p.errorf("invalid number")
		}
		exp = "e" + exp + digits
	}
	if err := p.numberEnd(); err != nil {
		return nil, err
	}
	if isFloat {
		f, err := strconv.ParseFloat(sign+"0"+whole+"."+frac+exp, 64)
		if err != nil {
			p.pos = start
			return nil, p.errorf("float out of range")
		}
		return f, nil
	}
	if len(whole) > 1 && strings.TrimLeft(whole, "0") != "" && whole[0] == '0' {
		p.pos = start
		return nil, p.errorf("leading zeros in a decimal integer")
	}
	if n, err := strconv.ParseInt(sign+whole, 10, 64); err == nil {
		return n, nil
	}
	// Past int64, as JSON decoders do: a float.
	f, err := strconv.ParseFloat(sign+whole, 64)
	if err != nil {
		p.pos = start
		return nil, p.errorf("integer out of range")
	}
	return f, nil
}

// digits reads the digits of base, with single underscores between them
// (and, after a base prefix, before the first one), and returns them without
// the underscores.
func (p *litParser) digits(base int, leadingUnderscore bool) (string, error) {
	var b strings.Builder
	for {
		if p.peek() == '_' && (b.Len() > 0 || leadingUnderscore) {
			p.pos++
			if !isBaseDigit(p.peek(), base) {
				return "", p.errorf("invalid number: misplaced '_'")
			}
		}
		if !isBaseDigit(p.peek(), base) {
			return b.String(), nil
		}
		b.WriteByte(p.peek())
		p.pos++
	}
}

func isBaseDigit(c byte, base int) bool {
	switch base {
	case 2:
		return c == '0' || c == '1'
	case 8:
		return c >= '0' && c <= '7'
	case 16:
		return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
	}
	return isDigit(c)
}

// numberEnd refuses a number glued to a name or more digits (1abc, 0b12,
// 1j).
func (p *litParser) numberEnd() error {
	switch c := p.peek(); {
	case c == 'j' || c == 'J':
		return p.errorf("complex numbers are not supported")
	case isNameByte(c) || c == '.':
		return p.errorf("invalid number")
	}
	return nil
}
