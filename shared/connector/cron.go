package connector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/openfaas/faas-provider/types"
	"github.com/robfig/cron/v3"
)

// The connector's contract.
const (
	Topic           = "cron-function"
	HeaderConnector = "X-Connector"
	HeaderTopic     = "X-Topic"
	ConnectorName   = "cron-connector"
)

// Cron invokes the gateway's cron functions on their schedules.
type Cron struct {
	Gateway string        // e.g. http://127.0.0.1:8799
	Client  *http.Client  // nil: http.DefaultClient
	Every   time.Duration // how often schedules are checked (0: a minute)
	Log     *slog.Logger
}

func (c *Cron) every() time.Duration {
	if c.Every <= 0 {
		return time.Minute
	}
	return c.Every
}

func (c *Cron) client() *http.Client {
	if c.Client == nil {
		return http.DefaultClient
	}
	return c.Client
}

// Run fires on every boundary of Every until ctx ends.
func (c *Cron) Run(ctx context.Context) {
	every := c.every()
	for {
		next := time.Now().Truncate(every).Add(every)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(next)):
			if _, err := c.Fire(ctx, next); err != nil && ctx.Err() == nil {
				c.Log.ErrorContext(ctx, "cron connector", "err", err)
			}
		}
	}
}

// Fire invokes every cron function whose schedule has an occurrence in
// (at-Every, at]; it returns how many it invoked.
func (c *Cron) Fire(ctx context.Context, at time.Time) (int, error) {
	fns, err := c.functions(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, f := range fns {
		if f.Annotations == nil || (*f.Annotations)["topic"] != Topic {
			continue
		}
		sched, err := cron.ParseStandard((*f.Annotations)["schedule"])
		if err != nil {
			errs = append(errs, fmt.Errorf("function %s: schedule: %w", f.Name, err))
			continue
		}
		if sched.Next(at.Add(-c.every())).After(at) {
			continue
		}
		if err := c.invoke(ctx, f.Name); err != nil {
			errs = append(errs, err)
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

func (c *Cron) functions(ctx context.Context) ([]types.FunctionStatus, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Gateway+"/system/functions", nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.client().Do(req)
	if err != nil {
		return nil, fmt.Errorf("list functions: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("list functions: %s", resp.Status)
	}
	var fns []types.FunctionStatus
	if err := json.NewDecoder(resp.Body).Decode(&fns); err != nil {
		return nil, fmt.Errorf("list functions: %w", err)
	}
	return fns, nil
}

func (c *Cron) invoke(ctx context.Context, name string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.Gateway+"/function/"+name, nil)
	if err != nil {
		return err
	}
	req.Header.Set(HeaderConnector, ConnectorName)
	req.Header.Set(HeaderTopic, Topic)
	resp, err := c.client().Do(req)
	if err != nil {
		return fmt.Errorf("invoke %s: %w", name, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("invoke %s: %s", name, resp.Status)
	}
	c.Log.DebugContext(ctx, "cron function invoked", "function", name)
	return nil
}
