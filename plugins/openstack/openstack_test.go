package openstack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/pouchdp/pouch/shared/protection"
)

func TestPollWait(t *testing.T) {
	fail := errors.New("went to error")
	busy := gophercloud.ErrUnexpectedResponseCode{Actual: http.StatusServiceUnavailable}
	tests := []struct {
		name    string
		answers []error // one per check; nil: not done yet; last: done
		timeout time.Duration
		want    error
		checks  int
	}{
		{"done at the third look", []error{nil, nil, nil}, time.Minute, nil, 3},
		{"a failure ends the wait", []error{nil, fail}, time.Minute, fail, 2},
		{"a 503 is looked at again", []error{busy, nil}, time.Minute, nil, 2},
		{"times out", nil, 50 * time.Millisecond, ErrTimeout, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := 0
			p := Poll{Interval: 20 * time.Millisecond, Timeout: tc.timeout}
			err := p.Wait(t.Context(), "thing", func(context.Context) (string, bool, error) {
				n++
				if tc.answers == nil {
					return "building", false, nil
				}
				err := tc.answers[n-1]
				return fmt.Sprint("look ", n), err == nil && n == len(tc.answers), err
			})
			if !errors.Is(err, tc.want) && !(tc.want == nil && err == nil) {
				t.Fatalf("Wait: %v, want %v", err, tc.want)
			}
			if tc.checks >= 0 && n != tc.checks {
				t.Errorf("%d checks, want %d", n, tc.checks)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	code := func(c int) error { return gophercloud.ErrUnexpectedResponseCode{Actual: c} }
	for _, tc := range []struct {
		err                 error
		transient, notFound bool
	}{
		{code(http.StatusNotFound), false, true},
		{code(http.StatusServiceUnavailable), true, false},
		{code(http.StatusTooManyRequests), true, false},
		{code(http.StatusConflict), false, false},
		{code(http.StatusBadRequest), false, false},
	} {
		err := Classify(tc.err)
		if protection.IsTransient(err) != tc.transient || errors.Is(err, protection.ErrNotFound) != tc.notFound {
			t.Errorf("Classify(%v) = %v: transient %v, not found %v", tc.err, err, protection.IsTransient(err),
				errors.Is(err, protection.ErrNotFound))
		}
	}
}

func TestAuthFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	base := map[string]string{"OS_AUTH_URL": "http://k/v3", "OS_USERNAME": "u", "OS_PASSWORD": "p", "OS_PROJECT_NAME": "demo"}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range base {
			m[a] = b
		}
		m[k] = v
		return m
	}
	o, err := authFromEnv(env(base))
	if err != nil || o.Scope == nil || o.Scope.ProjectName != "demo" || o.Scope.DomainName != "Default" ||
		o.DomainName != "Default" || !o.AllowReauth {
		t.Errorf("defaults: %+v %+v, %v", o, o.Scope, err)
	}
	o, err = authFromEnv(env(with("OS_PROJECT_DOMAIN_NAME", "dom")))
	if err != nil || o.Scope.DomainName != "dom" {
		t.Errorf("project domain: %+v, %v", o.Scope, err)
	}
	for _, missing := range []string{"OS_AUTH_URL", "OS_PASSWORD", "OS_PROJECT_NAME"} {
		if _, err := authFromEnv(env(with(missing, ""))); err == nil {
			t.Errorf("without %s: no error", missing)
		}
	}
}
