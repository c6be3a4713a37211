package lambdatest

import (
	"encoding/json"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// HTTPAPIEvent is the event API Gateway's HTTP API (payload format 2.0)
// sends for a request: target is a path with an optional ?query; token, if
// set, is the X-Auth-Token header.
func HTTPAPIEvent(method, target, token, body string) []byte {
	path, query, _ := strings.Cut(target, "?")
	e := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "$default", RawPath: path, RawQueryString: query,
		Headers: headers(token, body), QueryStringParameters: queryParams(query),
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			AccountID: Account, APIID: "fakeapi", DomainName: "fakeapi.execute-api." + Region + ".amazonaws.com",
			DomainPrefix: "fakeapi", Stage: "$default", RequestID: "fake-request", RouteKey: "$default",
			Time: time.Now().UTC().Format("02/Jan/2006:15:04:05 -0700"), TimeEpoch: time.Now().UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path,
				Protocol: "HTTP/1.1", SourceIP: "192.0.2.10", UserAgent: "python-karborclient"},
		},
		Body: body,
	}
	return mustJSON(e)
}

// FunctionURLEvent is the event a Lambda Function URL sends for a request
// (see HTTPAPIEvent).
func FunctionURLEvent(method, target, token, body string) []byte {
	path, query, _ := strings.Cut(target, "?")
	e := events.LambdaFunctionURLRequest{
		Version: "2.0", RawPath: path, RawQueryString: query,
		Headers: headers(token, body), QueryStringParameters: queryParams(query),
		RequestContext: events.LambdaFunctionURLRequestContext{
			AccountID: Account, APIID: "fakeurl", DomainName: "fakeurl.lambda-url." + Region + ".on.aws",
			DomainPrefix: "fakeurl", RequestID: "fake-request", TimeEpoch: time.Now().UnixMilli(),
			HTTP: events.LambdaFunctionURLRequestContextHTTPDescription{Method: method, Path: path,
				Protocol: "HTTP/1.1", SourceIP: "192.0.2.10", UserAgent: "python-karborclient"},
		},
		Body: body,
	}
	return mustJSON(e)
}

// ScheduleEvent is the event an EventBridge schedule (rate or cron) sends.
func ScheduleEvent(at time.Time) []byte {
	e := events.EventBridgeEvent{
		Version: "0", ID: "fake-schedule-event", DetailType: "Scheduled Event", Source: "aws.events",
		AccountID: Account, Time: at.UTC().Truncate(time.Minute), Region: Region,
		Resources: []string{"arn:aws:events:" + Region + ":" + Account + ":rule/pouch-tick"},
		Detail:    json.RawMessage(`{}`),
	}
	return mustJSON(e)
}

// HTTPResponse decodes what the runtime answered an HTTP event.
func HTTPResponse(response []byte) (events.APIGatewayV2HTTPResponse, error) {
	var r events.APIGatewayV2HTTPResponse
	err := json.Unmarshal(response, &r)
	return r, err
}

func headers(token, body string) map[string]string {
	h := map[string]string{"accept": "application/json", "host": "fakeapi.execute-api." + Region + ".amazonaws.com"}
	if token != "" {
		h["x-auth-token"] = token
	}
	if body != "" {
		h["content-type"] = "application/json"
	}
	return h
}

func queryParams(query string) map[string]string {
	if query == "" {
		return nil
	}
	v, err := url.ParseQuery(query)
	if err != nil {
		return nil
	}
	m := map[string]string{}
	for k, vs := range v {
		m[k] = strings.Join(vs, ",")
	}
	return m
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // the events are plain structs
	}
	return b
}
