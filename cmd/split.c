// SPDX-License-Identifier: GPL-2.0
/* split.c - splitting a shell line into words: 'single', "double" quotes and
 * backslash escapes, as a POSIX shell does for plain words. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "iomapctl/imc.h"

void imc_free_argv(char **argv)
{
	if (!argv)
		return;
	for (char **a = argv; *a; a++)
		free(*a);
	free(argv);
}

/* Reads one word at *@pp into @w; returns 0, 1 at end of line, -EINVAL. */
static int next_word(const char **pp, char *w)
{
	const char *p = *pp;
	char quote = 0;
	size_t n = 0;

	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	if (!*p || *p == '#')
		return 1;
	for (; *p; p++) {
		if (quote) {
			if (*p == quote)
				quote = 0;
			else if (quote == '"' && *p == '\\' && p[1] &&
				 strchr("\"\\", p[1]))
				w[n++] = *++p;
			else
				w[n++] = *p;
		} else if (*p == '\'' || *p == '"') {
			quote = *p;
		} else if (*p == '\\' && p[1]) {
			w[n++] = *++p;
		} else if (strchr(" \t\n\r", *p)) {
			break;
		} else {
			w[n++] = *p;
		}
	}
	w[n] = '\0';
	*pp = p;
	return quote ? -EINVAL : 0;
}

int imc_split_line(const char *line, char ***argvp, int *argcp)
{
	size_t len = strlen(line);
	char **argv = calloc(len / 2 + 2, sizeof(*argv));
	char *w = malloc(len + 1);
	int argc = 0, ret = 0;

	if (!argv || !w) {
		free(w);
		free(argv);
		return -ENOMEM;
	}
	while ((ret = next_word(&line, w)) == 0) {
		argv[argc] = strdup(w);
		if (!argv[argc++]) {
			ret = -ENOMEM;
			break;
		}
	}
	free(w);
	if (ret < 0) {
		imc_free_argv(argv);
		return ret;
	}
	*argvp = argv;
	*argcp = argc;
	return 0;
}
