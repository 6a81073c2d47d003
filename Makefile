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
FUZZTIME ?= 10s

.PHONY: all build plugins test test-unit test-e2e fuzz bench demo vet clean

all: build

build:
	$(GO) build ./...

vet:
	$(GO) vet ./...

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
test: plugins
	OCICNI_PLUGIN_DIR=$(PLUGIN_DIR) $(GO) test -race -count=1 -timeout 30m ./...
	@echo "benchmarks, one iteration each, so they cannot rot unnoticed"
	OCICNI_PLUGIN_DIR=$(PLUGIN_DIR) $(GO) test -run '^$$' -bench . -benchtime 1x -timeout 10m ./...
	$(MAKE) fuzz

test-unit: plugins
	OCICNI_PLUGIN_DIR=$(PLUGIN_DIR) $(GO) test -race -count=1 ./ocicni/... ./types/...

test-e2e: plugins
	OCICNI_PLUGIN_DIR=$(PLUGIN_DIR) $(GO) test -race -count=1 -v ./test/e2e/...

fuzz: plugins
	@for t in $$($(GO) test -list '^Fuzz' ./ocicni/ | grep '^Fuzz'); do \
		echo "fuzz $$t for $(FUZZTIME)"; \
		OCICNI_PLUGIN_DIR=$(PLUGIN_DIR) $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) ./ocicni/ || exit 1; \
	done

bench: plugins
	OCICNI_PLUGIN_DIR=$(PLUGIN_DIR) $(GO) test -run '^$$' -bench . -benchmem ./...

demo: plugins
	$(GO) run ./examples/demo -plugin-dir $(PLUGIN_DIR)

clean:
	rm -rf bin
