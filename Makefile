# Caravan: `make run` to try it, `make test` to check it.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run setup test lint format bench migrate seed messages clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

setup: $(VENV)/.installed

migrate: setup
	$(PY) manage.py migrate --noinput

# seed_demo is idempotent; var/.seeded only saves its time on later runs.
seed: migrate
	@test -f var/.seeded || ($(PY) manage.py seed_demo && touch var/.seeded)

run: seed
	@$(PY) manage.py seed_demo --show-logins
	@echo "Caravan: http://$(HOST):$(PORT)/  (Ctrl-C stops it)"
	$(PY) manage.py runserver $(HOST):$(PORT)

test: setup
	$(PY) -m pytest -n auto $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: setup
	$(PY) bench/run.py

messages: setup
	$(PY) manage.py makemessages -l zh_Hans --no-obsolete -i ".venv/*" -i "var/*" -i "bench/*" -i "tests/*"
	$(PY) manage.py compilemessages -l zh_Hans -i ".venv/*"

clean:
	rm -rf $(VENV) var staticfiles
