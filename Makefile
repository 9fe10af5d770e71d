# Two entry points: `make demo` (set up + main job) and `make test` (set up + whole test suite).
VENV ?= .venv
PY := $(VENV)/bin/python
# TORCH=cpu (default): torch's CPU build. TORCH=cuda: PyPI's Linux x86_64 torch, built with
# CUDA 13.0 like onnxruntime-gpu; it pins its own CUDA/cuDNN wheels exactly, so the nvidia-*
# pins of constraints.txt are left out and torch's decide (switching: make clean setup TORCH=..).
TORCH ?= cpu
CONSTRAINTS := $(if $(filter cuda,$(TORCH)),$(VENV)/constraints-cuda.txt,constraints.txt)
CHECK_CUDA_TORCH := $(PY) -c "import sys, torch; torch.version.cuda or sys.exit('error: TORCH=cuda installed ' + torch.__version__ + ', a CPU-only torch')"
PIP := $(PY) -m pip install --quiet --constraint $(CONSTRAINTS)
PLUGINS := $(wildcard plugins/dvae/pyproject.toml exporters/onnx/pyproject.toml extractors/images/pyproject.toml serving/http/pyproject.toml)
# zsl-onnx with its gpu extra: onnxruntime-gpu's CUDA libraries (Linux x86_64; empty elsewhere).
# zsl-serve with Ray Serve and its test tools (httpx, selenium); a variable, since a comma
# inside $(if ...) would split its arguments.
SERVE_EXTRAS := [ray,test]
EDITABLE := -e '.[ray,plot,test]' \
	$(foreach p,$(PLUGINS),-e '$(patsubst %/,%,$(dir $(p)))$(if $(findstring onnx,$(p)),[gpu])$(if $(findstring serving,$(p)),$(SERVE_EXTRAS))')
TEST_DIRS := tests $(wildcard plugins/dvae/tests exporters/onnx/tests extractors/images/tests serving/http/tests)
DEMO_METHOD ?= $(if $(wildcard plugins/dvae/pyproject.toml),dvae,eszsl)

.PHONY: setup demo test lint clean

$(VENV)/.installed: pyproject.toml constraints.txt $(PLUGINS)
	python3 -m venv $(VENV)
	grep -v '^nvidia-' constraints.txt >$(VENV)/constraints-cuda.txt
	$(PIP) torch==2.13.0
	$(if $(filter cuda,$(TORCH)),$(CHECK_CUDA_TORCH))
	$(PIP) $(EDITABLE)
	touch $@

setup: $(VENV)/.installed

demo: setup
	$(VENV)/bin/zsl train --method $(DEMO_METHOD) --dataset synthetic

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

test: lint
	$(PY) -m pytest -q $(TEST_DIRS)

clean:
	rm -rf $(VENV) runs
