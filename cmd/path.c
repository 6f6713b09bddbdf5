// SPDX-License-Identifier: GPL-2.0
/* path.c - file arguments: host paths, IMAGE:PATH, and shell-relative paths. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "iomapctl/imc.h"

int imc_path_join(const char *cwd, const char *path, char *out, size_t size)
{
	char tmp[PATH_MAX];
	size_t len = 0;
	char *save = NULL, *comp;
	int n;

	n = snprintf(tmp, sizeof(tmp), "%s/%s", path[0] == '/' ? "" : cwd,
		     path);
	if (n < 0 || (size_t)n >= sizeof(tmp) || size < 2)
		return -ENAMETOOLONG;
	out[0] = '\0';
	/* Lexical, like the shell's cd -L: images have no symlink walk here. */
	for (comp = strtok_r(tmp, "/", &save); comp;
	     comp = strtok_r(NULL, "/", &save)) {
		if (!strcmp(comp, "."))
			continue;
		if (!strcmp(comp, "..")) {
			char *slash = strrchr(out, '/');

			len = slash ? (size_t)(slash - out) : 0;
			out[len] = '\0';
			continue;
		}
		n = snprintf(out + len, size - len, "/%s", comp);
		if (n < 0 || (size_t)n >= size - len)
			return -ENAMETOOLONG;
		len += (size_t)n;
	}
	if (len == 0)
		strcpy(out, "/");
	return 0;
}

/* The longest prefix of @arg before a ':' that names an existing file. */
static ssize_t image_prefix(const char *arg)
{
	ssize_t found = -1;

	for (const char *c = strchr(arg, ':'); c; c = strchr(c + 1, ':')) {
		char *prefix = strndup(arg, (size_t)(c - arg));
		struct stat st;

		if (prefix && prefix[0] && stat(prefix, &st) == 0 &&
		    (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)))
			found = c - arg;
		free(prefix);
		if (found >= 0)
			break;
	}
	return found;
}

static int set_image_path(struct imc_ctx *ctx, const char *arg, char *image,
			  const char *cwd, const char *path,
			  struct imc_spec *sp)
{
	char norm[PATH_MAX];

	if (!cwd && path[0] && path[0] != '/') {
		fprintf(ctx->err, "iomapctl: %s: %s: the path inside the image "
			"must be absolute (IMAGE:/PATH)\n", ctx->cmdname, arg);
		free(image);
		return IMC_EXIT_USAGE;
	}
	if (imc_path_join(cwd ? cwd : "/", path, norm, sizeof(norm))) {
		free(image);
		return imc_err(ctx, arg, -ENAMETOOLONG);
	}
	sp->image = image;
	sp->path = strdup(norm);
	return IMC_EXIT_OK;
}

int imc_spec_parse(struct imc_ctx *ctx, const char *arg, struct imc_spec *sp)
{
	struct stat st;
	ssize_t colon;

	memset(sp, 0, sizeof(*sp));
	/* A host file whose name has a ':' stays a host file. */
	if (!ctx->shell_image && lstat(arg, &st) == 0) {
		sp->path = strdup(arg);
		return IMC_EXIT_OK;
	}
	colon = image_prefix(arg);
	if (colon >= 0)
		return set_image_path(ctx, arg, strndup(arg, (size_t)colon),
				      NULL, arg + colon + 1, sp);
	/* In the shell every plain path is inside the shell's image. */
	if (ctx->shell_image)
		return set_image_path(ctx, arg, strdup(ctx->shell_image),
				      ctx->cwd, arg, sp);
	if (!strchr(arg, ':')) {
		sp->path = strdup(arg);
		return IMC_EXIT_OK;
	}
	/* IMAGE:PATH whose image does not exist: report the image. */
	colon = strchr(arg, ':') - arg;
	return set_image_path(ctx, arg, strndup(arg, (size_t)colon), NULL,
			      arg + colon + 1, sp);
}

void imc_spec_free(struct imc_spec *sp)
{
	free(sp->image);
	free(sp->path);
	sp->image = sp->path = NULL;
}
