# The two set-up commands of README.md. Both install what they need first (scripts/bootstrap:
# .venv, Python deps, Docker images); re-running them is cheap.
#   make demo   the main job on embedded defaults
#   make test   every check CI runs: ruff, mypy, all tests (unit + integration, Docker included)

VENV := .venv
PYTEST_ARGS ?=

# What `make demo` runs. For now: the base image's self-check. When the faker and DuckDB
# connectors land, this becomes the faker -> DuckDB sync.
DEMO_CMD ?= docker run --rm ducto/base:dev

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
