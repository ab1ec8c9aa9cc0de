# Tongban operator and developer entry points. Everything installs into .venv: nothing by hand.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: install demo test test-sqlite test-postgres lint bench clean messages browser

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP) messages

# Compiled translations are build output, not committed.
messages: $(STAMP)
	@cd tongban && ../$(PY) -m django compilemessages --settings=tongban.config.settings -v 0

demo: install
	$(VENV)/bin/tongban demo

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

clean:
	rm -rf $(VENV) var/test-*
