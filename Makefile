# The two commands a newcomer needs: `make run` (set up and chat) and `make test`.
SHELL := /bin/bash
PY := .venv/bin/python

# Ports, database and token come from the environment; scripts/serve holds the defaults.
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: setup train serve run test lint

setup: .venv/.installed

.venv/.installed: requirements.txt constraints.txt package-lock.json scripts/setup
	scripts/setup
	touch $@

train: setup
	$(PY) -m bot.training

# The serving contract (shared/spec/triage.md): foreground, no prompt, REST channel on
# 127.0.0.1:$RASA_PORT, HTTP API behind $RASA_AUTH_TOKEN.
serve: train
	scripts/serve

# Starts the servers in the background and opens a chat in this terminal.
run: train
	scripts/run

lint: setup
	.venv/bin/ruff check .

test: lint
	$(PY) -m pytest
