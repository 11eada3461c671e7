# Two commands: `make run` (set up, train if needed, start on embedded defaults) and
# `make test` (set up, then the whole suite). Everything installs into .venv/.
VENV := .venv
PY := $(VENV)/bin/python
CITIZENBOT := $(VENV)/bin/citizenbot
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2

.PHONY: run test install model lint format bench clean

run: model
	$(CITIZENBOT) run

test: model
	$(PY) -m ruff check bot actions tests bench
	$(PY) -m pytest -q

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

lint: install
	$(PY) -m ruff check bot actions tests bench

format: install
	$(PY) -m ruff format bot actions tests bench

bench: model
	$(PY) bench/webhook_load.py

clean:
	rm -rf $(VENV) models var .pytest_cache .ruff_cache
