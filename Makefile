# The two commands a newcomer needs: `make run` (set up and chat) and `make test`.
SHELL := /bin/bash
PY := .venv/bin/python

# Embedded defaults; override any of them from the environment.
export RASA_TELEMETRY_ENABLED := false
export RASA_PORT ?= 5005
export ACTION_PORT ?= 5055
export DATABASE_URL ?= sqlite:///var/rasa.db
export TF_CPP_MIN_LOG_LEVEL ?= 2
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: setup train serve run test lint

setup: .venv/.installed

.venv/.installed: requirements.txt constraints.txt scripts/setup
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
