# onnx-rnn: `make demo` and `make test` each set everything up from nothing (venv, headers, C++ plugin).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
SOURCES := pyproject.toml $(shell find onnx_rnn custom_ops -type f -not -path '*/__pycache__/*' -not -path 'onnx_rnn/lib/*')
DEMO_MODEL ?= char_lstm
DEMO_DIR   := build/demo
PYTEST_ARGS ?=

.PHONY: setup demo test test-sanitize fuzz bench cuda-build clean

setup: $(STAMP)

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

# ONNX Runtime's C/C++ headers and Eigen come from Debian packages (the onnxruntime wheel ships no headers);
# the plugin is compiled by `pip install .` (scikit-build-core + CMake) into the installed package. Where nvcc
# exists, cuBLAS comes from PyPI (nvidia-cublas) and the CUDA kernel must compile (ONNX_RNN_CUDA=ON), so a CUDA
# compile error fails `make test` and CI (custom_ops/CUDA.md).
HAVE_NVCC := $(shell command -v nvcc)
$(STAMP): $(SOURCES) | $(PY)
	bash tools/fetch_ort_headers.sh
	$(PY) -m pip install -q "scikit-build-core>=0.10" cmake ninja $(if $(HAVE_NVCC),nvidia-cublas)
	CMAKE_ARGS="$(if $(HAVE_NVCC),-DONNX_RNN_CUDA=ON,-DONNX_RNN_CUDA=AUTO)" \
		$(PY) -m pip install -q --no-build-isolation ".[test]"
	touch $(STAMP)

demo: setup
	@mkdir -p $(DEMO_DIR)
	$(VENV)/bin/onnx-rnn convert models/$(DEMO_MODEL)-symbol.json models/$(DEMO_MODEL)-0000.params \
		-o $(DEMO_DIR)/$(DEMO_MODEL).onnx
	$(VENV)/bin/onnx-rnn check $(DEMO_DIR)/$(DEMO_MODEL).onnx --golden models/$(DEMO_MODEL)-io.npz

test: setup
	$(PY) -m pytest -q $(PYTEST_ARGS)

# The plugin's tests once more, against a copy built with AddressSanitizer and UndefinedBehaviorSanitizer.
test-sanitize: setup
	PYTHON=$(PY) bash tools/run_sanitized_plugin_tests.sh

# The long fuzz run (tests/fuzz/run.py): FUZZ_SECONDS per target; the plugin's node against the ASan/UBSan build.
# Findings are kept in tests/fuzz_regressions/ and replayed by `make test` (tests/fuzz/test_fuzz_short.py).
FUZZ_SECONDS ?= 1800
fuzz: setup
	$(PY) tests/fuzz/run.py --seconds $(FUZZ_SECONDS) --target params --target symbol --target attrs
	PYTHON=$(PY) bash tools/run_sanitized_plugin_tests.sh --run $(PY) tests/fuzz/run.py --seconds $(FUZZ_SECONDS) \
		--target plugin

bench: setup
	$(VENV)/bin/onnx-rnn bench

clean:
	rm -rf build $(VENV) onnx_rnn/lib
