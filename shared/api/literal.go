package api

import (
	"encoding/json"
	"fmt"
	"strings"
)

// parseLiteralDict reads a query value holding a dict, as JSON or as the
// Python repr python-karborclient sends ({'path': '/x'}). Only flat dicts of
// strings, numbers, booleans and None are read; issue 3 brings the full
// Python-literal parser.
func parseLiteralDict(s string) (map[string]any, error) {
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err == nil {
		return m, nil
	}
	j := strings.NewReplacer(`'`, `"`, "True", "true", "False", "false", "None", "null").Replace(s)
	if err := json.Unmarshal([]byte(j), &m); err != nil {
		return nil, fmt.Errorf("not a dict: %w", err)
	}
	return m, nil
}
