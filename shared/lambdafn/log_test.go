package lambdafn_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/pouchdp/pouch/shared/lambdafn"
)

func TestLogHandler(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(lambdafn.LogHandler(slog.NewJSONHandler(&buf, nil))).With("function", "hook")
	invocation := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-1"})
	tests := []struct {
		name string
		ctx  context.Context
		want any // requestId, nil: none
	}{
		{"in an invocation", invocation, "req-1"},
		{"outside", context.Background(), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf.Reset()
			log.InfoContext(tt.ctx, "task done", "task", 3)
			var rec map[string]any
			if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
				t.Fatalf("%v: %s", err, buf.Bytes())
			}
			if rec["requestId"] != tt.want || rec["function"] != "hook" || rec["task"] != float64(3) {
				t.Errorf("record %v, want requestId %v", rec, tt.want)
			}
		})
	}
}
