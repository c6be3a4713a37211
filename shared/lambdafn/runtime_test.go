package lambdafn_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pouchdp/pouch/shared/lambdafn"
	"github.com/pouchdp/pouch/tests/lambdatest"
)

func TestReportInitError(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rt := lambdatest.NewRuntimeAPIFake(t, "pouch-api")
	err := lambdafn.WithType("ConfigError", errors.New("POUCH_REDIS is not set"))
	if err := lambdafn.ReportInitError(ctx, rt.Addr(), err); err != nil {
		t.Fatal(err)
	}
	got, err := rt.InitError(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.Type != "ConfigError" || got.Header != "ConfigError" || got.Message != "POUCH_REDIS is not set" {
		t.Errorf("init error %+v", got)
	}
}

func TestReportInitErrorFails(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "container error", http.StatusInternalServerError)
	}))
	defer srv.Close()
	err := lambdafn.ReportInitError(context.Background(), strings.TrimPrefix(srv.URL, "http://"), errors.New("x"))
	if err == nil || !strings.Contains(err.Error(), "500") {
		t.Errorf("err = %v, want the 500 reported", err)
	}
}
