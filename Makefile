# Tongban operator and developer entry points. Everything installs into .venv: nothing by hand.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: install demo demo-single test test-sqlite test-postgres lint bench soak simulate clean messages browser

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP) messages

# Compiled translations are build output, not committed.
messages: $(STAMP)
	@cd tongban && ../$(PY) -m django compilemessages --settings=tongban.config.settings -v 0

# The demo federation: 上海 :8001, 合肥 :8002, 黄山 :8003 (Ctrl-C stops all three).
demo: install
	$(VENV)/bin/tongban demo

# One node on :8000 with every city's reference catalogue.
demo-single: install
	$(VENV)/bin/tongban demo --single

# Browser tests drive Debian's Chromium through Playwright (no browser download). Installed here
# when missing and the machine allows it; otherwise the browser tests skip and say why.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Chromium and CJK fonts from the Debian packages…"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	  else echo "Chromium is not installed and cannot be installed here: browser tests will be skipped."; fi; }

test: install browser
	$(PY) -m tests.run_all

test-sqlite: install browser
	$(PY) -m tests.run_all --db sqlite

test-postgres: install
	$(PY) -m tests.run_all --db postgres

lint: install
	$(VENV)/bin/ruff check tongban tests bench
	$(VENV)/bin/ruff format --check tongban tests bench
	$(PY) -m django makemigrations --check --dry-run --settings=tongban.config.settings

bench: install
	$(PY) -m bench.run_all

# Fault injection against real node processes: kill -9 mid-delivery, a 60 s outage.
soak: install
	TONGBAN_SOAK=1 $(PY) -m pytest tests/soak -p no:cacheprovider

# The 41 YRD city nodes on this machine, a stream of cross-city applications between them.
simulate: install
	$(PY) -m tongban.simulation

clean:
	rm -rf $(VENV) var/test-*
