package protection_test

import (
	"errors"
	"testing"

	"github.com/pouchdp/pouch/shared/protection"
)

func TestBoolParam(t *testing.T) {
	for _, c := range []struct {
		params  map[string]any
		want    bool
		invalid bool
	}{
		{nil, true, false},
		{map[string]any{"force": false}, false, false},
		{map[string]any{"force": "True"}, true, false},
		{map[string]any{"force": "0"}, false, false},
		{map[string]any{"force": "maybe"}, false, true},
		{map[string]any{"force": 1.0}, false, true},
	} {
		got, err := (&protection.HookContext{Parameters: c.params}).BoolParam("force", true)
		if c.invalid != errors.Is(err, protection.ErrInvalid) || (!c.invalid && got != c.want) {
			t.Errorf("BoolParam(%v) = %v, %v; want %v (invalid %v)", c.params, got, err, c.want, c.invalid)
		}
	}
}
