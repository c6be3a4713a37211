package api

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// literalCases are valid inputs with the Go value ast.literal_eval's result
// maps to (checked against CPython 3.11 when written).
var literalCases = []struct {
	in   string
	want any
}{
	// What python-karborclient sends: repr() of dicts.
	{`{'path': '/tmp/True'}`, map[string]any{"path": "/tmp/True"}},
	{`{'path': '/srv/None/False'}`, map[string]any{"path": "/srv/None/False"}},
	{`{'a': "it's"}`, map[string]any{"a": "it's"}},
	{`{'a': 'say "hi"'}`, map[string]any{"a": `say "hi"`}},
	{`{'a': 'it\'s "both"'}`, map[string]any{"a": `it's "both"`}},
	{`{'k': [1, 2, (3, 4)]}`, map[string]any{"k": []any{int64(1), int64(2), []any{int64(3), int64(4)}}}},
	{`{'OS::Nova::Server': {'backup_mode': 'full', 'retain': 3}, 'OS::Cinder::Volume#25': {'incremental': True}}`,
		map[string]any{
			"OS::Nova::Server":      map[string]any{"backup_mode": "full", "retain": int64(3)},
			"OS::Cinder::Volume#25": map[string]any{"incremental": true},
		}},
	{`{'a': {'b': {'c': None, 'd': []}}, 'e': False}`,
		map[string]any{"a": map[string]any{"b": map[string]any{"c": nil, "d": []any{}}}, "e": false}},
	{`{'name': 'café ☃ 😀'}`, map[string]any{"name": "café ☃ 😀"}},
	{`{'name': 'caf\xe9 \u2603 \U0001f600'}`, map[string]any{"name": "café ☃ 😀"}},
	{`{}`, map[string]any{}},
	{`{'a': 1,}`, map[string]any{"a": int64(1)}},
	{`{'a': 1, 'a': 2}`, map[string]any{"a": int64(2)}},
	{` { 'a' : 1 ,
	     'b' : 2 } # trailing comment`, map[string]any{"a": int64(1), "b": int64(2)}},
	// Non-string keys become strings, as json.dumps writes them.
	{`{1: 'a', -2: 'b', 2.5: 'c', None: 'd', False: 'e'}`,
		map[string]any{"1": "a", "-2": "b", "2.5": "c", "null": "d", "false": "e"}},

	// JSON reads too.
	{`{"a": 1, "b": [true, false, null], "c": 1.5e3, "d": "x\/y \"q\" \u00e9"}`,
		map[string]any{"a": int64(1), "b": []any{true, false, nil}, "c": 1500.0, "d": `x/y "q" é`}},
	{`{"emoji": "\ud83d\ude00", "lone": "\ud83d!"}`, map[string]any{"emoji": "😀", "lone": "\ufffd!"}},

	// Strings.
	{`''`, ""},
	{`""`, ""},
	{`'a\\b\'c\"d\ne\tf\rg'`, "a\\b'c\"d\ne\tf\rg"},
	{`'\a\b\f\v'`, "\a\b\f\v"},
	{`'\x41\101\0\777'`, "AA\x00\u01ff"},
	{`'C:\dir\sub'`, `C:\dir\sub`}, // unknown escapes keep the backslash
	{"'a\\\nb'", "ab"},             // backslash-newline
	{`'a' "b" '''c'''`, "abc"},
	{"'''it's\n\"ok\"'''", "it's\n\"ok\""},
	{`"""a""b"""`, `a""b`},
	{`u'x'`, "x"},
	{`r'\n\''`, `\n\'`},
	{`R"C:\dir"`, `C:\dir`},

	// Numbers.
	{`0`, int64(0)},
	{`00`, int64(0)},
	{`-5`, int64(-5)},
	{`+5`, int64(5)},
	{`- 5`, int64(-5)},
	{`1_000`, int64(1000)},
	{`0x1F`, int64(31)},
	{`0x_ff`, int64(255)},
	{`0o17`, int64(15)},
	{`0b101`, int64(5)},
	{`-0x10`, int64(-16)},
	{`9223372036854775807`, int64(9223372036854775807)},
	{`-9223372036854775808`, int64(-9223372036854775808)},
	{`1.5`, 1.5},
	{`-0.25`, -0.25},
	{`.5`, 0.5},
	{`5.`, 5.0},
	{`1e3`, 1000.0},
	{`1E-3`, 0.001},
	{`1.e2`, 100.0},
	{`09.5`, 9.5},
	{`1_0.5_0`, 10.5},
	{`1e-400`, 0.0},
	{`9223372036854775808`, 9223372036854775808.0}, // past int64: a float
	{`-100000000000000000000`, -1e20},

	// Constants and containers.
	{`True`, true},
	{`False`, false},
	{`None`, nil},
	{`true`, true},
	{`null`, nil},
	{`[]`, []any{}},
	{`[1, 'a', None,]`, []any{int64(1), "a", nil}},
	{`()`, []any{}},
	{`(1,)`, []any{int64(1)}},
	{`(1)`, int64(1)},
	{`((('x')))`, "x"},
	{`1, 2`, []any{int64(1), int64(2)}},
	{`'a',`, []any{"a"}},
	{`[[[[]]]]`, []any{[]any{[]any{[]any{}}}}},
	{` 'padded'  `, "padded"},
}

func TestParseLiteral(t *testing.T) {
	for _, tt := range literalCases {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseLiteral(tt.in)
			if err != nil {
				t.Fatalf("parseLiteral(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parseLiteral(%q) = %#v, want %#v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseLiteralErrors(t *testing.T) {
	tests := []struct {
		in   string
		want string // part of the message
	}{
		{``, "end of input"},
		{`   `, "end of input"},
		{`{`, "end of input"},
		{`{'a': 1`, "expected ',' or '}'"},
		{`{'a' 1}`, "expected ':'"},
		{`{'a': }`, "unexpected '}'"},
		{`{'a': 1}}`, "after the value"},
		{`{1, 2}`, "sets are not supported"},
		{`{'a'}`, "sets are not supported"},
		{`{[1]: 2}`, "a list cannot be a dict key"},
		{`{(1, 2): 3}`, "a list cannot be a dict key"},
		{`{{}: 3}`, "a dict cannot be a dict key"},
		{`[1,,2]`, "unexpected ','"},
		{`[,]`, "unexpected ','"},
		{`[1 2]`, "expected ',' or ']'"},
		{`(1 2)`, "expected ',' or ')'"},
		{`1 2`, "after the value"},
		{`'abc`, "unterminated string"},
		{`'abc"`, "unterminated string"},
		{"'a\nb'", "unterminated string"},
		{`'''abc''`, "unterminated string"},
		{`'abc\'`, "unterminated string"},
		{`r'\'`, "unterminated string"},
		{`'\x4'`, `truncated \x escape`},
		{`'\xZZ'`, `truncated \x escape`},
		{`'\u12'`, `truncated \u escape`},
		{`'\U00110000'`, "illegal Unicode character"},
		{`'\N{EM DASH}'`, `\N{...} escapes are not supported`},
		{`b'x'`, `string prefix "b" is not supported`},
		{`f'x'`, `string prefix "f" is not supported`},
		{`Ur'x'`, `string prefix "Ur" is not supported`},
		{`abc`, `unknown name "abc"`},
		{`/tmp/x`, "unexpected '/'"},
		{`Truee`, `unknown name "Truee"`},
		{`TRUE`, `unknown name "TRUE"`},
		{`inf`, `unknown name "inf"`},
		{`{'a': true1}`, `unknown name "true1"`},
		{`01`, "leading zeros"},
		{`0_1`, "leading zeros"},
		{`1__0`, "misplaced '_'"},
		{`1_`, "misplaced '_'"},
		{`0x`, "invalid number"},
		{`0b102`, "invalid number"},
		{`0o8`, "invalid number"},
		{`1abc`, "invalid number"},
		{`1.2.3`, "invalid number"},
		{`1e`, "invalid number"},
		{`1e+`, "invalid number"},
		{`1j`, "complex numbers are not supported"},
		{`1+2j`, "after the value"},
		{`1e400`, "float out of range"},
		{`-1e400`, "float out of range"},
		{`0x8000000000000000`, "integer out of range"},
		{"1" + strings.Repeat("0", 400), "integer out of range"},
		{`--1`, "a sign must be followed by a number"},
		{`-True`, "a sign must be followed by a number"},
		{`-'a'`, "a sign must be followed by a number"},
		{`-`, "a sign must be followed by a number"},
		{`.`, "unexpected '.'"},
		{`set()`, `unknown name "set"`},
		{"'\xff'", "not valid UTF-8"},
		{"'a\x00'", "NUL byte"},
		{strings.Repeat("[", 33) + strings.Repeat("]", 33), "nested deeper than 32"},
		{strings.Repeat("{'a': ", 33) + "1" + strings.Repeat("}", 33), "nested deeper than 32"},
		{strings.Repeat("(", 33) + "1" + strings.Repeat(")", 33), "nested deeper than 32"},
		{strings.Repeat("[", 32) + strings.Repeat("]", 32) + ", 1", "nested deeper than 32"},
		{"'" + strings.Repeat("a", maxLiteralLen-1) + "'", "longer than 65536 bytes"},
	}
	for _, tt := range tests {
		name := tt.in
		if len(name) > 40 {
			name = name[:40] + "..."
		}
		t.Run(name, func(t *testing.T) {
			got, err := parseLiteral(tt.in)
			if err == nil {
				t.Fatalf("parseLiteral(%q) = %#v, want an error", tt.in, got)
			}
			if !errors.Is(err, errLiteral) {
				t.Errorf("error %v does not wrap errLiteral", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestParseLiteralLimits(t *testing.T) {
	deep := strings.Repeat("[", 32) + strings.Repeat("]", 32)
	if _, err := parseLiteral(deep); err != nil {
		t.Errorf("32 nested lists: %v", err)
	}
	if _, err := parseLiteral("1, " + strings.Repeat("[", 31) + strings.Repeat("]", 31)); err != nil {
		t.Errorf("a bare tuple around 31 nested lists: %v", err)
	}
	long := "'" + strings.Repeat("a", maxLiteralLen-2) + "'"
	v, err := parseLiteral(long)
	if err != nil {
		t.Fatalf("a %d byte string: %v", len(long), err)
	}
	if s, _ := v.(string); len(s) != maxLiteralLen-2 {
		t.Errorf("a %d byte string read as %d bytes", len(long), len(s))
	}
}

func TestParseLiteralDict(t *testing.T) {
	tests := []struct {
		in      string
		want    map[string]any
		wantErr string
	}{
		{`{'name': 'x'}`, map[string]any{"name": "x"}, ""},
		{`{"name": "x", "n": 2}`, map[string]any{"name": "x", "n": int64(2)}, ""},
		{`{'path': '/tmp/None', 'flag': None}`, map[string]any{"path": "/tmp/None", "flag": nil}, ""},
		{`{}`, map[string]any{}, ""},
		{`['name', 'x']`, nil, "not a dict but a list"},
		{`'x'`, nil, "not a dict but a string"},
		{`3`, nil, "not a dict but an int"},
		{`None`, nil, "not a dict but None"},
		{`name=x`, nil, `unknown name "name"`},
		{`{'name': 'x'`, nil, "expected ',' or '}'"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseLiteralDict(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("parseLiteralDict(%q) = %v, %v; want error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parseLiteralDict(%q) = %#v, %v; want %#v", tt.in, got, err, tt.want)
			}
		})
	}
}

// jsonValue decodes JSON into generic values (numbers as float64), to compare
// two renderings regardless of int/float spelling and key order.
func jsonValue(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("invalid JSON %s: %v", data, err)
	}
	return v
}

func FuzzParseLiteral(f *testing.F) {
	for _, c := range literalCases {
		f.Add(c.in)
	}
	for _, s := range []string{
		``, `{`, `'abc`, `{'a' 1}`, `1e400`, `{1, 2}`, `'\x4'`, `'\N{X}'`, `b'x'`, `--1`,
		`{'a': [1, (2, 3), {'b': None}], "c": 'd\u00e9\\'}`,
		`'\ud83d\ude00\ud83d'`, `0x_1f, 0o7, 0b1, 1_0.5e-3_0`, `r'\'' u"x" '''y'''`,
		"'\xff'", "[\x00]", strings.Repeat("[", 40), strings.Repeat("(", 33) + "1" + strings.Repeat(")", 33),
		`{"a": "<&>"}`, `-0.0`, `{-0.0: 1}`, `1e20`, `123456789012345678901234567890`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := parseLiteral(s)
		d, dErr := parseLiteralDict(s)
		_, isMap := v.(map[string]any)
		if (dErr == nil) != (err == nil && isMap) {
			t.Fatalf("parseLiteralDict(%q) = %v, %v but parseLiteral = %#v, %v", s, d, dErr, v, err)
		}
		if err != nil {
			if !errors.Is(err, errLiteral) {
				t.Fatalf("parseLiteral(%q) error %v does not wrap errLiteral", s, err)
			}
			return
		}
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("parseLiteral(%q) = %#v, which does not render as JSON: %v", s, v, err)
		}
		if len(data) > maxLiteralLen {
			return
		}
		// The rendering is JSON, which parseLiteral reads back to the
		// same value.
		back, err := parseLiteral(string(data))
		if err != nil {
			t.Fatalf("parseLiteral(%q) = %s, which does not parse back: %v", s, data, err)
		}
		again, err := json.Marshal(back)
		if err != nil {
			t.Fatalf("re-rendering %#v: %v", back, err)
		}
		if !reflect.DeepEqual(jsonValue(t, again), jsonValue(t, data)) {
			t.Fatalf("parseLiteral(%q) renders as %s, which parses back as %s", s, data, again)
		}
	})
}
