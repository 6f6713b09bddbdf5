// SPDX-License-Identifier: GPL-2.0
/* xattr.c - extended attributes of iomapfs: one record per attribute in
 * the xattr tree, keyed by the inode and a hash of the name. */
#include <errno.h>
#include <string.h>

#include "native.h"

/*
 * Attribute @name of @ino: 1 with its record in @x and key in @k; 0 when
 * absent, with in @k the key a new one would take; or -errno.
 */
static int xattr_find(struct fsa_native_fs *nfs, uint64_t ino, const char *name,
		      struct fsa_native_xattr *x, struct fsa_native_key *key)
{
	size_t len = strlen(name);
	uint64_t hash = fsa_native_name_hash(ino, name, len), seq = 0;
	struct fsa_native_key k = { { ino, hash << 32 } };
	struct fsa_native_cursor c;
	int ret;

	for (ret = fsa_native_bt_seek(&c, nfs, FSA_NATIVE_T_XATTRS, &k);
	     ret == 1; ret = fsa_native_bt_next(&c)) {
		ret = fsa_native_bt_get(&c, &k, x);
		if (ret)
			return ret;
		if (k.w[0] != ino || k.w[1] >> 32 != hash)
			break;
		if (x->name_len == len && !memcmp(x->bytes, name, len)) {
			*key = k;
			return 1;
		}
		if ((k.w[1] & 0xffffffffU) == seq)
			seq++;
	}
	if (ret < 0)
		return ret;
	*key = (struct fsa_native_key){ { ino, hash << 32 | seq } };
	return 0;
}

static int check_inode(struct fsa_native_fs *nfs, uint64_t ino)
{
	struct fsa_native_inode in;

	return fsa_native_iread(nfs, ino, &in);
}

int fsa_native_listxattr(struct fsa_fs *fs, uint64_t ino, fsa_xattr_cb cb,
			 void *priv)
{
	struct fsa_native_fs *nfs = NATIVE_FS(fs);
	struct fsa_native_key k = { { ino, 0 } };
	struct fsa_native_xattr x;
	struct fsa_native_cursor c;
	int ret = check_inode(nfs, ino);

	if (ret)
		return ret;
	for (ret = fsa_native_bt_seek(&c, nfs, FSA_NATIVE_T_XATTRS, &k);
	     ret == 1; ret = fsa_native_bt_next(&c)) {
		char name[256];

		ret = fsa_native_bt_get(&c, &k, &x);
		if (ret)
			return ret;
		if (k.w[0] != ino)
			break;
		if (!x.name_len ||
		    x.name_len + x.value_len > FSA_NATIVE_XATTR_BYTES) {
			fsa_native_report(nfs, c.blk[0],
					  "inode %llu: xattr "
					  "of %u + %u bytes",
					  (unsigned long long)ino, x.name_len,
					  x.value_len);
			return -EFSCORRUPTED;
		}
		memcpy(name, x.bytes, x.name_len);
		name[x.name_len] = '\0';
		ret = cb(name, x.bytes + x.name_len, x.value_len, priv);
		if (ret)
			return ret;
	}
	return ret < 0 ? ret : 0;
}

int fsa_native_getxattr(struct fsa_fs *fs, uint64_t ino, const char *name,
			void *buf, size_t size)
{
	struct fsa_native_fs *nfs = NATIVE_FS(fs);
	struct fsa_native_xattr x;
	struct fsa_native_key k;
	int ret = check_inode(nfs, ino);

	if (!ret)
		ret = xattr_find(nfs, ino, name, &x, &k);
	if (ret <= 0)
		return ret < 0 ? ret : -ENODATA;
	if (x.name_len + x.value_len > FSA_NATIVE_XATTR_BYTES)
		return -EFSCORRUPTED;
	if (!size)
		return x.value_len;
	if (size < x.value_len)
		return -ERANGE;
	memcpy(buf, x.bytes + x.name_len, x.value_len);
	return x.value_len;
}

int fsa_native_setxattr(struct fsa_fs *fs, uint64_t ino, const char *name,
			const void *value, size_t len)
{
	struct fsa_native_fs *nfs = NATIVE_FS(fs);
	size_t nlen = strlen(name);
	struct fsa_native_xattr x, old;
	struct fsa_native_key k;
	int ret = fsa_native_writable(nfs);

	if (!ret)
		ret = check_inode(nfs, ino);
	if (ret)
		return ret;
	if (!nlen || nlen > 255)
		return -ERANGE;
	if (nlen + len > FSA_NATIVE_XATTR_BYTES)
		return -ENOSPC;
	memset(&x, 0, sizeof(x));
	x.name_len = (uint8_t)nlen;
	x.value_len = (uint16_t)len;
	memcpy(x.bytes, name, nlen);
	if (len)
		memcpy(x.bytes + nlen, value, len);
	ret = xattr_find(nfs, ino, name, &old, &k);
	if (ret == 1)
		ret = fsa_native_bt_update(nfs, FSA_NATIVE_T_XATTRS, &k, &x);
	else if (ret == 0)
		ret = fsa_native_bt_insert(nfs, FSA_NATIVE_T_XATTRS, &k, &x);
	return ret ? ret : fsa_native_commit_if_full(nfs);
}

int fsa_native_removexattr(struct fsa_fs *fs, uint64_t ino, const char *name)
{
	struct fsa_native_fs *nfs = NATIVE_FS(fs);
	struct fsa_native_xattr x;
	struct fsa_native_key k;
	int ret = fsa_native_writable(nfs);

	if (!ret)
		ret = check_inode(nfs, ino);
	if (!ret)
		ret = xattr_find(nfs, ino, name, &x, &k);
	if (ret <= 0)
		return ret < 0 ? ret : -ENODATA;
	ret = fsa_native_bt_delete(nfs, FSA_NATIVE_T_XATTRS, &k);
	return ret ? ret : fsa_native_commit_if_full(nfs);
}

int fsa_native_xattr_drop_all(struct fsa_native_fs *nfs, uint64_t ino)
{
	for (;;) {
		struct fsa_native_key k = { { ino, 0 } };
		struct fsa_native_cursor c;
		int ret = fsa_native_bt_seek(&c, nfs, FSA_NATIVE_T_XATTRS, &k);

		if (ret <= 0)
			return ret;
		ret = fsa_native_bt_get(&c, &k, NULL);
		if (ret || k.w[0] != ino)
			return ret;
		ret = fsa_native_bt_delete(nfs, FSA_NATIVE_T_XATTRS, &k);
		if (ret)
			return ret;
	}
}
