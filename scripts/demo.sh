#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Install dependencies, build, make a small ext4 demo image and run the main
# job on it: probe, fiemap, map, seek, a sparse copy out, and migrate into
# the native format.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
build=${BUILD_DIR:-build-demo}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null
iomapctl=$PWD/$build/cmd/iomapctl

work=$(mktemp -d "${TMPDIR:-/tmp}/iomapctl-demo-XXXXXX")
trap 'rm -rf "$work"' EXIT
tree=$work/tree
mkdir -p "$tree/small"
# A dense file, a sparse file (1 MiB of data every 8 MiB) and small files.
python3 - "$tree" <<'PY'
import os, random, sys
root = sys.argv[1]
rnd = random.Random(42)
with open(f"{root}/dense", "wb") as f:
    f.write(rnd.randbytes(8 << 20))
with open(f"{root}/sparse", "wb") as f:
    for i in range(4):
        f.seek(i * (8 << 20))
        f.write(rnd.randbytes(1 << 20))
    f.truncate(32 << 20)
for i in range(100):
    with open(f"{root}/small/f{i:03d}", "wb") as f:
        f.write(rnd.randbytes(rnd.randrange(1, 8192)))
PY
img=$work/demo.img
mke2fs -q -t ext4 -F -d "$tree" "$img" 64M

step() {
	echo
	echo "\$ iomapctl $*"
	"$iomapctl" "$@" || echo "(exit status $?)"
}

step probe "$img"
step probe --json "$img"
step fiemap -v "$img:/sparse"
step map "$img:/dense"
step seek -a -r "$img:/sparse" 0
step cp -v "$img:/sparse" "$work/sparse.out"
if [ -f "$work/sparse.out" ]; then
	cmp "$tree/sparse" "$work/sparse.out" && echo "copy matches the source"
	echo "allocated: source $(du -k "$tree/sparse" | cut -f1) KiB," \
		"copy $(du -k "$work/sparse.out" | cut -f1) KiB"
fi
# The whole filesystem into a new native (iomapfs) image, checked.
step migrate --verify "$img" "$work/demo.native"
step ls -l "$work/demo.native:/"
