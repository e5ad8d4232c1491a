package httpload

import (
	"context"
	"net/http"
	"testing"

	"github.com/chaosload/chaosload/load"
)

// BenchmarkDo measures one keep-alive GET against a loopback server through
// the driver, server time included (both share the machine's cores).
func BenchmarkDo(b *testing.B) {
	b.ReportAllocs()
	srv := serve(b, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"id":1}`)) })
	d := newDriver(b, Config{})
	vu := newVU()
	step := get(srv.URL)
	ctx := context.Background()
	var res load.Result
	b.ResetTimer()
	for range b.N {
		res = load.Result{Start: -1, End: -1}
		d.Do(ctx, vu, step, &res)
		if !res.OK() {
			b.Fatal(res.Err)
		}
	}
}
