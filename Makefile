# The two commands for a fresh machine:
#   make demo   set everything up, start insight on the embedded default and upload sample calls
#   make test   set everything up and run the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test install models system-deps stop lint clean

install: $(STAMP)

# CPU torch goes in first and alone: a plain `torch` requirement pulled in later would otherwise fetch a
# multi-GB CUDA build.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/pip install --quiet --no-deps resemblyzer==0.1.4
	$(BIN)/pip install --quiet --no-deps bertopic==0.17.4
	touch $(STAMP)

# Optional system packages, installed with apt when it is usable: espeak-ng (English sample calls; without it they are
# skipped with a note), chromium and fonts-noto-cjk (the browser tests, which are skipped without them).
SYSTEM_PACKAGES := espeak-ng chromium
system-deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do command -v $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || dpkg -s fonts-noto-cjk >/dev/null 2>&1 \
	  || missing="$$missing fonts-noto-cjk"; \
	if [ -n "$$missing" ]; then \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = "0" ]; then \
	    echo "installing$$missing"; \
	    apt-get install -y --no-install-recommends $$missing >/dev/null 2>&1 \
	      || (apt-get update >/dev/null 2>&1 && apt-get install -y --no-install-recommends $$missing >/dev/null 2>&1) \
	      || echo "note: could not install$$missing; English sample calls need espeak-ng, browser tests chromium"; \
	  else echo "note: not installed:$$missing (apt-get install$$missing); English sample calls need espeak-ng," \
	    "browser tests chromium and fonts-noto-cjk"; fi; \
	fi

models: $(STAMP)
	$(BIN)/insight models install

demo: $(STAMP) system-deps models
	bash scripts/demo.sh

test: $(STAMP) system-deps models lint
	INSIGHT_TEST_MODEL_DIR=$${INSIGHT_TEST_MODEL_DIR:-$(CURDIR)/.insight/models} $(BIN)/python -m pytest -q

# Style, types and the import contracts in pyproject.toml (layers, repositories, domains' public modules).
lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy insight api models && $(BIN)/lint-imports

stop:
	@if [ -f .insight/server.pid ]; then kill $$(cat .insight/server.pid) 2>/dev/null || true; rm -f .insight/server.pid; echo stopped; fi

clean: stop
	rm -rf .insight
