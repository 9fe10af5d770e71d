# Two entry points: `make demo` (set up + main job) and `make test` (set up + whole test suite).
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --quiet --constraint constraints.txt
PLUGINS := $(wildcard plugins/dvae/pyproject.toml exporters/onnx/pyproject.toml)
EDITABLE := -e '.[ray,plot,test]' $(foreach p,$(PLUGINS),-e $(dir $(p)))
TEST_DIRS := tests $(wildcard plugins/dvae/tests exporters/onnx/tests)
DEMO_METHOD ?= $(if $(wildcard plugins/dvae/pyproject.toml),dvae,eszsl)

.PHONY: setup demo test lint clean

$(VENV)/.installed: pyproject.toml constraints.txt $(PLUGINS)
	python3 -m venv $(VENV)
	$(PIP) torch==2.13.0
	$(PIP) $(EDITABLE)
	touch $@

setup: $(VENV)/.installed

demo: setup
	$(VENV)/bin/zsl train --method $(DEMO_METHOD) --dataset synthetic

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: lint
	$(PY) -m pytest -q $(TEST_DIRS)

clean:
	rm -rf $(VENV) runs
