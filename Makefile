# Peyvand CRM. Two commands from a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
FLASK := $(BIN)/flask --app wsgi

.PHONY: install run test lint audit translations bench clean

install: $(VENV)/.installed translations  ## idempotent: venv, dependencies, compiled translations

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

translations: $(VENV)/.installed
	$(BIN)/pybabel -q compile --use-fuzzy -d translations -D messages

run: install  ## migrate, load demo data, serve on 127.0.0.1:$(PORT)
	$(FLASK) crm init
	$(FLASK) crm demo
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

test: install  ## the whole suite (set CRM_TEST_DATABASE_URL / CRM_TEST_REDIS_URL for PostgreSQL / Redis)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .

audit: install  ## security: bandit (as the suite runs it) and pip-audit (needs PyPI's advisory service)
	$(BIN)/bandit -c pyproject.toml -r core modules -q
	$(BIN)/pip-audit --progress-spinner off

extract: install  ## refresh the message catalogs from the source
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -w 100 -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations -D messages -w 100 --no-fuzzy-matching

clean:
	rm -rf $(VENV) instance .pytest_cache
