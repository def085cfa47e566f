# Two commands for a new machine: `make demo` (the main job on the sandbox) and
# `make test` (every test). Both install what they need: Python packages into
# .venv, Debian packages (prometheus, prometheus-alertmanager, ...) with apt-get, and
# the sandbox's Kubernetes control plane, kubectl and Prometheus, built with Go from
# their Go modules into a cache outside the checkout (sandbox/kube/binaries.py).

SHELL := /bin/bash
VENV := .venv
PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: setup system-packages kube-binaries demo test lint unit integration molecule molecule-kind bench \
        sandbox-up sandbox-down sandbox-status clean

setup: $(STAMP) system-packages kube-binaries

# The first build takes about 12 minutes on 2 cores and 8.3 GB of Go caches; later
# ones find the binaries in the cache (or KUBEBUILDER_ASSETS, or PATH) at once.
kube-binaries: $(STAMP)
	$(PYTHON) -m sandbox.kube build --link $(VENV)/bin

$(STAMP): requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.txt
	touch $@

# Debian's Prometheus serves the analysis tests' recorded histories; promtool and amtool
# (prometheus-alertmanager) check the generated monitoring; nmap scans the canary's ports in the security tests; ab (apache2-utils),
# hey and wrk are the load test's optional external tools; the backups run mariadb-dump,
# mariadb (mariadb-client) and redis-check-rdb (redis-tools), tested against mariadbd
# and redis-server, which the tests start on 127.0.0.1; Chromium opens the release
# report in a test; tzdata serves the release windows' time zones; iproute2 sets up the
# sandbox's pod network namespace. Installed only when missing.
system-packages:
	@missing=""; \
	command -v prometheus >/dev/null && command -v promtool >/dev/null || missing="$$missing prometheus"; \
	command -v amtool >/dev/null && command -v prometheus-alertmanager >/dev/null || missing="$$missing prometheus-alertmanager"; \
	command -v ip >/dev/null || missing="$$missing iproute2"; \
	command -v ab >/dev/null || missing="$$missing apache2-utils"; \
	command -v hey >/dev/null || missing="$$missing hey"; \
	command -v wrk >/dev/null || missing="$$missing wrk"; \
	command -v nmap >/dev/null || missing="$$missing nmap"; \
	command -v mariadb-dump >/dev/null && command -v mariadb >/dev/null || missing="$$missing mariadb-client"; \
	command -v mariadbd >/dev/null || test -x /usr/sbin/mariadbd || missing="$$missing mariadb-server"; \
	command -v redis-check-rdb >/dev/null && command -v redis-cli >/dev/null || missing="$$missing redis-tools"; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	command -v chromium >/dev/null || missing="$$missing chromium fonts-liberation"; \
	test -d /usr/share/zoneinfo/Asia || missing="$$missing tzdata"; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

demo: setup
	$(PYTHON) -m sandbox.demo

# Unit tests on both cores (each worker starts one real kube-apiserver for the tests
# that need an API server). The integration tests one at a time: on 2 cores two sandboxes
# and their playbook runs leave each test twice as slow (measured: 38.6 min with -n 2,
# as long as serially). On a bigger machine INTEGRATION="-n 4 --dist loadfile" gives each
# worker a sandbox of its own (tests/integration/conftest.py), each file on one worker.
INTEGRATION ?=
test: setup lint
	$(PYTHON) -m pytest -n 2 --durations=15 tests/unit
	$(PYTHON) -m pytest $(INTEGRATION) --durations=25 tests/integration
	$(MAKE) molecule

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/yamllint --strict .
	$(VENV)/bin/ansible-lint --offline --profile production

unit: $(STAMP)
	$(PYTHON) -m pytest -n 2 tests/unit

integration: setup
	$(PYTHON) -m pytest $(INTEGRATION) tests/integration

molecule: setup
	cd $(CURDIR) && $(VENV)/bin/molecule test -s sandbox

# Needs Docker and kind (README, "On a real cluster"); not part of make test.
molecule-kind: setup
	cd $(CURDIR) && $(VENV)/bin/molecule test -s kind

# make bench ONLY="stage_overhead rollback_reaction" measures only those.
bench: setup
	$(PYTHON) -m bench $(ONLY)

sandbox-up: setup
	$(PYTHON) -m sandbox up

sandbox-down:
	$(PYTHON) -m sandbox down

sandbox-status:
	$(PYTHON) -m sandbox status

clean: sandbox-down
	rm -rf .sandbox .pytest_cache .ruff_cache
