# The one place where plugin versions are pinned. The test plugins (noop,
# sleep) come from the libcni module at the version go.mod requires, so the
# library and its test doubles can never drift apart.
PLUGINS_VERSION := v1.9.1
CNI_VERSION     := $(shell go list -m -f '{{.Version}}' github.com/containernetworking/cni)

PLUGIN_DIR := $(CURDIR)/bin/plugins
REF_PLUGINS := main/bridge main/ptp main/macvlan main/ipvlan main/dummy \
	ipam/host-local ipam/static meta/portmap meta/tuning meta/bandwidth
TEST_PLUGINS := noop sleep

GO ?= go
# Fuzz budgets are execution counts, not durations: with a duration, Go
# 1.26's fuzz coordinator can report a spurious "context deadline exceeded"
# when time runs out mid-execution (go.dev/issue/75804), which would turn CI
# red with no crashing input. Each budget is about 10 s on this machine.
# FUZZTIME=30s (or =N x) overrides them all for a local run.
FUZZ_BUDGETS := FuzzLoadConf=10000x FuzzRuntimeConf=200000x
FUZZ_DEFAULT_BUDGET := 20000x
FUZZTIME ?=

.PHONY: all api build plugins test test-crio test-unit test-e2e fuzz bench bench-peers chaos demo deps vet clean

all: build

build:
	$(GO) build ./...

# api regenerates the snapshot of the public API (api/ocicni.txt) that
# make test checks. Run it after changing the API on purpose, and commit it.
api:
	$(GO) test ./api -run '^TestAPI$$' -count=1 -update

vet:
	$(GO) vet ./...
	cd test/peers && $(GO) vet .

# Plugins are built with GOFLAGS=-mod=mod because the module copies carry no
# vendor folder; the stamp file makes a version bump rebuild them. The
# purpose-built test plugins under internal/testplugins are part of this
# module, so they are rebuilt every time (the build cache makes that cheap).
plugins: $(PLUGIN_DIR)/.stamp-$(PLUGINS_VERSION)-$(CNI_VERSION)
	GOBIN=$(PLUGIN_DIR) $(GO) install ./internal/testplugins/...

$(PLUGIN_DIR)/.stamp-$(PLUGINS_VERSION)-$(CNI_VERSION):
	mkdir -p $(PLUGIN_DIR)
	GOBIN=$(PLUGIN_DIR) GOFLAGS=-mod=mod $(GO) install \
		$(addprefix github.com/containernetworking/plugins/plugins/,$(addsuffix @$(PLUGINS_VERSION),$(REF_PLUGINS)))
	GOBIN=$(PLUGIN_DIR) GOFLAGS=-mod=mod $(GO) install \
		$(addprefix github.com/containernetworking/cni/plugins/test/,$(addsuffix @$(CNI_VERSION),$(TEST_PLUGINS)))
	rm -f $(PLUGIN_DIR)/.stamp-*
	touch $@

# test runs everything CI runs: unit tests, end-to-end tests (they skip with
# one line when not root), every benchmark once, and a short run of every
# fuzz target.
test: deps plugins
	OCICNI_PLUGIN_DIR=$(PLUGIN_DIR) $(GO) test -race -count=1 -timeout 30m ./...
	@echo "benchmarks, one iteration each, so they cannot rot unnoticed"
	OCICNI_PLUGIN_DIR=$(PLUGIN_DIR) $(GO) test -run '^$$' -bench . -benchtime 1x -timeout 10m ./...
	@echo "peer comparison, two short rounds, so it cannot rot unnoticed"
	cd test/peers && $(GO) vet . && OCICNI_PLUGIN_DIR=$(PLUGIN_DIR) $(GO) run . -rounds 2 -pods 4
	$(MAKE) fuzz

# test-crio builds CRI-O from its module source (stock, and with this
# library swapped in) and runs the checks of test/crio/run.sh, CRI-O's own
# network.bats among them, inside a throwaway network and mount namespace.
# Builds are cached under bin/crio; CRIO_VERSION picks another release.
test-crio: plugins
	./test/crio/run.sh

test-unit: plugins
	OCICNI_PLUGIN_DIR=$(PLUGIN_DIR) $(GO) test -race -count=1 ./ocicni/... ./internal/... ./types/...

test-e2e: plugins
	OCICNI_PLUGIN_DIR=$(PLUGIN_DIR) $(GO) test -race -count=1 -v ./test/e2e/...

FUZZ_PKGS := ./ocicni/ ./internal/netconf/ ./ocicni/netselect/

fuzz: plugins
	@for pkg in $(FUZZ_PKGS); do \
	for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
		budget=$(FUZZ_DEFAULT_BUDGET); \
		for tb in $(FUZZ_BUDGETS); do [ "$${tb%%=*}" = "$$t" ] && budget=$${tb#*=}; done; \
		[ -n "$(FUZZTIME)" ] && budget=$(FUZZTIME); \
		echo "fuzz $$t ($$pkg) for $$budget"; \
		OCICNI_PLUGIN_DIR=$(PLUGIN_DIR) $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $$budget $$pkg || exit 1; \
	done; done

# bench-peers times this library against containerd/go-cni and raw libcni on
# real plugins (test/peers is a module of its own, so the library's go.mod
# stays lean). ROUNDS=5 for a shorter run.
ROUNDS ?= 30

bench-peers: plugins
	cd test/peers && OCICNI_PLUGIN_DIR=$(PLUGIN_DIR) $(GO) run . -rounds $(ROUNDS)

# chaos runs the seeded random tester for long (make test runs it for
# about 40 s); CHAOS_BUDGET=30m for longer, OCICNI_CHAOS_SEED=<seed> to
# replay a run (docs/testing.md).
CHAOS_BUDGET ?= 10m

chaos: deps plugins
	OCICNI_PLUGIN_DIR=$(PLUGIN_DIR) OCICNI_CHAOS_BUDGET=$(CHAOS_BUDGET) nice -n 10 \
		$(GO) test -count=1 -timeout 0 -run '^TestChaos$$' -v ./test/chaos/

bench: plugins
	OCICNI_PLUGIN_DIR=$(PLUGIN_DIR) $(GO) test -run '^$$' -bench . -benchmem ./...

demo: deps plugins
	$(GO) run ./examples/demo -plugin-dir $(PLUGIN_DIR)

# deps installs what the demo and the tests drive besides Go: unshare, ip,
# iptables and nft. It installs only as root on a machine with apt-get
# (Debian, Ubuntu); elsewhere it names what is missing and goes on, since
# the demo runs without port mapping and the tests that need a tool skip.
DEPS := unshare:util-linux ip:iproute2 iptables:iptables nft:nftables

deps:
	@need=""; \
	for d in $(DEPS); do command -v $${d%%:*} >/dev/null || need="$$need $${d#*:}"; done; \
	if [ -z "$$need" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing$$need"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq $$need; \
	else \
		echo "missing:$$need (install them as root to run everything)"; \
	fi

clean:
	rm -rf bin
