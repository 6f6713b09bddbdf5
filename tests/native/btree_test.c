// SPDX-License-Identifier: GPL-2.0
/* btree_test.c - the one B+tree of iomapfs against a sorted array: random
 * inserts, updates and deletes through splits, frees and commits, then
 * ordered walks both ways and nearest-key lookups after a reopen. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "native_util.h"

static char *dir;

static void setup(void)
{
	dir = t_tmpdir();
}

static void teardown(void)
{
	t_tmpdir_remove(dir);
}

TestSuite(btree, .init = setup, .fini = teardown);

Test(btree, crc32c_is_castagnoli_and_chains)
{
	static const char nine[] = "123456789";

	cr_expect_eq(fsa_native_crc32c(0, nine, 9), 0xe3069283U);
	cr_expect_eq(fsa_native_crc32c(fsa_native_crc32c(0, nine, 4), nine + 4,
				       5),
		     0xe3069283U);
	cr_expect_eq(fsa_native_crc32c(0, "", 0), 0);
}

/* The reference: sorted keys, each with the version its value was made of. */
struct ref {
	struct fsa_native_key *keys;
	uint32_t *ver;
	size_t n;
};

static size_t ref_find(const struct ref *r, const struct fsa_native_key *k,
		       bool *found)
{
	size_t lo = 0, hi = r->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (fsa_native_key_cmp(&r->keys[mid], k) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < r->n && !fsa_native_key_cmp(&r->keys[lo], k);
	return lo;
}

static void value_of(const struct fsa_native_key *k, uint32_t ver, uint8_t *v,
		     size_t size)
{
	for (size_t i = 0; i < size; i++)
		v[i] = (uint8_t)(k->w[0] * 7 + k->w[1] * 13 + ver + i);
}

static struct fsa_native_key random_key(unsigned int tree)
{
	struct fsa_native_key k = { { (uint64_t)(rand() % 20000), 0 } };

	if (fsa_native_trees[tree].key_words == 2) {
		k.w[0] = (uint64_t)(rand() % 40);
		k.w[1] = (uint64_t)(rand() % 600) << 32 | (uint64_t)rand() % 3;
	}
	return k;
}

static void one_op(struct fsa_native_fs *nfs, unsigned int tree, struct ref *r,
		   uint32_t ver)
{
	const size_t vs = fsa_native_trees[tree].value_size;
	struct fsa_native_key k = random_key(tree);
	uint8_t v[512];
	bool found;
	size_t at = ref_find(r, &k, &found);
	int op = rand() % 10, ret;

	if (op < 6) {
		value_of(&k, ver, v, vs);
		ret = fsa_native_bt_insert(nfs, tree, &k, v);
		cr_assert_eq(ret, found ? -EEXIST : 0, "insert: %d", ret);
		if (found)
			return;
		memmove(&r->keys[at + 1], &r->keys[at],
			(r->n - at) * sizeof(*r->keys));
		memmove(&r->ver[at + 1], &r->ver[at],
			(r->n - at) * sizeof(*r->ver));
		r->keys[at] = k;
		r->ver[at] = ver;
		r->n++;
	} else if (op < 7) {
		value_of(&k, ver, v, vs);
		ret = fsa_native_bt_update(nfs, tree, &k, v);
		cr_assert_eq(ret, found ? 0 : -ENOENT, "update: %d", ret);
		if (found)
			r->ver[at] = ver;
	} else {
		/* Mostly delete keys that are there. */
		if (r->n && op < 9) {
			at = (size_t)rand() % r->n;
			k = r->keys[at];
			found = true;
		}
		ret = fsa_native_bt_delete(nfs, tree, &k);
		cr_assert_eq(ret, found ? 0 : -ENOENT, "delete: %d", ret);
		if (!found)
			return;
		memmove(&r->keys[at], &r->keys[at + 1],
			(r->n - at - 1) * sizeof(*r->keys));
		memmove(&r->ver[at], &r->ver[at + 1],
			(r->n - at - 1) * sizeof(*r->ver));
		r->n--;
	}
}

static void expect_record(const struct fsa_native_cursor *c, unsigned int tree,
			  const struct ref *r, size_t i)
{
	const size_t vs = fsa_native_trees[tree].value_size;
	struct fsa_native_key k;
	uint8_t v[512], want[512];

	cr_assert_eq(fsa_native_bt_get(c, &k, v), 0);
	cr_assert_eq(fsa_native_key_cmp(&k, &r->keys[i]), 0,
		     "record %zu: key (%llu,%llu), want (%llu,%llu)", i,
		     (unsigned long long)k.w[0], (unsigned long long)k.w[1],
		     (unsigned long long)r->keys[i].w[0],
		     (unsigned long long)r->keys[i].w[1]);
	value_of(&k, r->ver[i], want, vs);
	cr_assert_arr_eq(v, want, vs, "record %zu: value", i);
}

static void verify(struct fsa_native_fs *nfs, unsigned int tree,
		   const struct ref *r)
{
	struct fsa_native_key zero = { { 0, 0 } }, top = { { ~0ULL, ~0ULL } };
	struct fsa_native_cursor c;
	size_t i = 0;
	int ret;

	for (ret = fsa_native_bt_seek(&c, nfs, tree, &zero); ret == 1;
	     ret = fsa_native_bt_next(&c))
		expect_record(&c, tree, r, i++);
	cr_assert_eq(ret, 0);
	cr_assert_eq(i, r->n, "walked %zu records of %zu", i, r->n);
	for (ret = fsa_native_bt_seek_le(&c, nfs, tree, &top); ret == 1;
	     ret = fsa_native_bt_prev(&c))
		expect_record(&c, tree, r, --i);
	cr_assert_eq(ret, 0);
	cr_assert_eq(i, 0);
	cr_assert_eq(nfs->sb.trees[tree].records, r->n);
	for (int n = 0; n < 500; n++) {
		struct fsa_native_key k = random_key(tree);
		bool found;
		size_t at = ref_find(r, &k, &found);

		ret = fsa_native_bt_seek_le(&c, nfs, tree, &k);
		if (found || at > 0)
			expect_record(&c, tree, r, found ? at : at - 1);
		else
			cr_assert_eq(ret, 0);
	}
}

struct bt_case {
	unsigned int block_size;
	unsigned int tree;
	int ops;
};

ParameterizedTestParameters(btree, random_ops_match_a_sorted_array)
{
	static struct bt_case cases[] = {
		{ 1024, FSA_NATIVE_T_REFCOUNT, 12000 },
		{ 1024, FSA_NATIVE_T_XATTRS, 4000 },
		{ 4096, FSA_NATIVE_T_DIRENTS, 8000 },
		{ 65536, FSA_NATIVE_T_REFCOUNT, 6000 },
	};

	return cr_make_param_array(struct bt_case, cases,
				   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct bt_case *tc, btree, random_ops_match_a_sorted_array)
{
	char *img = tn_mkfs(dir, "img", 64ULL << 20, tc->block_size);
	struct fsa_native_fs *nfs = tn_open(img, true);
	struct ref r = { calloc((size_t)tc->ops, sizeof(*r.keys)),
			 calloc((size_t)tc->ops, sizeof(*r.ver)), 0 };

	srand(tc->block_size + tc->tree);
	for (int i = 1; i <= tc->ops; i++) {
		one_op(nfs, tc->tree, &r, (uint32_t)i);
		/* An operation boundary, as the adapter's entry points. */
		cr_assert_eq(fsa_native_commit_if_full(nfs), 0);
		if (i % 1000 == 0) {
			cr_assert_eq(fsa_native_commit(nfs), 0);
			cr_assert_eq(tn_check_flags(nfs,
						    FSA_NATIVE_CHECK_TREES),
				     0, "after %d ops", i);
		}
	}
	verify(nfs, tc->tree, &r);
	tn_close(nfs);
	nfs = tn_open(img, false);
	verify(nfs, tc->tree, &r);
	cr_expect_eq(tn_check_flags(nfs, FSA_NATIVE_CHECK_TREES), 0);
	tn_close(nfs);
	/* Delete everything: every node comes back as free space. */
	nfs = tn_open(img, true);
	while (r.n) {
		cr_assert_eq(fsa_native_bt_delete(nfs, tc->tree,
						  &r.keys[r.n - 1]),
			     0);
		r.n--;
	}
	cr_expect_eq(nfs->sb.trees[tc->tree].levels, 0);
	tn_close(nfs);
	/* Empty again: every block back to free space, all checks pass. */
	tn_assert_clean(img);
	free(r.keys);
	free(r.ver);
	free(img);
}
