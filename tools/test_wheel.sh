#!/usr/bin/env bash
# Install a built wheel into a fresh venv per Python 3.10-3.13 found on this machine and run tools/wheel_smoke.py
# in each; then run it under emulated CPUs (qemu-x86_64 -cpu Haswell: AVX2 without AVX-512; -cpu Nehalem: no AVX),
# so a plugin compiled for a newer CPU than it claims fails here (SIGILL) instead of on a user's machine.
#
#   tools/test_wheel.sh dist/onnx_rnn-*-manylinux*.whl     (make test-wheel builds the wheel and runs this)
#
# Pythons are looked up under $PYENV_ROOT/versions (default /root/.pyenv), then as pythonX.Y on PATH; one that
# is absent is reported as skipped, not failed. qemu-user comes from Debian (installed here when missing and root).
set -euo pipefail

wheel="$(realpath "${1:?usage: tools/test_wheel.sh WHEEL}")"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$repo/build/wheel-test"
smoke="$repo/tools/wheel_smoke.py"
pyenv_root="${PYENV_ROOT:-/root/.pyenv}"
rm -rf "$work" && mkdir -p "$work"

find_python() {  # $1 = 3.10 ...; a pyenv shim that cannot run that version does not count
    local candidate
    for candidate in $(ls -d "$pyenv_root"/versions/"$1".*/bin/"python$1" 2>/dev/null | sort -rV) \
        $(command -v "python$1" 2>/dev/null); do
        if "$candidate" -c 'import venv' >/dev/null 2>&1; then
            echo "$candidate"
            return
        fi
    done
}

tested=() skipped=()
for version in 3.10 3.11 3.12 3.13; do
    python="$(find_python "$version" || true)"
    if [[ -z "$python" ]]; then
        skipped+=("$version")
        continue
    fi
    venv="$work/py$version"
    echo "test_wheel: Python $version ($python)"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check "$wheel"
    (cd "$work" && "$venv/bin/python" "$smoke" --save "$work/cases.npz" && "$venv/bin/onnx-rnn" --version)
    tested+=("$version")
done
[[ ${#tested[@]} -gt 0 ]] || { echo "test_wheel: no Python 3.10-3.13 found" >&2; exit 1; }

if ! command -v qemu-x86_64 >/dev/null; then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
        echo "test_wheel: installing Debian's qemu-user"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user >/dev/null
    else
        echo "test_wheel: qemu-x86_64 missing (apt-get install qemu-user)" >&2
        exit 1
    fi
fi
venv="$work/py${tested[0]}"
for cpu in Haswell Nehalem; do
    echo "test_wheel: Python ${tested[0]} under qemu-x86_64 -cpu $cpu"
    (cd "$work" && qemu-x86_64 -cpu "$cpu" "$venv/bin/python" "$smoke" --load "$work/cases.npz" 2>&1 |
        grep -v "TCG doesn't support requested feature")
done
echo "test_wheel: $(basename "$wheel") passed on Python ${tested[*]}, and under qemu Haswell and Nehalem" \
    "${skipped[*]:+(not on this machine: Python ${skipped[*]})}"
