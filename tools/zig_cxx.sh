#!/usr/bin/env bash
# C++ compiler for the release wheel: Zig's clang with its own libc++ (linked in), targeting glibc 2.28, so the
# plugin runs on every manylinux_2_28 system whatever glibc the building machine has. Zig comes from PyPI
# (ziglang), run by $ONNX_RNN_ZIG_PYTHON (the Makefile sets it to the venv's Python).
#
# Shared libraries are linked with -z nodelete: Zig's startup files do not run __cxa_finalize when a library is
# dlclose()d, so the static destructors it registered would run from unmapped code at exit (a segfault when
# ONNX Runtime unloads the plugin before the process ends). Never unloading the library avoids that.
args=("$@")
for arg in "$@"; do
    if [[ "$arg" == "-shared" ]]; then
        args+=("-Wl,-z,nodelete")
        break
    fi
done
exec "${ONNX_RNN_ZIG_PYTHON:-python3}" -m ziglang c++ -target x86_64-linux-gnu.2.28 "${args[@]}"
