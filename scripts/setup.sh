#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Install every Debian package iomapctl needs to build, test and benchmark.
# Idempotent; run as root on Debian 12.
set -euo pipefail

packages=(
	build-essential cmake pkg-config git
	liburing-dev libblkid-dev libext2fs-dev comerr-dev libpmem2-dev
	libedit-dev libcriterion-dev libfuse3-dev
	clang libclang-rt-14-dev
	e2fsprogs util-linux xfsprogs fio python3 bc fuse3 fuse2fs time gnuplot-nox
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done

if [ "${#missing[@]}" -eq 0 ]; then
	echo "setup: all ${#packages[@]} packages present"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "setup: missing packages: ${missing[*]}; run this script as root" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
