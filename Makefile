# Two commands: `make run` (set up, train if needed, start on embedded defaults) and
# `make test` (set up, then the whole suite). Everything installs into .venv/.
VENV := .venv
PY := $(VENV)/bin/python
CITIZENBOT := $(VENV)/bin/citizenbot
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2

.PHONY: run test install model chromium engines screenshots lint format bench clean

run: model
	$(CITIZENBOT) run

# The whole suite on the embedded SQLite files, then its tests that touch a database or lock
# again on the scale-out engines (every service's tables, jobs and Rasa's tracker store on
# PostgreSQL, its locks and rate limits on Redis: tests/engines.py starts throwaway servers;
# the others are deselected there, see ENGINE_FIXTURES in tests/conftest.py).
test: model chromium engines
	$(PY) -m ruff check bot actions tests bench
	$(PY) -m pytest -q -rs
	CITIZENBOT_TEST_DATABASE=postgresql $(PY) -m pytest -q -rs

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml requirements.lock .python-version
	@python=$$(scripts/find-python.sh) || exit 1; \
	  if [ ! -x $(PY) ] || ! $(PY) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))'; then \
	    echo "creating $(VENV) with $$python"; rm -rf $(VENV); "$$python" -m venv $(VENV); fi
	$(PY) -m pip install --quiet --upgrade "pip>=24" wheel
	@echo "installing dependencies (Rasa and TensorFlow: a few minutes the first time)"
	$(PY) -m pip install --quiet --progress-bar off -c requirements.lock -e ".[dev]"
	touch $@

# Trains only when config, domain, nlu/, stories/ or the NLU code changed (fingerprint).
model: install
	$(CITIZENBOT) train --if-changed

# The dashboard's browser tests drive Debian's Chromium through Playwright (never
# `playwright install`): installed here when missing and we are root, else they are skipped.
chromium:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then echo "installing Debian's chromium for the browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	    || echo "WARNING: could not install chromium: the browser tests will be skipped"; \
	else echo "note: no /usr/bin/chromium and not root: browser tests will be skipped" \
	  "(sudo apt-get install chromium)"; fi

# Screenshots of the dashboard's main pages into docs/screenshots/ (by the browser tests).
# PostgreSQL and Redis for the scale-out tests (tests/engines.py starts throwaway servers):
# Debian's packages, installed here when missing and we are root, else those tests are skipped.
engines:
	@missing=""; \
	  ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing="$$missing postgresql"; \
	  command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	  if [ -z "$$missing" ]; then :; \
	  elif [ "$$(id -u)" = 0 ]; then echo "installing Debian's$$missing for the scale-out tests"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) \
	      || echo "WARNING: could not install$$missing: the scale-out tests will be skipped"; \
	  else echo "note:$$missing missing and not root: the scale-out tests will be skipped" \
	    "(sudo apt-get install$$missing)"; fi

screenshots: model chromium
	SCREENSHOTS_DIR=docs/screenshots $(PY) -m pytest -q tests/browser

lint: install
	$(PY) -m ruff check bot actions tests bench

format: install
	$(PY) -m ruff format bot actions tests bench

bench: model
	$(PY) bench/webhook_load.py

clean:
	rm -rf $(VENV) models var .pytest_cache .ruff_cache
