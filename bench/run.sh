#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Benchmarks of iomapctl against its peers, run in the same invocation on
# the same data, reported as ratios (absolute rates on this VM are noisy).
# Usage: [BENCH="B1 B2 B3 B4 B5 B6 B7 B7H B8 DAX REREAD PLOTS"] [RUNS=3] bench/run.sh [WORKDIR]
# (needs ~6 GiB free; run as root for fio, B6 mounts and drops the guest cache)
# The default runs every section but B6 (fio through FUSE mounts, 7 minutes)
# and B7H (migrate of 47,616 names in one directory against mke2fs -d,
# which takes minutes there): no target of issue 12 rests on them, and
# issue 12 asks for all its ratios in one command under 15 minutes.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-${TMPDIR:-/tmp}/iomapctl-bench}
runs=${RUNS:-3}
only=${BENCH:-B1 B2 B3 B4 B5 DAX REREAD PLOTS B7 B8}
want() { [[ " $only " == *" $1 "* ]]; }
mkdir -p "$work"
cd "$work"
run_t0=$(date +%s.%N)

# Each section's wall time (making its data included), for the summary.
: >"$work/sections"
section=
since() { echo "$(date +%s.%N) - $1" | bc -l; }
end_section() {
	[ -n "$section" ] || return 0
	printf '%s %.0f\n' "$section" "$(since "$section_t0")" >>"$work/sections"
	section=
}
# begin NAME TITLE: a section starts.
begin() {
	end_section
	section=$1 section_t0=$(date +%s.%N)
	echo
	echo "== $1: $2"
}

build=$top/build-bench
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null
iomapctl=$build/cmd/iomapctl
mkfrag=$build/bench/mkfrag
mkfrag_native=$build/bench/mkfrag-native
maploop=$build/bench/maploop
iosweep=$build/bench/iosweep
memcpyroof=$build/bench/memcpyroof
export iomapctl

# Every iomapctl command of the benchmark must stay under this resident
# memory (issue 12), whatever the sizes.
rss_max_kib=$((256 * 1024))
: >"$work/rss-all"

# time_cmd NAME [copy_* WRAPPER] CMD...: run CMD $runs times, print "NAME
# min median" seconds.  CMD may be a shell function (exported below): it
# runs under /usr/bin/time in a bash, whose peak RSS is its largest
# descendant's; a row whose command runs iomapctl fails the benchmark past
# $rss_max_kib.  A copy_* wrapper (which makes a fresh destination, then
# runs its arguments) does its part before the clock starts: a row times
# the copy, not rm of the last one's 1 GiB or mke2fs.
time_cmd() {
	local name=$1 t0 t1 i rss peak=0 prep=
	shift
	if [[ $1 == copy_* ]]; then
		prep=$1
		shift
	fi
	local times=()
	for ((i = 0; i < runs; i++)); do
		[ -z "$prep" ] || "$prep" true
		sync
		t0=$(date +%s.%N)
		/usr/bin/time -f "%M" -o "$work/rss" bash -c '"$@"' _ "$@" >/dev/null 2>&1 ||
			{ echo "$name: failed: $*" >&2; exit 1; }
		t1=$(date +%s.%N)
		times+=("$(echo "$t1 - $t0" | bc -l)")
		rss=$(tail -n 1 "$work/rss")
		((rss > peak)) && peak=$rss
	done
	if [[ " $* " == *"$iomapctl"* ]]; then
		echo "$name $peak" >>"$work/rss-all"
		if ((peak > rss_max_kib)); then
			echo "$name: peak RSS $peak KiB, over $rss_max_kib KiB" >&2
			exit 1
		fi
	fi
	printf '%s\n' "${times[@]}" | sort -g | awk -v n="$name" '
		{ t[NR] = $1 } END { printf "%-40s %9.4f %9.4f\n", n, t[1], t[int((NR + 1) / 2)] }'
}

# median NAME from the collected lines
med() { awk -v n="$1" '$1 == n { print $3 }' "$work/times"; }
ratio() { printf "%.2f" "$(echo "$(med "$1") / $(med "$2")" | bc -l)"; }

if [ ! -f data.img ] && [[ " $only " =~ " "(B1|B2|B4|B5|DAX|PLOTS)" " ]]; then
	echo "making test data (1 GiB file, fragmented files) ..."
	section=data section_t0=$(date +%s.%N)
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
	end_section
fi
: >"$work/times"
exec > >(tee "$work/log")

if want B2; then
begin B2 "mapping a 1 GiB file (fiemap, output to /dev/null), min / median s"
for f in big frag16 frag; do
	time_cmd "iomap:$f" "$iomapctl" fiemap "data.img:/$f" | tee -a "$work/times"
	# One run of the bh rows (RUNS_BH=n for more): each takes seconds
	# (minutes at load 10), and their ratio to iomap's is 14-46x, which
	# no second run changes; no target of issue 12 rests on them.
	runs_saved=$runs runs=${RUNS_BH:-1}
	time_cmd "bh:$f" "$iomapctl" --mapper=bh fiemap "data.img:/$f" | tee -a "$work/times"
	runs=$runs_saved
	time_cmd "debugfs-ex:$f" debugfs -R "ex /$f" data.img | tee -a "$work/times"
done
# The engine's own count and clock, without process start and printing
# (compare's clock includes its per-extent digest).
for f in big frag16 frag; do
	"$iomapctl" compare --op fiemap --json "data.img:/$f" | python3 -c '
import json, sys
r = json.load(sys.stdin); i, b = r["iomap"], r["bh"]
print("%s: mapping calls iomap %d, bh %d; mapping time iomap %.4f s, bh %.4f s (%.0fx); same result: %s"
      % (sys.argv[1], i["map_calls"], b["map_calls"], i["seconds"], b["seconds"],
         b["seconds"] / max(i["seconds"], 1e-9), r["same_result"]))' "$f"
done
# The mapping alone through the adapter, each mapper 5 times on a fresh
# open, CPU time beside wall time (the machine is shared).
for f in big frag16 frag; do
	"$maploop" "data.img:/$f"
done
# The loop alone: a mapping source that answers at once, every block its
# own extent (as /frag), so the rest of the per-mapping cost is the adapter's.
"$maploop"
for f in big frag16 frag; do
	echo "$f: bh/iomap = $(ratio "bh:$f" "iomap:$f")x," \
		"iomap vs debugfs ex = $(ratio "iomap:$f" "debugfs-ex:$f")x the time"
done
# Issue 13's bound: a million one-block extents map in the memory of a
# hundred thousand (peak RSS of the whole command, KiB).
if [ ! -f million.img ]; then
	truncate -s 12G million.img
	mke2fs -q -t ext4 -F million.img
	"$mkfrag" million.img small 100000 2 1
	"$mkfrag" million.img big 1000000 2 1
fi
for f in small big; do
	time_cmd "iomap:million-$f" "$iomapctl" fiemap "million.img:/$f" | tee -a "$work/times"
	count=$("$iomapctl" fiemap --filefrag "million.img:/$f" | tail -n 1)
	for cmd in "fiemap" "fiemap --filefrag" "map"; do
		/usr/bin/time -f "%M" -o "$work/rss" "$iomapctl" $cmd "million.img:/$f" >/dev/null
		echo "$count: $cmd peak RSS $(cat "$work/rss") KiB"
	done
done
fi

# Copies go to tmpfs: the VM's disk writeback would otherwise decide the
# result for every tool alike (see ../shared/docs/performance.md).
out=$(mktemp -d /dev/shm/iomapctl-bench-XXXXXX)
trap 'rm -rf "$out"' EXIT
copy_out() { rm -f "$out/o"; "$@"; }
# A fresh 2 GiB ext4 image in tmpfs to copy into.
copy_in() { rm -f "$out/in.img"; truncate -s 2G "$out/in.img"; mke2fs -q -t ext4 -F "$out/in.img"; "$@"; }
export out
export -f copy_out copy_in

if want B1; then
begin B1 "copy-out of the 1 GiB contiguous file to tmpfs, min / median s"
for io in direct buffered dax; do
	time_cmd "cp-$io" copy_out "$iomapctl" --io=$io cp "data.img:/big" "$out/o" | tee -a "$work/times"
done
# To a file beside the image (the VM's disk when WORKDIR is on it): the
# streamed chunks are written O_DIRECT there, reads and writes in flight.
copy_out_disk() { rm -f "$work/o.disk"; "$@"; }
export work
export -f copy_out_disk
time_cmd "cp-direct-to-workdir" copy_out_disk "$iomapctl" --io=direct cp "data.img:/big" "$work/o.disk" | tee -a "$work/times"
cmp "$work/o.disk" big.src
rm -f "$work/o.disk"
time_cmd "cp-direct-bh" copy_out "$iomapctl" --io=direct --mapper=bh cp "data.img:/big" "$out/o" | tee -a "$work/times"
time_cmd "debugfs-dump" copy_out debugfs -R "dump /big $out/o" data.img | tee -a "$work/times"
big_off=$(debugfs -R 'ex /big' data.img 2>/dev/null | awk 'NR == 2 { print $8 }')
if command -v fio >/dev/null; then
	fio_read=(fio --name=roof --filename=data.img --rw=read --bs=1M --direct=1
		--ioengine=io_uring --iodepth=8 --size=1G --offset=$((big_off * 4096)))
	time_cmd "fio-read-qd8" "${fio_read[@]}" | tee -a "$work/times"
	# fio's start takes about 0.35 s here: the stricter roof is the
	# I/O time fio reports itself, with no start counted.
	for ((i = 0; i < runs; i++)); do
		"${fio_read[@]}" --output-format=json |
			python3 -c 'import json, sys; print(json.load(sys.stdin)["jobs"][0]["read"]["runtime"] / 1000)'
	done | sort -g | awk '{ t[NR] = $1 } END { printf "%-40s %9.4f %9.4f\n", "fio-read-qd8-io", t[1], t[int((NR + 1) / 2)] }' |
		tee -a "$work/times"
	# The disk's own copy roof: fio reading the same blocks and writing
	# 1 GiB O_DIRECT beside the image at once, one job each, as the
	# copy to the workdir does.  Both share the device.
	copy_fio_disk() { rm -f "$work/fio.copy"; "$@"; }
	export -f copy_fio_disk
	time_cmd "fio-copy-roof-workdir" copy_fio_disk fio --bs=1M --direct=1 \
		--ioengine=io_uring --iodepth=8 --size=1G \
		--name=read --filename=data.img --rw=read --offset=$((big_off * 4096)) \
		--name=write --filename="$work/fio.copy" --rw=write | tee -a "$work/times"
	rm -f "$work/fio.copy"
fi
for io in direct buffered dax; do
	echo "cp --io=$io: $(ratio debugfs-dump "cp-$io")x faster than debugfs dump"
done
echo "cp --io=direct: $(ratio cp-direct-bh cp-direct)x faster than its bh emulation"
[ -n "$(med fio-read-qd8)" ] &&
	echo "cp --io=direct against fio O_DIRECT QD8 read, fio's whole command / fio's own" \
		"I/O time (its start excluded, ours not): to tmpfs $(ratio fio-read-qd8 cp-direct)x /" \
		"$(ratio fio-read-qd8-io cp-direct)x; to $work (O_DIRECT)" \
		"$(ratio fio-read-qd8 cp-direct-to-workdir)x / $(ratio fio-read-qd8-io cp-direct-to-workdir)x;" \
		"to $work, $(ratio fio-copy-roof-workdir cp-direct-to-workdir)x of fio reading and" \
		"writing the same bytes there at once"

fi

# The trees of B3 and B7, each made once.  small.img: 10,000 files of
# 4 KiB in 10 directories (made in one process: a `head` per file took two
# minutes).  huge.img: e2fsprogs' f_h_normal, 47,616 empty files in one
# directory.
corpus=$top/../shared/corpus/e2fsprogs-test-images
make_small() {
	[ ! -f small.img ] || return 0
	rm -rf small.src
	python3 -c '
import os
for d in range(10):
    os.makedirs("small.src/d%d" % d)
    for f in range(1000):
        with open("small.src/d%d/f%d" % (d, f), "wb") as o:
            o.write(os.urandom(4096))'
	mke2fs -q -t ext4 -F -N 20000 -d small.src small.img 128M
}
make_huge() {
	[ -f huge.img ] || { [ -f "$corpus/f_h_normal.img.gz" ] &&
		zcat "$corpus/f_h_normal.img.gz" >huge.img; } || true
}
# The tree images are read from tmpfs, as the copies write there: from the
# VM's disk our O_DIRECT reads of small files met the other developers' I/O
# while debugfs read the host's page cache (migrate of small 2.2-2.8 s from
# the disk, 0.8 s from tmpfs).  Prints the copy's path.
tree_img() {
	[ -f "$out/$1.img" ] || cp --sparse=always "$1.img" "$out/$1.img"
	echo "$out/$1.img"
}

if want B3; then
begin B3 "tree copy-out of many small files to tmpfs, min / median s"
make_small
make_huge
# The last copy is moved aside, not removed, inside the timed command:
# removing 47,616 files took as long as a tool's whole copy.
copy_tree() {
	[ ! -e "$out/t" ] || mv "$out/t" "$(mktemp -u "$out/old.XXXXXX")"
	mkdir "$out/t"
	"$@"
}
export -f copy_tree
for img in small huge; do
	[ -f $img.img ] || continue
	src=$(tree_img $img)
	time_cmd "cp-r-$img" copy_tree "$iomapctl" cp -r "$src:/" "$out/t/x" | tee -a "$work/times"
	time_cmd "rdump-$img" copy_tree debugfs -R "rdump / $out/t" "$src" | tee -a "$work/times"
done
rm -rf "$out"/old.*
copy_tree "$iomapctl" cp -r "$out/small.img:/" "$out/t/x"
diff -r small.src "$out/t/x" -x lost+found >/dev/null && echo "small: copy identical to the source"
for img in small huge; do
	[ -n "$(med "cp-r-$img")" ] &&
		echo "$img: cp -r copies $(ratio "rdump-$img" "cp-r-$img")x the files per second of debugfs rdump"
done
fi

if want B4; then
begin B4 "sparse file (256 MiB, 32,768 extents): copy-out and seek enumeration"
time_cmd "cp-sparse" copy_out "$iomapctl" cp "data.img:/holey" "$out/o" | tee -a "$work/times"
time_cmd "debugfs-dump-sparse" copy_out debugfs -R "dump /holey $out/o" data.img | tee -a "$work/times"
copy_out "$iomapctl" cp "data.img:/holey" "$out/o"
cmp "$out/o" holey.src
echo "allocated KiB: source $(du -k holey.src | cut -f1), iomapctl copy $(du -k "$out/o" | cut -f1)"
time_cmd "seek-image" "$iomapctl" seek -a -r "data.img:/holey" 0 | tee -a "$work/times"
time_cmd "seek-xfs_io-host" xfs_io -c "seek -a -r 0" holey.src | tee -a "$work/times"
echo "sparse copy: $(ratio debugfs-dump-sparse cp-sparse)x faster than debugfs dump"
echo "seek -a -r in the image takes $(ratio seek-image seek-xfs_io-host)x the time of xfs_io on the host file"

# 256 MiB with 1 MiB of data every 8 MiB, made on the host and copied in
# with its holes (added to an older data.img when missing).
if ! debugfs -R "stat /every8" data.img 2>/dev/null | grep -q Inode; then
	rm -f every8.src && truncate -s 256M every8.src
	for ((m = 0; m < 256; m += 8)); do
		head -c 1M /dev/urandom | dd of=every8.src bs=1M seek=$m conv=notrunc status=none
	done
	"$iomapctl" cp every8.src data.img:/every8
fi
time_cmd "cp-every8" copy_out "$iomapctl" cp "data.img:/every8" "$out/o" | tee -a "$work/times"
time_cmd "debugfs-dump-every8" copy_out debugfs -R "dump /every8 $out/o" data.img | tee -a "$work/times"
copy_out "$iomapctl" cp "data.img:/every8" "$out/o"
cmp "$out/o" every8.src
echo "every8 allocated KiB: source $(du -k every8.src | cut -f1), iomapctl copy $(du -k "$out/o" | cut -f1)"
echo "every8 copy: $(ratio debugfs-dump-every8 cp-every8)x faster than debugfs dump"

# 10 GiB with 1 % of data (1 MiB every 100 MiB) against a file of the same
# data packed together: a copy proportional to the data takes the same.
if [ ! -f ten.img ]; then
	rm -f ten.src dense.src && truncate -s 10G ten.src
	for ((m = 0; m < 10240; m += 100)); do
		head -c 1M /dev/urandom | tee -a dense.src |
			dd of=ten.src bs=1M seek=$m conv=notrunc status=none
	done
	truncate -s 12G ten.img && mke2fs -q -t ext4 -F ten.img
	"$iomapctl" cp ten.src ten.img:/sparse10g
	"$iomapctl" cp dense.src ten.img:/dense
fi
time_cmd "cp-10g-1pct" copy_out "$iomapctl" cp "ten.img:/sparse10g" "$out/o" | tee -a "$work/times"
time_cmd "cp-dense-same-data" copy_out "$iomapctl" cp "ten.img:/dense" "$out/o" | tee -a "$work/times"
copy_out "$iomapctl" cp "ten.img:/sparse10g" "$out/o"
# The data runs compared (cmp would read 10 GiB of holes).
python3 -c '
import sys
a, b = open(sys.argv[1], "rb"), open(sys.argv[2], "rb")
for m in range(0, 10240, 100):
    a.seek(m << 20); b.seek(m << 20)
    assert a.read(1 << 20) == b.read(1 << 20), "run at %d MiB differs" % m
assert a.seek(0, 2) == b.seek(0, 2), "sizes differ"' "$out/o" ten.src
echo "10 GiB, 1 % data: allocated KiB source $(du -k ten.src | cut -f1), copy $(du -k "$out/o" | cut -f1);" \
	"takes $(ratio cp-10g-1pct cp-dense-same-data)x the time of the same data packed in one file"

fi

if want B5; then
begin B5 "copy-in of 1 GiB into a fresh 2 GiB ext4 image (tmpfs)"
for io in direct buffered; do
	time_cmd "cpin-$io" copy_in "$iomapctl" --io=$io cp big.src "$out/in.img:/big" | tee -a "$work/times"
done
time_cmd "debugfs-write" copy_in debugfs -w -R "write big.src big" "$out/in.img" | tee -a "$work/times"
# The roof: fio writing 1 GiB with O_DIRECT beside where the image lives.
copy_fio() { rm -f "$out/fio.w"; "$@"; }
fio_write() {
	fio "$@" --name=roof --filename="$out/fio.w" --rw=write --bs=1M --direct=1 \
		--ioengine=io_uring --iodepth=8 --size=1G --end_fsync=1
}
export -f copy_fio fio_write
if command -v fio >/dev/null; then
	time_cmd "fio-write-qd8" copy_fio fio_write | tee -a "$work/times"
	# As in B1: the stricter roof is fio's own I/O time, its start not counted.
	for ((i = 0; i < runs; i++)); do
		copy_fio fio_write --output-format=json |
			python3 -c 'import json, sys; print(json.load(sys.stdin)["jobs"][0]["write"]["runtime"] / 1000)'
	done | sort -g | awk '{ t[NR] = $1 } END { printf "%-40s %9.4f %9.4f\n", "fio-write-qd8-io", t[1], t[int((NR + 1) / 2)] }' |
		tee -a "$work/times"
fi
rm -f "$out/fio.w"
# A fresh native image (its copy-in speed is the native adapter's).
copy_in_native() { rm -f "$out/in.nat"; "$iomapctl" mkfs --size 2G "$out/in.nat" >/dev/null; "$@"; }
export -f copy_in_native
for io in direct buffered; do
	time_cmd "cpin-native-$io" copy_in_native "$iomapctl" --io=$io cp big.src "$out/in.nat:/big" | tee -a "$work/times"
done
for io in direct buffered; do
	copy_in "$iomapctl" --io=$io cp big.src "$out/in.img:/big"
	e2fsck -fn "$out/in.img" >/dev/null && echo "ext4, --io=$io: e2fsck -fn clean," \
		"$("$iomapctl" fiemap --filefrag "$out/in.img:/big" | tail -n 1)"
	cmp big.src <("$iomapctl" cat "$out/in.img:/big")
	copy_in_native "$iomapctl" --io=$io cp big.src "$out/in.nat:/big"
	"$iomapctl" fsck "$out/in.nat" >/dev/null && echo "native, --io=$io: iomapctl fsck clean," \
		"$("$iomapctl" fiemap --filefrag "$out/in.nat:/big" | tail -n 1)"
	cmp big.src <("$iomapctl" cat "$out/in.nat:/big")
done
rm -f "$out/in.img" "$out/in.nat"
for io in direct buffered; do
	echo "copy-in --io=$io: ext4 $(ratio debugfs-write "cpin-$io")x faster than debugfs write," \
		"native $(ratio debugfs-write "cpin-native-$io")x"
	[ -n "$(med fio-write-qd8)" ] &&
		echo "copy-in --io=$io reaches $(ratio fio-write-qd8 "cpin-$io")x (ext4)," \
			"$(ratio fio-write-qd8 "cpin-native-$io")x (native) of fio O_DIRECT QD8 write;" \
			"of fio's own I/O time (its start excluded, ours not)" \
			"$(ratio fio-write-qd8-io "cpin-$io")x (ext4), $(ratio fio-write-qd8-io "cpin-native-$io")x (native)"
	echo "native copy-in --io=$io: $(ratio "cpin-$io" "cpin-native-$io")x the speed of the ext4 copy-in"
done
fi

if want DAX; then
begin DAX "copy-in of 256 MiB through a libpmem2 mapping of an image in /dev/shm"
# Roof: the same bytes memcpy'd into a new file mapped shared in the same
# tmpfs, 1 MiB at a time: the same fresh pages to fault in as the image's.
# 256 MiB: on this VM each fresh page mapped costs tens of microseconds,
# which makes both about 100 MB/s.
[ -f dax.src ] || head -c 256M big.src >dax.src
copy_mc() { rm -f "$out/mc"; "$@"; }
memcpy_roof() { "$memcpyroof" dax.src "$out/mc"; }
export memcpyroof
export -f copy_mc memcpy_roof
time_cmd "cpin-dax" copy_in "$iomapctl" --io=dax cp dax.src "$out/in.img:/big" | tee -a "$work/times"
time_cmd "memcpy-roof" copy_mc memcpy_roof | tee -a "$work/times"
rm -f "$out/mc"
copy_in "$iomapctl" --io=dax cp dax.src "$out/in.img:/big"
e2fsck -fn "$out/in.img" >/dev/null && echo "e2fsck -fn: clean after the DAX copy-in"
cmp dax.src <("$iomapctl" cat "$out/in.img:/big")
rm -f "$out/in.img"
echo "copy-in --io=dax reaches $(ratio memcpy-roof cpin-dax)x of a plain memcpy of the same bytes"
fi

if want REREAD; then
begin REREAD "a file already in our page cache, read again (cat in one shell)"
# 48 MiB: a file that fits the page cache's default bound of 64 MiB.
if [ ! -f reread.img ]; then
	rm -rf reread.src && mkdir reread.src && head -c 48M /dev/urandom >reread.src/f
	mke2fs -q -t ext4 -F -d reread.src reread.img 128M
fi
# Enough rereads that they, not the first read and process start (which
# the difference of the two shells takes away), make the time.
n=100
# The shell reads its commands from stdin (-c takes at most 64).
reread_shell() { yes "cat /f" | head -n "$1" | "$2" --io=buffered shell reread.img; }
export -f reread_shell
hostfiles=()
for ((i = 0; i < n; i++)); do hostfiles+=(reread.src/f); done
# The first cat reads the image; the $n after it are the rereads.
time_cmd "shell-1-cat" reread_shell 1 "$iomapctl" | tee -a "$work/times"
time_cmd "shell-$((n + 1))-cats" reread_shell $((n + 1)) "$iomapctl" | tee -a "$work/times"
cat "${hostfiles[@]}" >/dev/null
time_cmd "host-cat-$n" cat "${hostfiles[@]}" | tee -a "$work/times"
cmp <(cat reread.src/f reread.src/f) <(reread_shell 2 "$iomapctl")
reread=$(echo "$(med "shell-$((n + 1))-cats") - $(med shell-1-cat)" | bc -l)
echo "$n rereads of 48 MiB: $(printf %.4f "$reread") s in our cache (the difference of the medians)," \
	"$(med "host-cat-$n") s by cat from the kernel's page cache:" \
	"$(printf %.2f "$(echo "$(med "host-cat-$n") / $reread" | bc -l)")x the kernel's rate"
fi

if want PLOTS; then
begin PLOTS "read rate against read size (each path and mapper), copy-out against queue depth"
plots=$top/bench/plots
mkdir -p "$plots"
"$iosweep" data.img:/big 64 >"$work/iosweep.dat"
# Copy-out of the 1 GiB file on the direct path at each queue depth.
: >"$work/qd.dat"
for qd in 1 2 4 8 16 32 64; do
	time_cmd "cp-direct-qd$qd" copy_out "$iomapctl" --io=direct --queue-depth $qd cp data.img:/big "$out/o" |
		tee -a "$work/times" | awk -v qd=$qd '{ print qd, 1073.741824 / $3 }' >>"$work/qd.dat"
done
if command -v gnuplot >/dev/null; then
	gnuplot <<GP
set terminal pngcairo size 1500,450 font ",10"
set output "$plots/read-size.png"
set multiplot layout 1,3 title "Read rate of the first 64 MiB of /big (1 GiB, 10 extents) against the size of each read, best of 3, fresh open each"
set logscale x 2
set xlabel "read size (bytes)"
set ylabel "MB/s"
set logscale y
set key top left
set format x "%.0s%cB"
do for [p in "buffered direct dax"] {
	set title p
	plot for [m in "iomap hybrid bh"] "< sort -k1,1 -k2,2 -k3,3n $work/iosweep.dat" using (strcol(1) eq p && strcol(2) eq m ? \$3 : 1/0):4 with linespoints title m
}
unset multiplot
set output "$plots/copy-qd.png"
set terminal pngcairo size 700,450 font ",10"
unset logscale y
set yrange [0:*]
unset logscale x
set logscale x 2
set format x "%g"
set title "iomapctl --io=direct cp of the 1 GiB /big to tmpfs, median of $runs"
set xlabel "--queue-depth"
set ylabel "MB/s"
plot "$work/qd.dat" using 1:2 with linespoints title "copy-out"
GP
	echo "plots: $plots/read-size.png $plots/copy-qd.png"
else
	echo "PLOTS: gnuplot missing (scripts/setup.sh installs it)" >&2
	exit 1
fi
fi

if want B6; then
begin B6 "fio through iomapctl mount, fuse2fs and the kernel's ext4 (loop), same image"
# A 2 GiB ext4 image on the work directory's disk holding /f, 512 MiB;
# every target serves the same image file in turn.
if [ ! -f fuse.img ]; then
	rm -rf fuse.src && mkdir fuse.src && head -c 512M /dev/urandom >fuse.src/f
	mke2fs -q -t ext4 -F -d fuse.src fuse.img 2G
fi
mnt=$work/mnt
mkdir -p "$mnt"
: >"$work/b6raw"
# One value per fio run: read or write MB/s, or read IOPS.
fio_one() {
	local name=$1 what=$2
	shift 2
	sync
	echo 3 >/proc/sys/vm/drop_caches # cold guest cache for every tool alike
	fio --output-format=json "$@" | python3 -c '
import json, sys
j = json.load(sys.stdin)["jobs"][0]
what = sys.argv[2]
v = j[what.split("-")[1]]["bw"] / 1024 if what.startswith("MBps") else j["read"]["iops"]
print(sys.argv[1], "%.1f" % v)' "$name" "$what" >>"$work/b6raw"
}
b6_jobs() {
	local t=$1
	fio_one "$t:seq-write-1m" MBps-write --name=w --filename="$mnt/w" --rw=write \
		--bs=1M --size=512M --direct=1 --ioengine=psync --end_fsync=1 --unlink=1
	fio_one "$t:seq-read-1m" MBps-read --name=r --filename="$mnt/f" --rw=read \
		--bs=1M --size=512M --direct=1 --ioengine=psync
	fio_one "$t:rand-read-4k-qd1" iops --name=r --filename="$mnt/f" --rw=randread \
		--bs=4k --size=512M --direct=1 --ioengine=psync --runtime=5 --time_based
	fio_one "$t:rand-read-4k-qd32" iops --name=r --filename="$mnt/f" --rw=randread \
		--bs=4k --size=512M --direct=1 --ioengine=io_uring --iodepth=32 \
		--runtime=5 --time_based
}
# The FUSE daemons run in the foreground here, so `wait` knows when they
# have written everything back after umount.
wait_mounted() {
	local i
	for ((i = 0; i < 100; i++)); do
		mountpoint -q "$mnt" && return 0
		sleep 0.1
	done
	echo "B6: $mnt did not mount" >&2
	return 1
}
b6_target() {
	local t=$1 pid= dev= i
	case $t in
	iomapctl) "$iomapctl" mount -f fuse.img "$mnt" & pid=$! ;;
	fuse2fs) fuse2fs -f fuse.img "$mnt" & pid=$! ;;
	kernel) mount -o loop fuse.img "$mnt" ;;
	kernel-dio)
		dev=$(losetup -f --show --direct-io=on fuse.img)
		mount "$dev" "$mnt" ;;
	esac
	wait_mounted
	b6_jobs "$t"
	# fio's io_uring ring lets go of its files after fio exits: the
	# first umount may find the mount busy.
	for ((i = 0; i < 50; i++)); do
		umount "$mnt" 2>/dev/null && break
		sleep 0.2
	done
	! mountpoint -q "$mnt" || umount "$mnt"
	[ -z "$pid" ] || wait "$pid"
	[ -z "$dev" ] || losetup -d "$dev"
}
targets="iomapctl fuse2fs kernel kernel-dio"
for ((r = 0; r < runs; r++)); do
	for t in $targets; do b6_target "$t"; done
done
e2fsck -fn fuse.img >/dev/null && echo "e2fsck -fn: clean after every target's writes"
# "NAME best median" as for the timed rows; higher is better here.
for t in $targets; do
	for job in seq-write-1m seq-read-1m rand-read-4k-qd1 rand-read-4k-qd32; do
		awk -v n="$t:$job" '$1 == n { print $2 }' "$work/b6raw" | sort -g |
			awk -v n="$t:$job" '{ v[NR] = $1 }
				END { printf "%-40s %9.1f %9.1f\n", n, v[NR], v[int((NR + 1) / 2)] }' |
			tee -a "$work/times"
	done
done
echo "(MB/s for seq-*, IOPS for rand-*; best / median of $runs)"
ratio2() { echo "scale=2; $(med "$1") / $(med "$2")" | bc -l; }
for job in seq-write-1m seq-read-1m rand-read-4k-qd1 rand-read-4k-qd32; do
	echo "$job: iomapctl mount $(ratio2 "iomapctl:$job" "fuse2fs:$job")x fuse2fs," \
		"$(ratio2 "iomapctl:$job" "kernel:$job")x kernel loop," \
		"$(ratio2 "iomapctl:$job" "kernel-dio:$job")x kernel loop direct-io"
done
fi

if want B7 || want B7H; then
begin B7 "migrate a tree into a new ext4 image, min / median s"
# The e2fsprogs way to move a tree between images: extract it with
# debugfs rdump, build the new image from it with mke2fs -d.  Both write
# to tmpfs, as the copies do: on the VM's disk the other developers' I/O
# decided the time (migrate of small took 39-46 s there, 1 s here).
# (iomapctl is an argument so that time_cmd checks its resident memory.)
b7_migrate() { rm -f "$out/b7.img"; "$1" migrate --type ext4 "$2" "$out/b7.img"; }
export -f b7_migrate
b7_peer() {
	rm -rf "$out/b7.tree" "$out/b7.img" && mkdir "$out/b7.tree" &&
		debugfs -R "rdump / $out/b7.tree" "$1" &&
		mke2fs -q -F -t ext4 -N "$2" -d "$out/b7.tree" "$out/b7.img" "$3"
}
export -f b7_peer
# b7_case NAME IMAGE INODES SIZE PEER_RUNS WHAT
b7_case() {
	local runs_all=$runs
	time_cmd "migrate-$1" b7_migrate "$iomapctl" "$2" | tee -a "$work/times"
	runs=$5
	time_cmd "rdump+mke2fs-d-$1" b7_peer "$2" "$3" "$4" | tee -a "$work/times"
	runs=$runs_all
	b7_migrate "$iomapctl" "$2" >/dev/null && e2fsck -fn "$out/b7.img" >/dev/null &&
		echo "$1: migrated image e2fsck -fn clean"
	echo "$1 ($6): migrate $(ratio "rdump+mke2fs-d-$1" "migrate-$1")x faster than rdump + mke2fs -d"
}
if want B7; then
	make_small
	b7_case small "$(tree_img small)" 20000 128M "$runs" "10,000 files in 10 directories"
	# 10,000 empty files in one directory: mke2fs -d adds each name by
	# reading the whole directory (O(n^2)), which the 47,616 names of
	# B7H make minutes; 10,000 show the same in seconds.  One peer run.
	if [ ! -f wide.img ]; then
		rm -rf wide.src && mkdir wide.src
		(cd wide.src && python3 -c '
for f in range(10000):
    open("f%05d" % f, "w").close()')
		mke2fs -q -t ext4 -F -N 12000 -d wide.src wide.img 64M
	fi
	b7_case wide "$(tree_img wide)" 12000 64M 1 "10,000 empty files in one directory"
fi
if want B7H; then
	make_huge
	[ -f huge.img ] || { echo "B7H: no $corpus/f_h_normal.img.gz" >&2; exit 1; }
	runs_b7=$runs runs=1
	b7_case huge "$(tree_img huge)" 60000 256M 1 "47,616 files in one directory, one run each"
	runs=$runs_b7
fi
rm -rf "$out/b7.tree" "$out/b7.img"
fi

if want B8; then
begin B8 "a million extents on the native format: fiemap and map, min / median s"
# /frag: 1,000,000 one-block extents, preallocated a block at a time in
# turn with /frag.gaps (so no two merge), 4 KiB blocks as the ext4 file.
if [ ! -f native-million.img ]; then
	"$iomapctl" mkfs --size 16G --block-size 4k native-million.tmp >/dev/null
	"$mkfrag_native" native-million.tmp frag 1000000
	"$iomapctl" fsck native-million.tmp >/dev/null
	mv native-million.tmp native-million.img
fi
# The ext2 adapter's peer file: /big, 1,000,000 one-block extents every
# other block (ext4's tree written whole by mkfrag).
if [ ! -f ext4-million.img ]; then
	truncate -s 12G ext4-million.tmp
	mke2fs -q -t ext4 -F ext4-million.tmp
	"$mkfrag" ext4-million.tmp big 1000000 2 1
	e2fsck -fn ext4-million.tmp >/dev/null
	mv ext4-million.tmp ext4-million.img
fi
b8_files="native:native-million.img:/frag ext2:ext4-million.img:/big"
# The two adapters' runs alternate (each command takes a fifth of a
# second, and the machine's load changes by the second): wall and CPU
# (user + system) seconds per run, then "NAME min median" of each.
: >"$work/b8raw"
for ((i = 0; i < runs * 2; i++)); do
	for f in $b8_files; do
		name=${f%%:*} file=${f#*:}
		for cmd in fiemap map; do
			t0=$(date +%s.%N)
			/usr/bin/time -f "%U %S %M" -o "$work/b8cpu" "$iomapctl" $cmd "$file" >/dev/null
			t1=$(date +%s.%N)
			echo "b8-$cmd-$name $(echo "$t1 - $t0" | bc -l)" >>"$work/b8raw"
			echo "b8-cpu-$cmd-$name $(awk '{ print $1 + $2 }' "$work/b8cpu")" >>"$work/b8raw"
			# Peak RSS, under the bound of every other row.
			rss=$(awk '{ print $3 }' "$work/b8cpu")
			echo "b8-$cmd-$name $rss" >>"$work/rss-all"
			((rss <= rss_max_kib)) ||
				{ echo "b8-$cmd-$name: peak RSS $rss KiB, over $rss_max_kib KiB" >&2; exit 1; }
		done
	done
done
for f in $b8_files; do
	for cmd in fiemap map; do
		for row in "b8-$cmd-${f%%:*}" "b8-cpu-$cmd-${f%%:*}"; do
			awk -v n="$row" '$1 == n { print $2 }' "$work/b8raw" | sort -g |
				awk -v n="$row" '{ t[NR] = $1 } END {
					printf "%-40s %9.4f %9.4f\n", n, t[1], t[int((NR + 1) / 2)] }' |
				tee -a "$work/times"
		done
	done
done
time_cmd "b8-debugfs-ex" debugfs -R "ex /big" ext4-million.img | tee -a "$work/times"
# The engine's clock of the mapping alone (no process start or printing).
for f in $b8_files; do
	"$maploop" "${f#*:}" | head -n 1
done
# Seconds per extent from the medians; a rate ratio is the other row's
# time per extent over the native one's (>= 1: native at least as fast).
per_extent() { echo "$(med "$1") / $2" | bc -l; }
rate_ratio() {
	printf %.2f "$(echo "$(per_extent "$1" "$2") / $(per_extent "$3" "$4")" | bc -l)"
}
for f in $b8_files; do
	name=${f%%:*} file=${f#*:}
	n=$("$iomapctl" fiemap --filefrag "$file" | tail -n 1 | awk '{ print $2 }')
	eval "b8_extents_$name=$n"
	for cmd in fiemap map; do
		printf '%s %s: %s extents, %.1f ns per extent (median)\n' "$name" "$cmd" "$n" \
			"$(echo "$(per_extent "b8-$cmd-$name" "$n") * 1000000000" | bc -l)"
	done
done
[ "$b8_extents_native" -ge 1000000 ] ||
	{ echo "B8: /frag has $b8_extents_native extents, not 1,000,000" >&2; exit 1; }
for cmd in fiemap map; do
	echo "B8 $cmd of 1,000,000 extents: native $(rate_ratio "b8-$cmd-ext2" "$b8_extents_ext2" \
		"b8-$cmd-native" "$b8_extents_native")x the per-extent rate of the ext2 adapter" \
		"(wall), $(rate_ratio "b8-cpu-$cmd-ext2" "$b8_extents_ext2" \
		"b8-cpu-$cmd-native" "$b8_extents_native")x (CPU)"
done
echo "B8 fiemap: native $(rate_ratio b8-debugfs-ex "$b8_extents_ext2" b8-fiemap-native \
	"$b8_extents_native")x the per-extent rate of debugfs -R ex"

# Reflink and copy-on-write: a 1 GiB file shared whole, then 1 MiB of the
# copy overwritten (each run reflinks afresh, so each write is a COW); a
# copy of the bytes (out of the image, to tmpfs: cp refuses to replace a
# file inside one, and there is no rm) is the reference.  Image in tmpfs.
"$iomapctl" mkfs --size 3G "$out/cow.img" >/dev/null
"$iomapctl" write --pattern 0x5a --length 1g "$out/cow.img:/src" 0 >/dev/null
b8_cow() { "$iomapctl" reflink "$1:/src" "$1:/dst" &&
	"$iomapctl" write --pattern 0xa5 --length 1m "$1:/dst" 512m; }
b8_copy() { "$iomapctl" cp "$1:/src" "$out/o"; }
export -f b8_cow b8_copy
time_cmd "b8-reflink-1g" "$iomapctl" reflink "$out/cow.img:/src" "$out/cow.img:/dst" | tee -a "$work/times"
time_cmd "b8-reflink+cow-1m" b8_cow "$out/cow.img" | tee -a "$work/times"
time_cmd "b8-copy-1g" copy_out b8_copy "$out/cow.img" | tee -a "$work/times"
"$iomapctl" fsck "$out/cow.img" >/dev/null && echo "reflink + COW: iomapctl fsck clean;" \
	"/dst $("$iomapctl" fiemap --filefrag "$out/cow.img:/dst" | tail -n 1 | awk '{ print $2 }') extents," \
	"$("$iomapctl" fiemap --filefrag "$out/cow.img:/dst" | grep -c shared) shared"
cmp <("$iomapctl" cat "$out/cow.img:/dst" | head -c 1m) <(head -c 1m /dev/zero | tr '\0' '\132')
echo "B8 reflink of 1 GiB: $(ratio b8-copy-1g b8-reflink-1g)x faster than copying its bytes;" \
	"reflink + COW of 1 MiB $(ratio b8-copy-1g b8-reflink+cow-1m)x"
rm -f "$out/cow.img" "$out/o"
fi

end_section
echo
echo "== summary: every ratio of this run (RUNS=$runs; load average $(cut -d' ' -f1-3 /proc/loadavg))"
grep -E '[0-9]x( |,|$)|reaches' "$work/log" | grep -v '^==' || true
echo "peak RSS of iomapctl, KiB (bound $rss_max_kib): $(sort -k2 -n "$work/rss-all" | tail -n 1)"
echo "seconds per section (with its data): $(tr '\n' ' ' <"$work/sections")"
total=$(since "$run_t0")
printf 'total elapsed: %.0f s (%d min %02d s)\n' "$total" "$((${total%.*} / 60))" "$((${total%.*} % 60))"
