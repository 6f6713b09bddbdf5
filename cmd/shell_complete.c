// SPDX-License-Identifier: GPL-2.0
/* shell_complete.c - Tab completion in the shell: command names, options,
 * and paths inside the image. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <editline/readline.h>

#include "iomapctl/imc.h"

void imc_shell_complete_init(struct imc_ctx *ctx);

/*
 * readline's completion callbacks take no user pointer, so the shell's
 * context is parked here for the duration of the interactive loop.
 */
static struct imc_ctx *complete_ctx;

static const char *const shell_builtins[] = { "cd",	  "pwd",  "quit",
					      "exit", "sync", NULL };

/* Candidates collected for one completion, handed out by the generator. */
struct cand_list {
	char **v;
	size_t n, cap, next;
};

static struct cand_list cands;

static void cand_reset(void)
{
	for (size_t i = 0; i < cands.n; i++)
		free(cands.v[i]);
	cands.n = cands.next = 0;
}

static void cand_add(const char *prefix, const char *word, const char *suffix)
{
	char *s;

	if (cands.n == cands.cap) {
		size_t cap = cands.cap * 2 + 32;
		char **v = realloc(cands.v, cap * sizeof(*v));

		if (!v)
			return;
		cands.v = v;
		cands.cap = cap;
	}
	if (asprintf(&s, "%s%s%s", prefix, word, suffix) >= 0)
		cands.v[cands.n++] = s;
}

static char *cand_next(const char *text, int state)
{
	(void)text;
	(void)state;
	return cands.next < cands.n ? strdup(cands.v[cands.next++]) : NULL;
}

static void add_commands(const char *text)
{
	size_t len = strlen(text);

	for (size_t i = 0; imc_cmdtab[i]; i++)
		if (!(imc_cmdtab[i]->flags & IMC_CMD_ONESHOT) &&
		    !strncmp(imc_cmdtab[i]->name, text, len))
			cand_add("", imc_cmdtab[i]->name, "");
	for (size_t i = 0; shell_builtins[i]; i++)
		if (!strncmp(shell_builtins[i], text, len))
			cand_add("", shell_builtins[i], "");
}

static void add_opts(const char *text, const char *shortopts,
		     const struct option *longopts)
{
	size_t len = strlen(text);
	char opt[64];

	for (const char *s = shortopts; s && *s; s++) {
		snprintf(opt, sizeof(opt), "-%c", *s);
		if (*s != ':' && !strncmp(opt, text, len))
			cand_add("", opt, "");
	}
	for (const struct option *o = longopts; o && o->name; o++) {
		snprintf(opt, sizeof(opt), "--%s", o->name);
		if (!strncmp(opt, text, len))
			cand_add("", opt, o->has_arg ? "=" : "");
	}
}

struct path_walk {
	const char *dirpart, *base;
	size_t baselen;
	struct fsa_fs *fs;
};

static int add_dirent(const struct fsa_dirent *de, void *priv)
{
	struct path_walk *pw = priv;
	struct fsa_stat st;
	bool dir;

	if (!strcmp(de->name, ".") || !strcmp(de->name, "..") ||
	    strncmp(de->name, pw->base, pw->baselen))
		return 0;
	dir = de->type == 4 /* DT_DIR */;
	if (de->type == 0 && pw->fs->ops->stat(pw->fs, de->ino, &st) == 0)
		dir = S_ISDIR(st.mode);
	cand_add(pw->dirpart, de->name, dir ? "/" : "");
	return 0;
}

/* "a/b/pa" completes against the entries of a/b (from the cwd). */
static void add_paths(const char *text)
{
	struct imc_ctx *ctx = complete_ctx;
	const char *slash = strrchr(text, '/');
	char *dirpart = strndup(text, slash ? (size_t)(slash - text + 1) : 0);
	char dir[PATH_MAX];
	struct path_walk pw = { .dirpart = dirpart };
	uint64_t ino;

	pw.base = slash ? slash + 1 : text;
	pw.baselen = strlen(pw.base);
	if (dirpart && imc_fs_open(ctx, ctx->shell_image, false) == 0 &&
	    imc_path_join(ctx->cwd, dirpart[0] ? dirpart : ".", dir,
			  sizeof(dir)) == 0 &&
	    ctx->fs->ops->lookup(ctx->fs, dir, &ino) == 0) {
		pw.fs = ctx->fs;
		ctx->fs->ops->readdir(ctx->fs, ino, add_dirent, &pw);
	}
	free(dirpart);
}

static char **shell_complete(const char *text, int start, int end)
{
	char first[64] = "";
	const struct imc_cmd *cmd;

	(void)end;
	rl_attempted_completion_over = 1; /* never the host's files */
	cand_reset();
	sscanf(rl_line_buffer, "%63s", first);
	cmd = imc_cmd_find(first);
	if (start == 0 || (int)strspn(rl_line_buffer, " \t") >= start)
		add_commands(text);
	else if (text[0] == '-') {
		if (cmd)
			add_opts(text, cmd->shortopts, cmd->longopts);
		add_opts(text, "qvh", imc_global_longopts);
	} else if (cmd && cmd->complete == 'c')
		add_commands(text);
	else
		add_paths(text);
	/* A directory completes to "dir/" and waits for more. */
	rl_completion_append_character =
		cands.n == 1 && cands.v[0][strlen(cands.v[0]) - 1] == '/' ?
			'\0' : ' ';
	if (cands.n == 0)
		return NULL;
	return rl_completion_matches(text, cand_next);
}

void imc_shell_complete_init(struct imc_ctx *ctx)
{
	complete_ctx = ctx;
	rl_attempted_completion_function = shell_complete;
	/* '=' is not a break: "--op=" stays one word. */
	rl_basic_word_break_characters = " \t\n\"'";
}
