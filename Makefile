# chaosload — `make help` lists the targets.
#
# Targets install what they need when it is missing: as root through apt-get,
# otherwise they print the command to run. PostgreSQL refuses to run as root,
# so the demo launcher runs it as the unprivileged user `nobody`.

SHELL       := /bin/bash
GO          ?= go
BIN         := bin/chaosload
PKGS        := ./...
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
COMMIT      := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS     := -X main.commit=$(COMMIT)
TESTFLAGS   ?=

export PATH := $(PATH):/usr/local/go/bin

.PHONY: help build test test-long bench bench-load lint demo deps

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

build: ## build bin/chaosload
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/chaosload

# Nested modules, each with its own go.mod (./... of the main module leaves
# them out): k8s/manifests decodes the Kubernetes manifests strictly into
# the k8s.io/api types, which stay out of the main go.mod.
MODULES     := k8s/manifests

test: deps ## the whole test suite, with the race detector (what .ci/run runs), and the nested modules' tests
	$(GO) test -race -timeout 20m $(TESTFLAGS) $(PKGS)
	for m in $(MODULES); do (cd $$m && $(GO) test -race -timeout 5m $(TESTFLAGS) ./...) || exit 1; done

test-long: deps ## the long end-to-end tests make test leaves out (the demo with --workers 3 against one process; the replica experiments against haproxy's own counters; a few minutes)
	$(GO) test -race -tags longtests -timeout 20m -run '^(TestDistributedDemoSameChecks|TestReplicaFailure.*)$$' -count=1 -v ./cmd/chaosload

# Benchmarks that run for minutes (BENCH_HEAVY) are left to bench-load.
BENCH_HEAVY := ^BenchmarkWSCapacity$$

bench: deps ## benchmarks: ratios against direct, Toxiproxy, wrk and vegeta, fault accuracy (p50/p99), printed (a few minutes)
	$(GO) test -run '^$$' -bench . -skip '$(BENCH_HEAVY)' -benchmem $(PKGS)
	CHAOSLOAD_BENCH_PROTOCOL=1 $(GO) test -tags manual -run '^TestProtocolPassThroughRatio$$' -count=1 -v ./faults
	./bench/http.sh
	./bench/memory.sh
	./bench/proxy.sh

bench-load: ## the long load benchmarks: pacing 5,000/s for 20 s, WebSocket capacity (10,000 connections; ~15 min)
	$(GO) test -run '^$$' -bench '^BenchmarkPacing5000$$' -benchtime 20x ./load
	./bench/ws.sh

lint: ## gofmt, go vet, staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) run $(STATICCHECK) $(PKGS)
	for m in $(MODULES); do (cd $$m && $(GO) vet ./... && $(GO) run $(STATICCHECK) ./...) || exit 1; done

demo: build ## run experiments/db-exhaustion.yaml on the bundled demo stack (installs PostgreSQL and Redis only)
	@./scripts/deps.sh demo
	./$(BIN) run experiments/db-exhaustion.yaml

deps: ## install what the tests need when missing (PostgreSQL, Redis, haproxy, webdis, nftables, Chromium)
	@./scripts/deps.sh
