#!/usr/bin/env bash
# Builds the plugin with -fsanitize=address,undefined (ONNX_RNN_SANITIZE=ON) into build/plugin-sanitize and runs
# tests/test_plugin_kernel.py and tests/test_contract.py against it. libasan must be the first DSO loaded, so it is LD_PRELOADed into the
# Python process; leak detection is off (CPython itself leaks at exit). Extra arguments go to pytest.
#   tools/run_sanitized_plugin_tests.sh [-k expr ...]      (PYTHON=... picks the interpreter)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
build="$root/build/plugin-sanitize"
python="${PYTHON:-python3}"
# a venv's interpreter: its bin/ may hold cmake and ninja (pip install cmake ninja)
[[ "$python" == */* ]] && PATH="$(cd "$(dirname "$python")" && pwd):$PATH"
cxx="${CXX:-c++}"

"$here/fetch_ort_headers.sh" >/dev/null
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
cmake -S "$root/custom_ops" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DONNX_RNN_SANITIZE=ON -DCMAKE_CXX_COMPILER="$cxx" >/dev/null
cmake --build "$build"
lib="$build/libonnx_rnn_ops.so"

asan="$("$cxx" -print-file-name=libasan.so)"
ubsan="$("$cxx" -print-file-name=libubsan.so)"
if [[ ! -e "$asan" ]]; then
    echo "run_sanitized_plugin_tests: libasan.so not found for $cxx" >&2
    exit 1
fi
preload="$asan"
[[ -e "$ubsan" ]] && preload="$preload:$ubsan"
# libstdc++ must come with the sanitizer runtime so that ASan's operator new/delete interposition is consistent
stdcxx="$("$cxx" -print-file-name=libstdc++.so.6)"
[[ -e "$stdcxx" ]] && preload="$preload:$stdcxx"

echo "run_sanitized_plugin_tests: $lib (LD_PRELOAD=$preload)"
cd "$root"
env LD_PRELOAD="$preload" \
    ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:allocator_may_return_null=1:${ASAN_OPTIONS:-}" \
    UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}" \
    ONNX_RNN_CUSTOM_OPS_LIBRARY="$lib" \
    "$python" -m pytest "$root/tests/test_plugin_kernel.py" "$root/tests/test_contract.py" -q -p no:cacheprovider "$@"
