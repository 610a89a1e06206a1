# Two promises of the README: `make demo` runs the main job on the embedded surrogates,
# `make test` runs the test suite. Each creates its own virtual environment and installs what it needs.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# HPOBench is not on PyPI: install it from a wheel or checkout when one is at hand.
HPOBENCH_WHEEL ?= $(firstword $(wildcard ../shared/wheels/hpobench-*.whl /work/shared/wheels/hpobench-*.whl))
OUT ?= results/demo

.PHONY: install demo test bench clean

$(VENV)/.installed: pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	# A CPU build of torch first, so that the `lab` extra's range is satisfied without a CUDA download.
	$(PIP) install -q "torch==2.13.0" || $(PIP) install -q torch --index-url https://download.pytorch.org/whl/cpu
	$(PIP) install -q -e ".[all,dev]"
	if [ -n "$(HPOBENCH_WHEEL)" ]; then \
	  $(PIP) install -q "ConfigSpace>=1.2" numpy scipy "Pyro4==4.80" "oslo.concurrency>=4.2.0" && \
	  $(PIP) install -q --no-deps --ignore-requires-python $(HPOBENCH_WHEEL); fi
	touch $@

install: $(VENV)/.installed

demo: install
	OMP_NUM_THREADS=1 $(VENV)/bin/smm-bench compare --preset demo --out $(OUT)
	$(VENV)/bin/smm-bench report $(OUT)

test: install
	OMP_NUM_THREADS=1 $(PY) -m pytest -q

bench: install
	$(PY) benchmarks/bench_inference.py
	$(PY) benchmarks/bench_compare.py

clean:
	rm -rf $(VENV) results .pytest_cache
