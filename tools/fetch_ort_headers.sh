#!/usr/bin/env bash
# Fetch the C/C++ headers the plugin build needs into DEST (default: build/ort-headers under the repo root):
#   - ONNX Runtime 1.21 C/C++ API headers  (Debian trixie: libonnxruntime-dev) -> DEST/usr/include/onnxruntime
#   - Eigen 3 (header-only GEMM library)    (Debian trixie: libeigen3-dev)      -> DEST/usr/include/eigen3
#
# The onnxruntime Python wheels ship no headers, so we take Debian's. apt-get runs with a private sources list,
# package-list directory and cache under DEST/.apt, so the machine's own apt state is never touched and no root
# is needed. Idempotent: does nothing when both header trees are already there.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
dest="${1:-$root/build/ort-headers}"
mkdir -p "$dest"
dest="$(cd "$dest" && pwd)"

suite="${ONNX_RNN_DEBIAN_SUITE:-trixie}"
mirror="${ONNX_RNN_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
keyring="/usr/share/keyrings/debian-archive-keyring.gpg"
packages=(libonnxruntime-dev libeigen3-dev)

have_all() {
    [[ -f "$dest/usr/include/onnxruntime/onnxruntime_c_api.h" ]] &&
        [[ -f "$dest/usr/include/eigen3/Eigen/Core" ]]
}

if have_all; then
    echo "fetch_ort_headers: headers already in $dest"
    exit 0
fi

command -v apt-get >/dev/null || { echo "fetch_ort_headers: apt-get not found (needs a Debian/Ubuntu machine)" >&2; exit 1; }
command -v dpkg >/dev/null || { echo "fetch_ort_headers: dpkg not found" >&2; exit 1; }
[[ -r "$keyring" ]] || { echo "fetch_ort_headers: $keyring missing (apt-get install debian-archive-keyring)" >&2; exit 1; }

apt_dir="$dest/.apt"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial" "$apt_dir/debs"
echo "deb [signed-by=$keyring] $mirror $suite main" >"$apt_dir/sources.list"

apt_opts=(
    -o "Dir::Etc::SourceList=$apt_dir/sources.list"
    -o "Dir::Etc::SourceParts=/dev/null"
    -o "Dir::State::Lists=$apt_dir/lists"
    -o "Dir::Cache=$apt_dir/cache"
    -o "Dir::Cache::archives=$apt_dir/archives"
    -o "Debug::NoLocking=1"
    -o "APT::Sandbox::User=root"
)
mkdir -p "$apt_dir/cache"

echo "fetch_ort_headers: updating a private package list for Debian $suite"
apt-get "${apt_opts[@]}" -qq update
(
    cd "$apt_dir/debs"
    for p in "${packages[@]}"; do
        if ! ls "${p}"_*.deb >/dev/null 2>&1; then
            echo "fetch_ort_headers: downloading $p"
            apt-get "${apt_opts[@]}" -qq download "$p"
        fi
    done
)
for deb in "$apt_dir"/debs/*.deb; do
    echo "fetch_ort_headers: unpacking $(basename "$deb")"
    dpkg -x "$deb" "$dest"
done

if ! have_all; then
    echo "fetch_ort_headers: unpacked, but the expected headers are not in $dest/usr/include" >&2
    exit 1
fi
echo "fetch_ort_headers: ONNX Runtime headers in $dest/usr/include/onnxruntime, Eigen in $dest/usr/include/eigen3"
