// SPDX-License-Identifier: GPL-2.0
/* shell.c - `shell`: the commands with paths inside one image, with line
 * editing, history and completion (libedit), or read from -c and stdin. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <editline/readline.h>

#include "cmd.h"

/* shell_complete.c */
void imc_shell_complete_init(struct imc_ctx *ctx);

#define SHELL_MAX_CMDS 64
#define SHELL_HISTORY_LINES 1000

struct shell {
	struct imc_ctx *ctx;
	const char *cmds[SHELL_MAX_CMDS];
	int ncmds;
	bool keep_going;
	bool quit;
	int failed; /* exit status of the last failure */
};

static const struct option shell_longopts[] = {
	{ "command", required_argument, NULL, 'c' },
	{ "keep-going", no_argument, NULL, 'k' },
	{ NULL, 0, NULL, 0 },
};

static void shell_help(FILE *out)
{
	fputs("\nRuns commands on IMAGE: every FILE argument is a path inside "
	      "it, relative to\nthe current directory.  Besides the commands, "
	      "the shell knows:\n  cd [DIR]   change directory (default /)\n"
	      "  pwd        print the current directory\n"
	      "  sync       write back and commit what commands left cached\n"
	      "  quit, exit leave (after a sync)\n"
	      "A command ending in <<WORD takes the lines after it, up to a "
	      "line WORD, as its\ndata (write FILE OFFSET <<END); the command "
	      "stream itself is never file data.\n\n"
	      "On a terminal: line editing, history in "
	      "$XDG_STATE_HOME/iomapctl/history\n(~/.local/state/iomapctl/"
	      "history), Tab completes commands, options and\npaths in the "
	      "image.  Otherwise commands are read from stdin, one per line.\n"
	      "An error is printed and the shell goes on; a script (-c or "
	      "stdin) stops at\nthe first error with exit status 1 unless -k.\n\n"
	      "  -c CMD   run CMD (repeatable, in order), then exit\n"
	      "  -k       keep going after errors\n\n"
	      "Examples:\n  iomapctl shell disk.img\n"
	      "  iomapctl shell -c 'cd /etc' -c 'fiemap -v passwd' disk.img\n"
	      "  printf 'ls /\\nstat /etc\\n' | iomapctl shell disk.img\n",
	      out);
}

static int builtin_cd(struct shell *sh, int argc, char **argv)
{
	struct imc_ctx *ctx = sh->ctx;
	char path[PATH_MAX];
	struct fsa_stat st;
	uint64_t ino;
	int ret;

	ctx->cmdname = "cd";
	if (argc > 2) {
		fputs("usage: cd [DIR]\n", ctx->err);
		return IMC_EXIT_USAGE;
	}
	/* Reopen: map --op write works on a copy and closes the image. */
	ret = imc_fs_open(ctx, ctx->shell_image, false);
	if (!ret)
		ret = imc_path_join(ctx->cwd, argc > 1 ? argv[1] : "/", path,
				    sizeof(path));
	if (!ret)
		ret = ctx->fs->ops->lookup(ctx->fs, path, &ino);
	if (!ret)
		ret = ctx->fs->ops->stat(ctx->fs, ino, &st);
	if (!ret && !S_ISDIR(st.mode))
		ret = -ENOTDIR;
	if (ret)
		return imc_err(ctx, argc > 1 ? argv[1] : "/", ret);
	strcpy(ctx->cwd, path);
	return IMC_EXIT_OK;
}

/*
 * A here-document: the lines after a command whose last word is <<WORD, up
 * to a line that is WORD, go to a memory file the command reads with
 * --from (only `write` takes it).  @next reads one more line (NULL at the
 * end); the word is replaced by "--from /dev/fd/N".  *@fdp gets the memory
 * file's descriptor, or -1 when there is no here-document.  Returns
 * IMC_EXIT_*, having printed why when it is not IMC_EXIT_OK.
 */
typedef char *(*shell_next_fn)(struct shell *sh);

static int shell_heredoc(struct shell *sh, char **argv, int argc,
			 shell_next_fn next, char *fdarg, size_t size, int *fdp)
{
	const char *word = argc > 1 ? argv[argc - 1] : "";
	char *line;
	int fd;

	*fdp = -1;
	if (strncmp(word, "<<", 2) || !word[2])
		return IMC_EXIT_OK;
	fd = memfd_create("iomapctl-heredoc", MFD_CLOEXEC);
	if (fd < 0)
		return imc_err(sh->ctx, "here-document", -errno);
	while ((line = next ? next(sh) : NULL)) {
		size_t n = strcspn(line, "\n");
		bool end = n == strlen(word + 2) && !strncmp(line, word + 2, n);

		if (!end && write(fd, line, strlen(line)) < 0)
			end = true;
		free(line);
		if (end)
			break;
	}
	if (!line) {
		close(fd);
		fprintf(sh->ctx->err,
			"iomapctl: here-document: no line '%s' "
			"ends it\n",
			word + 2);
		return IMC_EXIT_USAGE;
	}
	snprintf(fdarg, size, "/dev/fd/%d", fd);
	*fdp = fd;
	return IMC_EXIT_OK;
}

static int builtin_pwd(struct shell *sh, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(sh->ctx->out, "%s\n", sh->ctx->cwd);
	return IMC_EXIT_OK;
}

static int builtin_quit(struct shell *sh, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	sh->quit = true;
	return IMC_EXIT_OK;
}

/* Writes back what the commands left in the cache and commits it. */
static int builtin_sync(struct shell *sh, int argc, char **argv)
{
	struct imc_ctx *ctx = sh->ctx;
	int ret;

	(void)argv;
	ctx->cmdname = "sync";
	if (argc > 1) {
		fputs("usage: sync\n", ctx->err);
		return IMC_EXIT_USAGE;
	}
	ret = ctx->fs ? imc_fs_sync(ctx) : 0;
	return ret ? imc_err(ctx, ctx->fs_image, ret) : IMC_EXIT_OK;
}

static const struct shell_builtin {
	const char *name;
	int (*fn)(struct shell *sh, int argc, char **argv);
} shell_builtins[] = {
	{ "cd", builtin_cd },	  { "exit", builtin_quit },
	{ "pwd", builtin_pwd },	  { "quit", builtin_quit },
	{ "sync", builtin_sync },
};

/* Runs one split command line: built-ins, then the table. */
static int shell_run(struct shell *sh, char **argv, int argc)
{
	struct imc_ctx *ctx = sh->ctx;
	char **full;
	int ret;

	for (size_t i = 0; i < IMC_ARRAY_SIZE(shell_builtins); i++)
		if (!strcmp(argv[0], shell_builtins[i].name))
			return shell_builtins[i].fn(sh, argc, argv);
	full = calloc((size_t)argc + 2, sizeof(*full));
	if (!full)
		return imc_err(ctx, "line", -ENOMEM);
	full[0] = (char *)"iomapctl";
	memcpy(full + 1, argv, (size_t)argc * sizeof(*argv));
	ret = imc_run(ctx, argc + 1, full, false);
	free(full);
	return ret;
}

/* Built-ins first, then the table through the same dispatcher as the CLI. */
static int shell_exec(struct shell *sh, const char *line, shell_next_fn next)
{
	struct imc_ctx *ctx = sh->ctx, saved = *ctx;
	char fdarg[32], *word, **argv;
	int argc, ret, fd;

	if (imc_split_line(line, &argv, &argc)) {
		fprintf(ctx->err, "iomapctl: unbalanced quotes: %s\n", line);
		return IMC_EXIT_USAGE;
	}
	if (argc == 0) {
		imc_free_argv(argv);
		return IMC_EXIT_OK;
	}
	ret = shell_heredoc(sh, argv, argc, next, fdarg, sizeof(fdarg), &fd);
	if (ret) {
		imc_free_argv(argv);
		return ret;
	}
	if (fd >= 0) {
		/* "write F O <<END" runs as "write F O --from /dev/fd/N". */
		word = argv[argc - 1];
		argv[argc - 1] = (char *)"--from";
		argv[argc] = fdarg;
		ret = shell_run(sh, argv, argc + 1);
		argv[argc - 1] = word;
		argv[argc] = NULL;
		close(fd);
	} else {
		ret = shell_run(sh, argv, argc);
	}
	/* Global options on one line apply to that line only. */
	ctx->io = saved.io;
	ctx->json = saved.json;
	ctx->quiet = saved.quiet;
	ctx->verbose = saved.verbose;
	ctx->progress = saved.progress;
	ctx->cmdname = "iomapctl";
	fflush(ctx->out);
	imc_free_argv(argv);
	return ret;
}

/* A script line: returns false when the script must stop. */
static bool shell_script_line(struct shell *sh, const char *line,
			      shell_next_fn next)
{
	int ret = shell_exec(sh, line, next);

	if (ret != IMC_EXIT_OK) {
		sh->failed = IMC_EXIT_FAIL;
		if (!sh->keep_going)
			return false;
	}
	return !sh->quit;
}

/* The next line of a script on stdin, malloc'd; NULL at the end. */
static char *shell_next_stdin(struct shell *sh)
{
	char *line = NULL;
	size_t cap = 0;

	(void)sh;
	if (getline(&line, &cap, stdin) < 0) {
		free(line);
		return NULL;
	}
	return line;
}

static int shell_stdin(struct shell *sh)
{
	char *line;
	bool go = true;

	while (go && (line = shell_next_stdin(sh))) {
		go = shell_script_line(sh, line, shell_next_stdin);
		free(line);
	}
	return sh->failed;
}

/* The next line typed on the terminal, with its newline; NULL at EOF. */
static char *shell_next_tty(struct shell *sh)
{
	char *line = readline("> "), *nl = NULL;

	(void)sh;
	if (line && asprintf(&nl, "%s\n", line) < 0)
		nl = NULL;
	free(line);
	return nl;
}

static char *history_path(void)
{
	const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	char *path = NULL, *file;

	if (state && state[0] == '/') {
		if (asprintf(&path, "%s/iomapctl", state) < 0)
			return NULL;
	} else if (home) {
		if (asprintf(&path, "%s/.local/state/iomapctl", home) < 0)
			return NULL;
	} else {
		return NULL;
	}
	/* mkdir -p: the state directory may not exist yet. */
	for (char *s = strchr(path + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		mkdir(path, 0700);
		*s = '/';
	}
	mkdir(path, 0700);
	if (asprintf(&file, "%s/history", path) < 0)
		file = NULL;
	free(path);
	return file;
}

static int shell_tty(struct shell *sh)
{
	char *hist = history_path(), *line, prompt[PATH_MAX + 16];

	rl_readline_name = "iomapctl";
	imc_shell_complete_init(sh->ctx);
	stifle_history(SHELL_HISTORY_LINES);
	if (hist)
		read_history(hist);
	while (!sh->quit) {
		snprintf(prompt, sizeof(prompt), "iomapctl:%s> ", sh->ctx->cwd);
		line = readline(prompt);
		if (!line) {
			fputc('\n', sh->ctx->out);
			break;
		}
		if (line[strspn(line, " \t")]) {
			add_history(line);
			/* Written at once: a crash must not lose the session. */
			if (hist)
				write_history(hist);
			shell_exec(sh, line, shell_next_tty);
		}
		free(line);
	}
	free(hist);
	return IMC_EXIT_OK;
}

static int cmd_shell(struct imc_ctx *ctx, int argc, char **argv)
{
	struct shell sh = { .ctx = ctx };
	const char *image;
	int c, ret;

	while ((c = imc_getopt(argc, argv, &imc_cmd_shell)) != -1) {
		if (c == 'k') {
			sh.keep_going = true;
		} else if (sh.ncmds == SHELL_MAX_CMDS) {
			fprintf(ctx->err, "iomapctl: shell: at most %d -c\n",
				SHELL_MAX_CMDS);
			return IMC_EXIT_USAGE;
		} else {
			sh.cmds[sh.ncmds++] = optarg;
		}
	}
	image = argv[optind];
	ret = imc_fs_open(ctx, image, false);
	if (ret)
		return imc_err(ctx, image, ret);
	ctx->shell_image = image;
	strcpy(ctx->cwd, "/");
	if (sh.ncmds) {
		for (int i = 0; i < sh.ncmds && !sh.quit; i++)
			if (!shell_script_line(&sh, sh.cmds[i], NULL))
				break;
		ret = sh.failed;
	} else if (isatty(STDIN_FILENO)) {
		ret = shell_tty(&sh);
	} else {
		ret = shell_stdin(&sh);
	}
	ctx->shell_image = NULL;
	return ret;
}

const struct imc_cmd imc_cmd_shell = {
	.name = "shell",
	.args = "[-c CMD]... [-k] IMAGE",
	.oneline = "interactive shell (or script) on the files of an image",
	.help = shell_help,
	.fn = cmd_shell,
	.argmin = 1,
	.argmax = 1,
	.flags = IMC_CMD_NEEDS_FS | IMC_CMD_ONESHOT,
	.shortopts = "c:k",
	.longopts = shell_longopts,
	.complete = 'i',
};
