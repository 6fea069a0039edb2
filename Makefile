# The two set-up commands of README.md. Both install what they need first (scripts/bootstrap:
# .venv, Python deps, Docker images); re-running them is cheap.
#   make demo   the main job on embedded defaults
#   make test   every check CI runs: ruff, mypy, all tests (unit + integration, Docker included)

VENV := .venv
PYTEST_ARGS ?=

# What `make demo` runs: the faker -> DuckDB sync on embedded defaults.
DEMO_CMD ?= scripts/demo

.PHONY: demo test bootstrap images lint typecheck pytest

demo: bootstrap
	$(DEMO_CMD)

test: bootstrap lint typecheck pytest

bootstrap:
	scripts/bootstrap

images:
	scripts/build-images

lint: bootstrap
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: bootstrap
	$(VENV)/bin/mypy ducto
	$(VENV)/bin/mypy --strict scripts/build_images.py

pytest: bootstrap
	$(VENV)/bin/pytest $(PYTEST_ARGS)
