package config

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// TestCloneSharesNothing: resolving a clone, down to a header and a
// string inside a JSON body, leaves the original as it was parsed.
func TestCloneSharesNothing(t *testing.T) {
	t.Parallel()
	src := `version: 1
name: clone
targets:
  api: {upstream: "127.0.0.1:7000", protocol: http}
scenarios:
  s:
    executor: constant-vus
    vus: 1
    duration: 10s
    gracefulStop: 1s
    steps:
      - name: post
        http: {method: POST, url: "http://${targets.api}/", headers: {X-To: "${targets.api}"},
               json: {to: "${targets.api}", list: ["${targets.api}"]}}
warmup: 1s
`
	e, orig := mustParse(t, src, Options{}), mustParse(t, src, Options{}) // orig shares nothing with e
	if !reflect.DeepEqual(e, e.Clone()) {
		t.Fatal("a clone differs from its original")
	}
	c := e.Clone()
	if err := c.Resolve(func(string) (string, bool) { return "127.0.0.1:9", true }); err != nil {
		t.Fatal(err)
	}
	*c.Warmup, *c.Scenarios[0].GracefulStop = 0, 0
	if !reflect.DeepEqual(e, orig) {
		t.Errorf("changing a clone changed the original: %+v", e.Scenarios[0].Steps[0].HTTP)
	}
	h := c.Scenarios[0].Steps[0].HTTP
	if h.URL != "http://127.0.0.1:9/" || h.Headers["X-To"] != "127.0.0.1:9" || !strings.Contains(fmt.Sprint(h.JSON), "to:127.0.0.1:9") || strings.Contains(fmt.Sprint(h.JSON), "$") {
		t.Errorf("the clone was not resolved: %+v", h)
	}
}
