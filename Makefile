PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(STAMP)

DATA_DIR ?= .cloudtrail-emulator
PORT ?= 4566

run: $(STAMP)
	$(BIN)/cloudtrail-emulator generate --count 20000 --accounts 3 --regions us-east-1,eu-west-1 \
		--output s3://demo-cloudtrail-logs --data-dir $(DATA_DIR)
	$(BIN)/cloudtrail-emulator serve --port $(PORT) --data-dir $(DATA_DIR)

test: $(TEST_STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile -q

bench: $(STAMP)
	$(BIN)/python bench/generate_bench.py

clean:
	rm -rf $(VENV) .cloudtrail-emulator
