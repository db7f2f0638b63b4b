# sanappliance: `make lab` boots an appliance, `make test` runs every test. Both set up what they need first.
PY      ?= python3
VENV    := .venv
VPY     := $(VENV)/bin/python
BUILD   := build
PYTEST  := $(VPY) -m pytest

.PHONY: all setup host-deps venv image iso lab check lint test test-vm bench clean distclean

all: check

setup: host-deps venv

host-deps:
	sh images/host-deps.sh

$(VENV)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(VPY) -m pip install --quiet --upgrade pip
	$(VPY) -m pip install --quiet -e '.[dev]'
	touch $@

venv: $(VENV)/.installed

# The lab image (root image + kernel + initrd); unchanged steps are taken from build/cache.
image: setup
	$(VPY) -m sanappliance.images build --build-dir $(BUILD) --report $(BUILD)/reports/image.json

# The live ISO (and the lab image: they share every step up to the root file system).
iso: setup
	$(VPY) -m sanappliance.images build --build-dir $(BUILD) --iso --report $(BUILD)/reports/image.json

# The main job: one appliance node (the single-node embedded default) until Ctrl-C.
lab: image
	$(VPY) -m sanappliance.lab --build-dir $(BUILD) up --nodes $(or $(NODES),1)

lint: venv
	$(VPY) -m ruff check sanappliance images targetd drbd ui tests

# Fast tests: no VMs, no root needed.
check: lint
	$(PYTEST) -q -m "not vm and not image and not browser" tests

# Every test, in two runs. First the fast tests, the image tests and the single-node VM modules on two workers (a file
# per worker: a single-node lab has one vCPU, two of them fill the host's two cores); then the two-node cluster
# package alone (its two vCPUs take both cores, and its fencing, watchdog and failover timings must not share them).
# Both runs always run; the target fails if either did.
test: iso lint
	$(PYTEST) -v --durations=25 -n 2 --dist loadfile tests --ignore=tests/vm/cluster; single=$$?; \
	$(PYTEST) -v --durations=25 tests/vm/cluster; cluster=$$?; \
	echo "single-node and fast tests: exit $$single; cluster package: exit $$cluster"; \
	test $$single -eq 0 -a $$cluster -eq 0

test-vm: iso
	$(PYTEST) -v -m vm tests

bench: image
	$(VPY) -m sanappliance.lab --build-dir $(BUILD) bench --out bench-results/lab.json
	$(VPY) -m sanappliance.lab --build-dir $(BUILD) bench-storage --out bench-results/storage.json
	$(VPY) -m sanappliance.lab --build-dir $(BUILD) bench-api --out bench-results/api.json
	$(VPY) -m sanappliance.lab --build-dir $(BUILD) bench-failover --out bench-results/failover.json

clean:
	rm -rf $(BUILD)/runs $(BUILD)/test-logs bench-results

distclean:
	rm -rf $(BUILD) $(VENV)
