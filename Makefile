# Two promises of the README: `make demo` runs the main job on the embedded surrogates, `make test` runs the
# test suite. Both use one virtual environment, $(VENV), with one stamp file per install set: the demo set (the
# core and the extras the demo preset uses) is a subset of the test set, so `make test` after `make demo` only
# adds the difference and `make demo` after `make test` installs nothing new. Two environments would download
# and store the demo set twice.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# Bytecode is compiled once after each install ($(COMPILE), on every core) rather than by pip (one core):
# where PYTHONDONTWRITEBYTECODE is set (as on the CI machines) Python never caches what it compiles, so every
# new process - each Ray worker, each `smm-bench` a test starts - would compile Ray, numba and Optuna from
# source again (measured: the driver's imports, ray.init and 2 workers' first tasks 14.9 s -> 9.2 s; the
# 400-run grid of docs/compare.md 1.47-1.51x -> 1.55x over serial). Costs ~40 s and ~0.5 GB in the test
# environment.
PIP_INSTALL := $(PY) -m pip install -q --no-compile
# compileall's exit status is not checked: a dependency may ship a .py template that is not Python (its
# bytecode is only a cache; the module, if it is one, still imports from source).
COMPILE = $(PY) -m compileall -q -j 0 $$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])') \
	smm_plugins optuna_ext hpobench_ext synetune_ext carps_ext hposuite_ext > /dev/null || true
# What `smm-bench compare --preset demo` and `smm-bench report` import: Optuna samplers, Ray, matplotlib.
DEMO_EXTRAS ?= optuna,ray,report
TEST_EXTRAS ?= all,dev
# The test set includes torch (the lab's source training); this pin has a CPU-only build where a local wheel
# is configured, and keeps pip from resolving a newer multi-GB CUDA build otherwise.
TORCH ?= torch==2.13.0
# HPOBench is not on PyPI: the tests install it from a wheel next to the repository when there is one.
HPOBENCH_WHEEL ?= $(firstword $(wildcard ../shared/wheels/hpobench-*.whl))
OUT ?= results/demo
# pytest-xdist processes of `make test`: many tests wait on subprocesses and Ray start-up, so two processes
# halve the suite's time on 2 cores. Each test still runs in one process with its own temporary folders.
TEST_WORKERS ?= 2

.PHONY: install install-demo demo test lint check docs bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-demo: pyproject.toml Makefile | $(PY)
	$(PIP_INSTALL) -e ".[$(DEMO_EXTRAS)]"
	$(COMPILE)
	touch $@

$(VENV)/.installed-test: pyproject.toml Makefile | $(PY)
	$(PIP_INSTALL) "$(TORCH)"
	$(PIP_INSTALL) -e ".[$(TEST_EXTRAS)]"
	if [ -n "$(HPOBENCH_WHEEL)" ]; then \
	  $(PIP_INSTALL) "ConfigSpace>=1.2" numpy scipy "Pyro4==4.80" "oslo.concurrency>=4.2.0" && \
	  $(PIP_INSTALL) --no-deps --ignore-requires-python $(HPOBENCH_WHEEL); fi
	$(COMPILE)
	touch $@

install-demo: $(VENV)/.installed-demo

install: $(VENV)/.installed-test

demo: install-demo
	OMP_NUM_THREADS=1 $(VENV)/bin/smm-bench compare --preset demo --out $(OUT)
	$(VENV)/bin/smm-bench report $(OUT)

test: install
	OMP_NUM_THREADS=1 $(PY) -m pytest -q -n $(TEST_WORKERS) --durations=15

# The static checks: lint, format, types and the import contract ([tool.importlinter] in pyproject.toml).
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

# Before a push: the static checks and the fast tests (`-m "not slow"`: ~1-2 minutes on 2 free cores; the
# durations list shows a test that has grown past ~5 s and should be marked slow). CI (.ci/run) runs
# `make lint` and then `make test`, the whole suite, so that no test runs twice there.
check: lint
	OMP_NUM_THREADS=1 $(PY) -m pytest -q -n $(TEST_WORKERS) -m "not slow" -p no:cacheprovider --durations=10

# The documentation site (mkdocs.yml) into site/: the guides, the records and API pages from the docstrings,
# warnings as errors. The docs extra adds MkDocs, Material and mkdocstrings to the same environment.
$(VENV)/.installed-docs: pyproject.toml Makefile | $(PY)
	$(PIP_INSTALL) -e ".[docs]"
	touch $@

docs: $(VENV)/.installed-docs
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet

bench: install
	$(PY) benchmarks/bench_inference.py
	$(PY) benchmarks/bench_compare.py

clean:
	rm -rf $(VENV) results .pytest_cache site
