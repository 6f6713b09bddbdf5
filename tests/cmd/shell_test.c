// SPDX-License-Identifier: GPL-2.0
/* shell_test.c - the shell through a real pseudo-terminal (line editing,
 * Tab completion, history) and as a script (-c, stdin, -k). */
#include <poll.h>
#include <pty.h>
#include <regex.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "cmd_helpers.h"
#include "iomapctl/imc.h"

static char *dir;

static void setup(void)
{
	dir = t_tmpdir();
	cr_assert_eq(t_sh("cd '%s' && mkdir -p src/dir && xfs_io -f -c "
			  "'pwrite -q 64k 64k' -c 'truncate 1m' src/sparse && "
			  "echo hello > src/dir/hello", dir), 0);
	cr_assert_eq(tc_mkimage(dir), 0);
}

static void teardown(void)
{
	t_tmpdir_remove(dir);
}

TestSuite(shell, .init = setup, .fini = teardown);

struct pty {
	int fd;
	pid_t pid;
	char buf[65536];
	size_t len;
};

static void pty_start(struct pty *p)
{
	char *state, *img;

	cr_assert(asprintf(&state, "%s/state", dir) > 0);
	cr_assert(asprintf(&img, "%s/img", dir) > 0);
	p->len = 0;
	p->pid = forkpty(&p->fd, NULL, NULL, NULL);
	cr_assert_geq(p->pid, 0);
	if (p->pid == 0) {
		setenv("TERM", "xterm", 1);
		setenv("XDG_STATE_HOME", state, 1);
		execl(IOMAPCTL_BINARY, "iomapctl", "shell", img, (char *)NULL);
		_exit(127);
	}
	free(state);
	free(img);
}

/* Reads until @want shows up after offset @from (5 s at most). */
static bool pty_wait(struct pty *p, size_t from, const char *want)
{
	time_t end = time(NULL) + 5;

	while (time(NULL) < end) {
		struct pollfd pfd = { .fd = p->fd, .events = POLLIN };
		ssize_t n;

		p->buf[p->len] = '\0';
		if (from <= p->len && strstr(p->buf + from, want))
			return true;
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		n = read(p->fd, p->buf + p->len, sizeof(p->buf) - 1 - p->len);
		if (n <= 0)
			break;
		p->len += (size_t)n;
	}
	p->buf[p->len] = '\0';
	return from <= p->len && strstr(p->buf + from, want) != NULL;
}

/* Types @keys and waits for @want in what comes back. */
static void pty_expect(struct pty *p, const char *keys, const char *want)
{
	size_t from = p->len;

	cr_assert_eq(write(p->fd, keys, strlen(keys)), (ssize_t)strlen(keys));
	cr_assert(pty_wait(p, from, want), "typed '%s', wanted '%s', got: %s",
		  keys, want, p->buf + from);
}

/* Waits (5 s at most, then kills) for the shell to exit; its status. */
static int pty_finish(struct pty *p)
{
	int status = -1;

	for (int i = 0; i < 50; i++) {
		if (waitpid(p->pid, &status, WNOHANG) == p->pid) {
			close(p->fd);
			return status;
		}
		usleep(100000);
	}
	kill(p->pid, SIGKILL);
	waitpid(p->pid, &status, 0);
	close(p->fd);
	cr_assert_fail("the shell did not exit: %s", p->buf);
	return status;
}

Test(shell, pty_completion_output_and_history)
{
	struct pty p;
	int status;
	char *hist;
	size_t from;

	TC_NEED_ADAPTER(dir);
	pty_start(&p);
	cr_assert(pty_wait(&p, 0, "iomapctl:/> "), "no prompt: %s", p.buf);
	/* Command, option, and in-image path completion. */
	pty_expect(&p, "fie\t", "map ");
	pty_expect(&p, "--sy\t", "nc ");
	pty_expect(&p, "sp\t", "arse ");
	from = p.len;
	pty_expect(&p, "-v\r", "iomapctl:/> ");
	cr_expect(strstr(p.buf + from, "[128..255]:") != NULL, "%s", p.buf);
	/* A directory completes to "dir/" and cd changes the prompt. */
	pty_expect(&p, "cd d\t", "ir/");
	pty_expect(&p, "\r", "iomapctl:/dir> ");
	pty_expect(&p, "cat he\t", "llo ");
	pty_expect(&p, "\r", "iomapctl:/dir> ");
	/* Errors print and the shell goes on. */
	pty_expect(&p, "stat nothere\r", "nothere: No such file or directory");
	pty_expect(&p, "pwd\r", "/dir\r\n");
	pty_expect(&p, "quit\r", "quit");
	status = pty_finish(&p);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	cr_assert_eq(t_sh_out(&hist, "cat '%s/state/iomapctl/history'", dir), 0);
	cr_expect(strstr(hist, "fiemap\\040--sync\\040sparse\\040-v") != NULL,
		  "history: %s", hist);
	cr_expect(strstr(hist, "cd\\040dir/") != NULL, "history: %s", hist);
	free(hist);
}

Test(shell, pty_history_persists)
{
	struct pty p;
	int status;

	TC_NEED_ADAPTER(dir);
	cr_assert_eq(t_sh("mkdir -p '%s/state/iomapctl' && printf "
			  "'_HiStOrY_V2_\\npwd\\n' > '%s/state/iomapctl/history'",
			  dir, dir), 0);
	pty_start(&p);
	cr_assert(pty_wait(&p, 0, "iomapctl:/> "));
	/* Up-arrow recalls the line from the earlier session. */
	pty_expect(&p, "\033[A", "pwd");
	pty_expect(&p, "\r", "/\r\niomapctl:/> ");
	pty_expect(&p, "exit\r", "exit");
	status = pty_finish(&p);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

Test(shell, stdin_script_stops_at_first_error)
{
	char *out, *err;

	TC_NEED_ADAPTER(dir);
	cr_assert_eq(t_sh_out(&out, "cd '%s' && printf 'cd /dir\\npwd\\n"
			      "# comment\\n\\nls\\nstat nope\\npwd\\n' | %s shell "
			      "img 2>err", dir, IOMAPCTL_BINARY), 1);
	cr_expect_str_eq(out, "/dir\nhello\n", "no prompt, stops at the error");
	free(out);
	cr_assert_eq(t_sh_out(&err, "cat '%s/err'", dir), 0);
	cr_expect(strstr(err, "iomapctl: stat: nope: No such file") != NULL,
		  "%s", err);
	free(err);
	cr_assert_eq(t_sh_out(&out, "cd '%s' && printf 'stat nope\\npwd\\n' | "
			      "%s shell -k img 2>/dev/null", dir,
			      IOMAPCTL_BINARY), 1);
	cr_expect_str_eq(out, "/\n", "-k goes on");
	free(out);
}

Test(shell, dash_c_repeatable)
{
	char *out;

	TC_NEED_ADAPTER(dir);
	cr_assert_eq(tc_run(dir, &out, NULL, "shell -c 'cd dir' -c pwd -c "
			    "'ls --json' img"), 0);
	cr_assert(strncmp(out, "/dir\n", 5) == 0, "%s", out);
	cr_expect_eq(tc_json(out + 5, "d['dir'] == '/dir' and "
			     "d['entries'][0]['name'] == 'hello'"), 0, "%s", out);
	free(out);
	cr_assert_eq(tc_run(dir, &out, NULL, "shell -c 'cd ../..' -c pwd -c "
			    "'seek -d sparse 0' img"), 0);
	cr_expect_str_eq(out, "/\nWhence\tResult\nDATA\t65536\n");
	free(out);
	cr_expect_eq(tc_run(dir, NULL, NULL, "shell -c 'cd sparse' -c pwd img"),
		     1, "cd into a file fails");
	cr_expect_eq(tc_run(dir, NULL, NULL, "shell -c 'shell img' img"), 1,
		     "no shell inside the shell");
	cr_expect_eq(tc_run(dir, NULL, NULL, "shell nothere.img"), 1);
	cr_expect_eq(tc_run(dir, NULL, NULL, "shell"), 2);
}

Test(shell, split_line_quotes)
{
	char **argv;
	int argc;

	cr_assert_eq(imc_split_line("  a 'b c' \"d\\\"e\" f\\ g '' #x", &argv,
				    &argc), 0);
	cr_assert_eq(argc, 5);
	cr_expect_str_eq(argv[0], "a");
	cr_expect_str_eq(argv[1], "b c");
	cr_expect_str_eq(argv[2], "d\"e");
	cr_expect_str_eq(argv[3], "f g");
	cr_expect_str_eq(argv[4], "");
	cr_expect_null(argv[5]);
	imc_free_argv(argv);
	cr_expect_lt(imc_split_line("a 'b", &argv, &argc), 0);
}

/* The shell takes --mapper specs as the command line does. */
Test(shell, mapper_specs)
{
	char *out, *err;

	cr_assert_eq(tc_run(dir, &out, NULL, "shell -c 'cat --mapper=bh,"
					     "read=hybrid dir/hello' -c 'seek "
					     "-d --mapper=hybrid,report=bh "
					     "sparse 0' img"),
		     0, "%s", out);
	cr_expect(strstr(out, "hello") != NULL, "%s", out);
	cr_expect(strstr(out, "65536") != NULL, "%s", out);
	free(out);
	/* A failed -c command fails the shell (the usage error is said). */
	cr_assert_neq(tc_run(dir, &out, &err, "shell -c 'cat --mapper=bh,"
					      "read=disk dir/hello' img"),
		      0, "%s", err);
	cr_expect(strstr(err, "'disk' is not a mapper") != NULL, "%s", err);
	free(out);
	free(err);
}

/* True when a line of @out matches extended regular expression @re. */
static bool has_line(const char *out, const char *re)
{
	regex_t r;
	bool found;

	cr_assert_eq(regcomp(&r, re, REG_EXTENDED | REG_NEWLINE | REG_NOSUB),
		     0);
	found = regexec(&r, out, 0, NULL, 0) == 0;
	regfree(&r);
	return found;
}

/*
 * A buffered write in the shell stays in the cache as the kernel's does:
 * the native format maps it DELALLOC (fiemap: DELALLOC|UNKNOWN) until
 * `sync` allocates it (stat counts its blocks, as XFS does), and what the
 * shell never synced is written back when it ends.
 */
Test(shell, delalloc_until_sync)
{
	char *out;

	cr_assert_eq(tc_run(dir, NULL, NULL, "mkfs --size 64M n.img"), 0);
	cr_assert_eq(tc_run(dir, &out, NULL,
			    "shell -c 'write --pattern 0xab --length 1M f 0' "
			    "-c 'map f' -c 'fiemap -v f' -c 'cat f 1048570 6' -c 'stat f' "
			    "-c sync -c 'map f' -c 'write --pattern 0xcd "
			    "--length 4096 g 0' -c 'map g' n.img"),
		     0, "%s", out);
	cr_expect(has_line(out, "0 +1048576 DELALLOC"), "%s", out);
	cr_expect(has_line(out, " 0x7$"), "fiemap DELALLOC|UNKNOWN|LAST: %s",
		  out);
	cr_expect(strstr(out, "\xab\xab\xab\xab\xab\xab") != NULL, "%s", out);
	cr_expect(has_line(out, "Blocks: 2048\t"), "delayed blocks count: %s",
		  out);
	cr_expect(has_line(out, "0 +1048576 MAPPED"), "%s", out);
	cr_expect(has_line(out, "0 +4096 DELALLOC"), "%s", out);
	free(out);
	cr_expect_eq(tc_run(dir, NULL, NULL, "fsck n.img"), 0);
	cr_assert_eq(tc_run(dir, &out, NULL, "map n.img:/g"), 0);
	cr_expect(has_line(out, "0 +4096 MAPPED"), "written back at the end: %s",
		  out);
	free(out);
	cr_expect_eq(t_sh("cd '%s' && head -c 4096 /dev/zero | tr '\\000' "
			  "'\\315' >g && %s cat n.img:/g | cmp - g", dir,
			  IOMAPCTL_BINARY),
		     0);
}

/*
 * A later line reads the cached bytes on any path: another --io writes
 * them back first and reopens the data path as asked.
 */
Test(shell, cached_writes_on_every_path)
{
	char *out;

	TC_NEED_ADAPTER(dir);
	cr_assert_eq(tc_run(dir, &out, NULL,
			    "shell -c 'write --pattern 0x61 --length 70000 "
			    "new 0' -c 'cat new 69998 2' -c 'write --pattern "
			    "0x62 --length 1 new 69999' -c 'cat --io=direct "
			    "new 69998 2' -c 'write --pattern 0x63 --length 1 "
			    "new 69999' -c 'cat --io=dax new 69998 2' -c "
			    "'truncate new 69999' -c 'stat new' img"),
		     0, "%s", out);
	cr_expect(strstr(out, "aa") && strstr(out, "ab") && strstr(out, "ac"),
		  "%s", out);
	cr_expect(has_line(out, "Size: 69999"), "%s", out);
	free(out);
	cr_expect_eq(t_sh("e2fsck -fn '%s/img' >/dev/null 2>&1", dir), 0);
}
