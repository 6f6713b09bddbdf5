/* SPDX-License-Identifier: GPL-2.0 */
/* format.h - the on-disk structures of iomapfs, as docs/native-format.md
 * specifies them.  Every integer is little-endian; sizes are bytes unless
 * marked blocks.  Blocks are read in place through these structs, so only
 * little-endian hosts build (checked below). */
#ifndef IOMAPCTL_FSA_NATIVE_FORMAT_H
#define IOMAPCTL_FSA_NATIVE_FORMAT_H

#include <stdint.h>
#include <string.h>

/* Versions read: 1, and 2 (1 plus inline data), which an image becomes
 * when it first stores a file inline; mkfs writes 1. */
#define FSA_NATIVE_VERSION 2
#define FSA_NATIVE_VERSION_MIN 1
#define FSA_NATIVE_VERSION_INLINE 2
#define FSA_NATIVE_MIN_BLOCK 1024U
#define FSA_NATIVE_MAX_BLOCK 65536U
#define FSA_NATIVE_SB_SIZE 1024U /* bytes of block 0 the crc covers */
#define FSA_NATIVE_ROOT_INO 1ULL
#define FSA_NATIVE_RESERVE 16U /* slots of the metadata reserve */
#define FSA_NATIVE_RESERVE_LOW 8U /* refill below this many */
#define FSA_NATIVE_NAME_MAX 254U
#define FSA_NATIVE_XATTR_BYTES 448U /* name + value of one xattr */
/* Inline data: at most this many bytes, in the xattr tree at key
 * (ino | FSA_NATIVE_INLINE_KEY, 0), an xattr record with name_len 0. */
#define FSA_NATIVE_INLINE_MAX FSA_NATIVE_XATTR_BYTES
#define FSA_NATIVE_INLINE_KEY (1ULL << 63)
#define FSA_NATIVE_LABEL_MAX 63U
#define FSA_NATIVE_JOURNAL_MIN 64U /* blocks */
#define FSA_NATIVE_JOURNAL_MAX 16384U /* blocks */
#define FSA_NATIVE_MAX_LEVELS 16U /* deeper than any tree of 2^64 records */

/* Header magics, the ASCII bytes in disk order read as a u32 LE. */
#define FSA_NATIVE_MAGIC_SB 0x464d4f49U /* "IOMF" superblock */
#define FSA_NATIVE_MAGIC_NODE 0x4e545042U /* "BPTN" B+tree node */
#define FSA_NATIVE_MAGIC_JDESC 0x4353444aU /* "JDSC" journal descriptor */
#define FSA_NATIVE_MAGIC_JCOMMIT 0x544d434aU /* "JCMT" journal commit */

/* struct fsa_native_hdr - first 48 bytes of every metadata block. */
struct fsa_native_hdr {
	uint32_t magic; /* FSA_NATIVE_MAGIC_* */
	uint32_t crc; /* crc32c of the block with this field zero */
	uint64_t blkno; /* the block's own number (journal: the target) */
	uint64_t owner; /* tree id for tree nodes, 0 otherwise */
	uint8_t uuid[16]; /* the filesystem's */
	uint64_t generation; /* transaction that last wrote the block */
};
#define FSA_NATIVE_HDR_SIZE 48U

/* Trees, by index into fsa_native_sb.trees; the owner id is index + 1. */
enum fsa_native_tree_id {
	FSA_NATIVE_T_INODES = 0, /* ino -> inode record */
	FSA_NATIVE_T_EXTENTS, /* (ino, file block) -> extent record */
	FSA_NATIVE_T_DIRENTS, /* (dir, hash << 32 | seq) -> dirent record */
	FSA_NATIVE_T_FREE, /* start block -> length u64 */
	FSA_NATIVE_T_REFCOUNT, /* start block -> refcount record */
	FSA_NATIVE_T_XATTRS, /* (ino, hash << 32 | seq) -> xattr record */
	FSA_NATIVE_NR_TREES
};

/* 24 bytes: one tree's root in the superblock. */
struct fsa_native_root {
	uint64_t root; /* block number, 0 = empty tree */
	uint32_t levels; /* height: 1 = the root is a leaf, 0 = empty */
	uint32_t reserved;
	uint64_t records;
};

/* Block 0, 1024 bytes; offsets in docs/native-format.md. */
struct fsa_native_sb {
	struct fsa_native_hdr hdr; /* 0: generation = last commit */
	uint32_t version; /* 48 */
	uint32_t block_size; /* 52: bytes */
	uint64_t block_count; /* 56: blocks */
	uint64_t free_blocks; /* 64: blocks in the free tree */
	uint64_t inode_count; /* 72 */
	uint64_t next_ino; /* 80 */
	uint64_t journal_start; /* 88: block */
	uint64_t journal_blocks; /* 96: blocks */
	uint32_t reserve_count; /* 104 */
	uint32_t flags; /* 108: none defined */
	struct fsa_native_root trees[FSA_NATIVE_NR_TREES]; /* 112 */
	uint64_t reserve[FSA_NATIVE_RESERVE]; /* 256: block numbers */
	char label[64]; /* 384: NUL-padded */
	int64_t mkfs_time; /* 448: seconds */
	uint8_t pad[FSA_NATIVE_SB_SIZE - 456];
};

/* B+tree node header: the block header, then 8 bytes. */
struct fsa_native_node {
	struct fsa_native_hdr hdr;
	uint16_t level; /* 0 = leaf */
	uint16_t nrecs;
	uint32_t reserved;
	/* keys[max] then values[max] (leaf) or children[max] (internal) */
};
#define FSA_NATIVE_NODE_HDR 56U

/* Inode record, 128 bytes. */
struct fsa_native_time {
	int64_t sec;
	uint32_t nsec;
	uint32_t reserved;
};
enum {
	FSA_NATIVE_ATIME,
	FSA_NATIVE_MTIME,
	FSA_NATIVE_CTIME,
	FSA_NATIVE_CRTIME
};

struct fsa_native_inode {
	uint32_t mode;
	uint32_t nlink;
	uint32_t uid;
	uint32_t gid;
	uint32_t flags; /* FSA_NATIVE_INODE_* */
	uint32_t reserved;
	uint64_t size; /* bytes */
	uint64_t blocks; /* filesystem blocks allocated */
	uint64_t parent; /* directories: parent's ino; the root: itself */
	struct fsa_native_time times[4]; /* atime, mtime, ctime, crtime */
	uint64_t generation; /* transaction that created it */
	uint64_t reserved2;
};

/* Inode flags. */
#define FSA_NATIVE_INODE_INLINE \
	(1U << 0) /* regular file: the data is its inline record (version 2) */

/* Extent record, 16 bytes. */
#define FSA_NATIVE_EXT_UNWRITTEN (1U << 0) /* reads as zeros */
/* Extents of "inode 0" are copy-on-write staging: blocks holding data
 * not yet remapped into a file, keyed by their first disk block. */
#define FSA_NATIVE_STAGING_INO 0ULL
struct fsa_native_extent {
	uint64_t start; /* first disk block */
	uint32_t len; /* blocks */
	uint32_t flags; /* FSA_NATIVE_EXT_* */
};

/* Dirent record, 264 bytes. */
struct fsa_native_dirent {
	uint64_t ino;
	uint8_t type; /* DT_* */
	uint8_t name_len; /* 1..254 */
	char name[FSA_NATIVE_NAME_MAX]; /* no NUL */
};

/* Refcount record, 16 bytes. */
struct fsa_native_refcount {
	uint32_t len; /* blocks */
	uint32_t reserved;
	uint64_t refs; /* >= 2 */
};

/* Xattr record, 452 bytes. */
struct fsa_native_xattr {
	uint8_t name_len;
	uint8_t reserved;
	uint16_t value_len;
	uint8_t bytes[FSA_NATIVE_XATTR_BYTES]; /* name, then value */
};

/* Journal descriptor: the header, then count, then targets[count]. */
#define FSA_NATIVE_JDESC_HDR 56U
/* Journal commit: the header, then blocks u32 and data_crc u32. */

_Static_assert(sizeof(struct fsa_native_hdr) == FSA_NATIVE_HDR_SIZE, "hdr");
_Static_assert(sizeof(struct fsa_native_sb) == FSA_NATIVE_SB_SIZE, "sb");
_Static_assert(sizeof(struct fsa_native_node) == FSA_NATIVE_NODE_HDR, "node");
_Static_assert(sizeof(struct fsa_native_root) == 24, "root");
_Static_assert(sizeof(struct fsa_native_inode) == 128, "inode");
_Static_assert(sizeof(struct fsa_native_extent) == 16, "extent");
_Static_assert(sizeof(struct fsa_native_dirent) == 264, "dirent");
_Static_assert(sizeof(struct fsa_native_refcount) == 16, "refcount");
_Static_assert(sizeof(struct fsa_native_xattr) == 452, "xattr");

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "iomapfs structures are read in place: add byte swapping for this host"
#endif

#endif /* IOMAPCTL_FSA_NATIVE_FORMAT_H */
