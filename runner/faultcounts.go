package runner

// faultCounts returns what the proxy of target counted for fault name: the
// requests a protocol-aware fault answered itself (http-error, pg-error,
// redis-error), the requests a protocol-aware delay held, and the
// connections it could not inspect. Zero for a target without a proxy.
func (r *run) faultCounts(target, name string) (injected, delayed, uninspectable int64) {
	p := r.proxies[target]
	if p == nil {
		return 0, 0, 0
	}
	fs, ok := p.Stats().Faults[name]
	if !ok {
		return 0, 0, 0
	}
	if _, protocol := protocolKinds[string(fs.Kind)]; protocol && fs.Injected == 0 {
		delayed = fs.DelayedChunks
	}
	return fs.Injected, delayed, fs.Uninspectable
}

// protocolKinds are the kinds whose delay counts are requests, not chunks.
var protocolKinds = map[string]struct{}{"http-delay": {}, "pg-delay": {}, "redis-delay": {}}
