#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Benchmarks of iomapctl against its peers, run in the same invocation on
# the same data, reported as ratios (absolute rates on this VM are noisy).
# Usage: bench/run.sh [WORKDIR]   (needs ~6 GiB free; run as root for fio)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-${TMPDIR:-/tmp}/iomapctl-bench}
runs=${RUNS:-3}
mkdir -p "$work"
cd "$work"

build=$top/build-bench
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null
iomapctl=$build/cmd/iomapctl
mkfrag=$build/bench/mkfrag

# time_cmd NAME CMD...: run CMD $runs times, print "NAME min median" seconds.
time_cmd() {
	local name=$1 t0 t1 i
	shift
	local times=()
	for ((i = 0; i < runs; i++)); do
		sync
		t0=$(date +%s.%N)
		"$@" >/dev/null 2>&1
		t1=$(date +%s.%N)
		times+=("$(echo "$t1 - $t0" | bc -l)")
	done
	printf '%s\n' "${times[@]}" | sort -g | awk -v n="$name" '
		{ t[NR] = $1 } END { printf "%-40s %9.4f %9.4f\n", n, t[1], t[int((NR + 1) / 2)] }'
}

# median NAME from the collected lines
med() { awk -v n="$1" '$1 == n { print $3 }' "$work/times"; }
ratio() { echo "scale=1; $(med "$1") / $(med "$2")" | bc -l; }

if [ ! -f data.img ]; then
	echo "making test data (1 GiB file, fragmented files) ..."
	head -c 1G /dev/urandom >big.src
	truncate -s 4G data.img
	mke2fs -q -t ext4 -F data.img
	debugfs -w -R 'write big.src big' data.img >/dev/null 2>&1
	# frag16 first: frag's every-other-block pattern would cut its runs.
	"$mkfrag" data.img frag16 262144 32 16  # 16,384 extents of 64 KiB
	"$mkfrag" data.img frag 262144 2 1      # 262,144 one-block extents
	e2fsck -fn data.img >/dev/null
fi
: >"$work/times"

echo "== B2: mapping a 1 GiB file (fiemap, output to /dev/null), min / median s"
for f in big frag16 frag; do
	time_cmd "iomap:$f" "$iomapctl" fiemap "data.img:/$f" | tee -a "$work/times"
	time_cmd "bh:$f" "$iomapctl" --mapper=bh fiemap "data.img:/$f" | tee -a "$work/times"
	time_cmd "debugfs-ex:$f" debugfs -R "ex /$f" data.img | tee -a "$work/times"
done
for f in big frag16 frag; do
	echo "$f: bh/iomap = $(ratio "bh:$f" "iomap:$f")x," \
		"iomap vs debugfs ex = $(ratio "iomap:$f" "debugfs-ex:$f")x the time"
done
