#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Seed corpus of the image fuzzer: small real images, made by mke2fs -d
# from a tree with a regular file, a sparse one, a symlink, xattrs and a
# directory big enough for an htree index; and, given the iomapctl
# binary, a native (iomapfs) image holding the same tree.
# Usage: mkcorpus.sh OUTDIR [IOMAPCTL]
set -euo pipefail
out=$1
iomapctl=${2:-}
work=$(mktemp -d "${TMPDIR:-/tmp}/iomapctl-corpus-XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$out" "$work/src/dir" "$work/src/htree"
head -c 5000 /dev/urandom >"$work/src/file"
echo small >"$work/src/tiny"
truncate -s 40k "$work/src/sparse"
printf 'data in the middle' | dd of="$work/src/sparse" bs=1 seek=20000 \
	conv=notrunc status=none
ln -s file "$work/src/link"
echo nested >"$work/src/dir/nested"
# Long names fill more than one 1 KiB block: the kernel and mke2fs index it.
for i in $(seq 1 60); do
	: >"$work/src/htree/entry-with-a-long-name-to-fill-blocks-$i"
done
mk() { # NAME TYPE SIZE [mke2fs options...]
	local name=$1 type=$2 size=$3
	shift 3
	rm -f "$out/$name"
	mke2fs -q -F -t "$type" -b 1024 -N 128 "$@" -d "$work/src" "$out/$name" "$size" \
		>/dev/null
	# The index is built by e2fsck -D, as on a real system.
	e2fsck -fyD "$out/$name" >/dev/null 2>&1 || [ $? -le 1 ]
}
mk ext2.img ext2 256k
mk ext3.img ext3 4m -J size=1
mk ext4.img ext4 512k -O ^has_journal
mk ext4-inline.img ext4 512k -O ^has_journal,inline_data -I 256
mk ext2-4k.img ext2 512k -b 4096
if [ -n "$iomapctl" ]; then
	rm -f "$out/native.img"
	"$iomapctl" -q mkfs --size 384k --block-size 1024 "$out/native.img"
	"$iomapctl" -q cp -r "$work/src/dir" "$work/src/htree" \
		"$work/src/file" "$work/src/tiny" "$work/src/sparse" \
		"$out/native.img:/"
	"$iomapctl" -q fsck "$out/native.img" >/dev/null
fi
