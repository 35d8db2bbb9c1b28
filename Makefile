PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# the awscli extra: the `aws` CLI the README's examples call, in the same venv
$(STAMP): pyproject.toml setup.py | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[awscli]'
	touch $@

# tests/test_js_sdk.py runs the AWS SDK for JavaScript v3 (tests/js/package-lock.json) under node
$(TEST_STAMP): pyproject.toml setup.py tests/js/package-lock.json | $(BIN)/python
	@command -v npm >/dev/null 2>&1 || { echo "make test needs Node.js 18+ and npm (tests/js: the AWS SDK for JavaScript v3); install them and run make again" >&2; exit 1; }
	$(BIN)/pip install --quiet -e '.[test]'
	npm ci --prefix tests/js --no-audit --no-fund --loglevel=error
	touch $@ $(STAMP)

DATA_DIR ?= .cloudtrail-emulator
PORT ?= 4566

# seed is idempotent: a second `make run` keeps the trails and history and serves them again.
# Both hold the data dir's lock in turn; CTEMU_* variables set any other serve option.
run: $(STAMP)
	$(BIN)/cloudtrail-emulator seed --accounts 3 --days 2 --data-dir $(DATA_DIR)
	$(BIN)/cloudtrail-emulator serve --host 127.0.0.1 --port $(PORT) --data-dir $(DATA_DIR)

test: $(TEST_STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile -q -m "not slow"

bench: $(STAMP)
	$(BIN)/python bench/generate_bench.py

clean:
	rm -rf $(VENV) .cloudtrail-emulator tests/js/node_modules
