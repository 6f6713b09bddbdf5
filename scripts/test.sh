#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Install dependencies, build with AddressSanitizer and UBSan, run every test,
# then a short libFuzzer run of the image fuzz target (clang).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
build=${BUILD_DIR:-build-test}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug \
	-DIOMAPCTL_SANITIZE=ON -DIOMAPCTL_WERROR=ON
cmake --build "$build" -j"$(nproc)"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
(cd "$build" && ctest --output-on-failure -j"$(nproc)")

# The image fuzz target under libFuzzer (clang), a fixed number of runs.
fuzz=${FUZZ_BUILD_DIR:-build-fuzz}
CC=clang cmake -S . -B "$fuzz" -DCMAKE_BUILD_TYPE=Debug -DIOMAPCTL_FUZZ=ON
cmake --build "$fuzz" -j"$(nproc)" --target iomapctl-fuzz iomapctl
(cd "$fuzz" && ctest --output-on-failure -R '^fuzz_(corpus|smoke)$')
