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

.PHONY: help build test test-long e2e-k8s bench bench-load lint demo deps

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

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

# e2e-k8s builds kube-apiserver, kube-controller-manager and kube-scheduler
# from the k8s.io/kubernetes module (k8s/e2e pins the version) once into
# KUBE_BIN (about 15 minutes on 2 cores the first time), and takes etcd from
# the distribution's etcd-server.
KUBE_VERSION := v1.35.4
KUBE_BIN     ?= $(HOME)/.cache/chaosload/kube-$(KUBE_VERSION)
KUBE_CMDS    := kube-apiserver kube-controller-manager kube-scheduler

e2e-k8s: build ## a distributed run on a real Kubernetes control plane on this machine (outside make test; ~15 min to build it the first time)
	@./scripts/deps.sh demo
	@command -v etcd >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" -ne 0 ]; then echo "missing: etcd; install it with: sudo apt-get install -y etcd-server" >&2; exit 1; fi; \
	  echo "installing etcd-server" >&2; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq etcd-server >/dev/null 2>&1 || \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq etcd-server; }; }
	@for c in $(KUBE_CMDS); do [ -x "$(KUBE_BIN)/$$c" ] || missing=1; done; \
	if [ -n "$$missing" ]; then \
	  echo "building $(KUBE_CMDS) $(KUBE_VERSION) into $(KUBE_BIN) (once; about 15 minutes on 2 cores)" >&2; \
	  mkdir -p "$(KUBE_BIN)" && cd k8s/e2e && \
	  $(GO) build -ldflags "-X k8s.io/component-base/version.gitVersion=$(KUBE_VERSION)" -o "$(KUBE_BIN)/" \
	    $(addprefix k8s.io/kubernetes/cmd/,$(KUBE_CMDS)); \
	fi
	cd k8s/e2e && ETCD="$$(command -v etcd)" KUBE_BIN="$(KUBE_BIN)" CHAOSLOAD_BIN="$(CURDIR)/$(BIN)" \
	  $(GO) test -count=1 -v -timeout 30m ./...

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
