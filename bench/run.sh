#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Benchmarks of iomapctl against its peers, run in the same invocation on
# the same data, reported as ratios (absolute rates on this VM are noisy).
# Usage: [BENCH="B1 B2 B3 B4 B5"] [RUNS=3] bench/run.sh [WORKDIR]
# (needs ~6 GiB free; run as root for fio)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-${TMPDIR:-/tmp}/iomapctl-bench}
runs=${RUNS:-3}
only=${BENCH:-B1 B2 B3 B4 B5}
want() { [[ " $only " == *" $1 "* ]]; }
mkdir -p "$work"
cd "$work"

build=$top/build-bench
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null
iomapctl=$build/cmd/iomapctl
mkfrag=$build/bench/mkfrag
maploop=$build/bench/maploop

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

if [ ! -f data.img ] && [ "$only" != B3 ]; then
	echo "making test data (1 GiB file, fragmented files) ..."
	head -c 1G /dev/urandom >big.src
	truncate -s 4G data.img
	mke2fs -q -t ext4 -F data.img
	debugfs -w -R 'write big.src big' data.img >/dev/null 2>&1
	# frag16 first: frag's every-other-block pattern would cut its runs.
	"$mkfrag" data.img frag16 262144 32 16  # 16,384 extents of 64 KiB
	"$mkfrag" data.img frag 262144 2 1      # 262,144 one-block extents
	# 256 MiB with 32,768 data extents and as many holes, on the host...
	head -c 256M /dev/urandom >holey.src
	for ((b = 1; b < 65536; b += 2)); do echo "fpunch $((b * 4096)) 4096"; done |
		xfs_io holey.src >/dev/null
	# ...and copied into the image with its holes.
	"$iomapctl" cp holey.src data.img:/holey
	e2fsck -fn data.img >/dev/null
fi
: >"$work/times"

if want B2; then
echo "== B2: mapping a 1 GiB file (fiemap, output to /dev/null), min / median s"
for f in big frag16 frag; do
	time_cmd "iomap:$f" "$iomapctl" fiemap "data.img:/$f" | tee -a "$work/times"
	time_cmd "bh:$f" "$iomapctl" --mapper=bh fiemap "data.img:/$f" | tee -a "$work/times"
	time_cmd "debugfs-ex:$f" debugfs -R "ex /$f" data.img | tee -a "$work/times"
done
# The engine's own count and clock, without process start and printing.
for f in big frag16 frag; do
	"$iomapctl" compare --op fiemap --json "data.img:/$f" | python3 -c '
import json, sys
r = json.load(sys.stdin); i, b = r["iomap"], r["bh"]
print("%s: mapping calls iomap %d, bh %d; mapping time iomap %.4f s, bh %.4f s (%.0fx); same result: %s"
      % (sys.argv[1], i["map_calls"], b["map_calls"], i["seconds"], b["seconds"],
         b["seconds"] / max(i["seconds"], 1e-9), r["same_result"]))' "$f"
done
# The loop alone: a mapping source that answers at once, every block its
# own extent (as /frag), so the rest of the per-mapping cost is the adapter's.
"$maploop"
for f in big frag16 frag; do
	echo "$f: bh/iomap = $(ratio "bh:$f" "iomap:$f")x," \
		"iomap vs debugfs ex = $(ratio "iomap:$f" "debugfs-ex:$f")x the time"
done
fi

# Copies go to tmpfs: the VM's disk writeback would otherwise decide the
# result for every tool alike (see ../shared/docs/performance.md).
out=$(mktemp -d /dev/shm/iomapctl-bench-XXXXXX)
trap 'rm -rf "$out"' EXIT
copy_out() { rm -f "$out/o"; "$@"; }

if want B1; then
echo
echo "== B1: copy-out of the 1 GiB contiguous file to tmpfs, min / median s"
for io in direct buffered dax; do
	time_cmd "cp-$io" copy_out "$iomapctl" --io=$io cp "data.img:/big" "$out/o" | tee -a "$work/times"
done
time_cmd "cp-direct-bh" copy_out "$iomapctl" --io=direct --mapper=bh cp "data.img:/big" "$out/o" | tee -a "$work/times"
time_cmd "debugfs-dump" copy_out debugfs -R "dump /big $out/o" data.img | tee -a "$work/times"
big_off=$(debugfs -R 'ex /big' data.img 2>/dev/null | awk 'NR == 2 { print $8 }')
if command -v fio >/dev/null; then
	time_cmd "fio-read-qd8" fio --name=roof --filename=data.img --rw=read --bs=1M \
		--direct=1 --ioengine=io_uring --iodepth=8 --size=1G \
		--offset=$((big_off * 4096)) | tee -a "$work/times"
fi
for io in direct buffered dax; do
	echo "cp --io=$io: $(ratio debugfs-dump "cp-$io")x faster than debugfs dump"
done
echo "cp --io=direct: $(ratio cp-direct-bh cp-direct)x faster than its bh emulation"
[ -n "$(med fio-read-qd8)" ] &&
	echo "cp --io=direct reaches $(echo "scale=2; $(med fio-read-qd8) / $(med cp-direct)" | bc -l)x of fio O_DIRECT QD8 read"

fi

if want B3; then
echo
echo "== B3: tree copy-out of many small files to tmpfs, min / median s"
if [ ! -f small.img ]; then
	# 10,000 files of 4 KiB in 10 directories.
	rm -rf small.src && mkdir small.src
	for ((d = 0; d < 10; d++)); do
		mkdir small.src/d$d
		for ((f = 0; f < 1000; f++)); do
			head -c 4096 /dev/urandom >small.src/d$d/f$f
		done
	done
	mke2fs -q -t ext4 -F -N 20000 -d small.src small.img 128M
fi
# 47,616 (empty) files in one directory: e2fsprogs' f_h_normal image.
corpus=$top/../shared/corpus/e2fsprogs-test-images
[ -f huge.img ] || { [ -f "$corpus/f_h_normal.img.gz" ] &&
	zcat "$corpus/f_h_normal.img.gz" >huge.img; } || true
copy_tree() { rm -rf "$out/t"; mkdir "$out/t"; "$@"; }
for img in small huge; do
	[ -f $img.img ] || continue
	time_cmd "cp-r-$img" copy_tree "$iomapctl" cp -r "$img.img:/" "$out/t/x" | tee -a "$work/times"
	time_cmd "rdump-$img" copy_tree debugfs -R "rdump / $out/t" $img.img | tee -a "$work/times"
done
copy_tree "$iomapctl" cp -r small.img:/ "$out/t/x"
diff -r small.src "$out/t/x" -x lost+found >/dev/null && echo "small: copy identical to the source"
for img in small huge; do
	[ -n "$(med "cp-r-$img")" ] &&
		echo "$img: cp -r copies $(ratio "rdump-$img" "cp-r-$img")x the files per second of debugfs rdump"
done
fi

if want B4; then
echo
echo "== B4: sparse file (256 MiB, 32,768 extents): copy-out and seek enumeration"
time_cmd "cp-sparse" copy_out "$iomapctl" cp "data.img:/holey" "$out/o" | tee -a "$work/times"
time_cmd "debugfs-dump-sparse" copy_out debugfs -R "dump /holey $out/o" data.img | tee -a "$work/times"
copy_out "$iomapctl" cp "data.img:/holey" "$out/o"
cmp "$out/o" holey.src
echo "allocated KiB: source $(du -k holey.src | cut -f1), iomapctl copy $(du -k "$out/o" | cut -f1)"
time_cmd "seek-image" "$iomapctl" seek -a -r "data.img:/holey" 0 | tee -a "$work/times"
time_cmd "seek-xfs_io-host" xfs_io -c "seek -a -r 0" holey.src | tee -a "$work/times"
echo "sparse copy: $(ratio debugfs-dump-sparse cp-sparse)x faster than debugfs dump"
echo "seek -a -r in the image takes $(ratio seek-image seek-xfs_io-host)x the time of xfs_io on the host file"

fi

if want B5; then
echo
echo "== B5: copy-in of 1 GiB into a fresh 2 GiB ext4 image (tmpfs)"
copy_in() { rm -f "$out/in.img"; truncate -s 2G "$out/in.img"; mke2fs -q -t ext4 -F "$out/in.img"; "$@"; }
for io in direct buffered; do
	time_cmd "cpin-$io" copy_in "$iomapctl" --io=$io cp big.src "$out/in.img:/big" | tee -a "$work/times"
done
time_cmd "debugfs-write" copy_in debugfs -w -R "write big.src big" "$out/in.img" | tee -a "$work/times"
copy_in "$iomapctl" --io=direct cp big.src "$out/in.img:/big"
e2fsck -fn "$out/in.img" >/dev/null && echo "e2fsck -fn: clean"
echo "extents after copy-in: $(debugfs -R 'ex /big' "$out/in.img" 2>/dev/null | awk 'NR > 1 && $1 ~ /^[0-9]/ { n++ } END { print n }') rows of debugfs ex"
for io in direct buffered; do
	echo "copy-in --io=$io: $(ratio debugfs-write "cpin-$io")x faster than debugfs write"
done
fi
