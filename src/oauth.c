/*
 * oauth: access tokens from the operator's token command (see oauth.h).
 */
#include "oauth.h"

#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define CACHE_SLOTS 4
#define STDERR_KEEP 200 /* bytes of the command's complaint kept for the log */

static int timeout_s = OAUTH_COMMAND_SECONDS;

void
oauth_set_timeout(int seconds)
{
	timeout_s = seconds > 0 ? seconds : OAUTH_COMMAND_SECONDS;
}

static struct {
	char *command;
	char *token;
	int64_t at; /* monotonic ms */
} cache[CACHE_SLOTS];

static void
slot_clear(size_t i)
{
	free(cache[i].command);
	if (cache[i].token) {
		explicit_bzero(cache[i].token, strlen(cache[i].token));
		free(cache[i].token);
	}
	memset(&cache[i], 0, sizeof(cache[i]));
}

void
oauth_forget(const char *command)
{
	for (size_t i = 0; i < CACHE_SLOTS; i++)
		if (cache[i].command && command && strcmp(cache[i].command, command) == 0)
			slot_clear(i);
}

/* A token is visible ASCII without blanks: base64url, a JWT, a Google
 * "ya29." token. */
static int
token_ok(const char *s, size_t n)
{
	if (n == 0 || n > OAUTH_TOKEN_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 127)
			return 0;
	return 1;
}

/* The first line of what the command wrote to stderr, made printable. */
static void
complaint(const char *s, size_t n, char *out, size_t outlen)
{
	size_t o = 0;
	for (size_t i = 0; i < n && s[i] != '\n' && o + 1 < outlen; i++)
		out[o++] = (unsigned char)s[i] < ' ' || s[i] == 127 ? ' ' : s[i];
	out[o] = '\0';
}

/* Run command; its stdout and the start of its stderr into out and errtext.
 * Returns its wait status, or -1 with err set (spawn failed, timed out). */
static int
run(const char *command, struct sbuf *out, char *errtext, size_t errtextlen, char *err,
    size_t errlen)
{
	int po[2], pe[2];
	if (pipe2(po, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "token command: pipe: %s", strerror(errno));
		return -1;
	}
	if (pipe2(pe, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "token command: pipe: %s", strerror(errno));
		close(po[0]);
		close(po[1]);
		return -1;
	}
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, po[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, pe[1], STDERR_FILENO);
	posix_spawnattr_t at;
	posix_spawnattr_init(&at);
	sigset_t none, dfl;
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGHUP);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &dfl);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
	    POSIX_SPAWN_SETPGROUP);
	posix_spawnattr_setpgroup(&at, 0);
	char *argv[] = {"sh", "-c", (char *)command, NULL};
	pid_t pid;
	int e = posix_spawn(&pid, "/bin/sh", &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(po[1]);
	close(pe[1]);
	if (e != 0) {
		snprintf(err, errlen, "token command: cannot start /bin/sh: %s", strerror(e));
		close(po[0]);
		close(pe[0]);
		return -1;
	}
	char ebuf[STDERR_KEEP];
	size_t elen = 0;
	int64_t deadline = mono_ms() + (int64_t)timeout_s * 1000;
	int open_fds = 2, timed_out = 0, too_long = 0, status = -1, reaped = 0;
	struct pollfd pf[2] = {{.fd = po[0], .events = POLLIN}, {.fd = pe[0], .events = POLLIN}};
	while (open_fds > 0) {
		int64_t left = deadline - mono_ms();
		if (left <= 0) {
			timed_out = !reaped;
			break;
		}
		/* A helper that leaves a process of its own behind holding the
		 * pipes: once the command itself exited, what is there is read
		 * for a moment more, and no longer. */
		if (!reaped && waitpid(pid, &status, WNOHANG) == pid) {
			reaped = 1;
			deadline = mono_ms() + 200;
		}
		int r = poll(pf, 2, left < 100 ? (int)left : 100);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		for (int k = 0; k < 2; k++) {
			if (pf[k].fd < 0 || !(pf[k].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			char buf[4096];
			ssize_t got = read(pf[k].fd, buf, sizeof(buf));
			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0) {
				close(pf[k].fd);
				pf[k].fd = -1;
				open_fds--;
				continue;
			}
			if (k == 0 && out->len + (size_t)got <= OAUTH_TOKEN_MAX + 2)
				sb_add(out, buf, (size_t)got);
			else if (k == 0)
				too_long = 1;
			for (ssize_t q = 0; k == 1 && q < got && elen < sizeof(ebuf); q++)
				ebuf[elen++] = buf[q];
		}
	}
	for (int k = 0; k < 2; k++)
		if (pf[k].fd >= 0)
			close(pf[k].fd);
	if (timed_out)
		kill(-pid, SIGKILL); /* its whole process group: sh and what it started */
	while (!reaped && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	complaint(ebuf, elen, errtext, errtextlen);
	if (timed_out) {
		snprintf(err, errlen, "token command timed out after %d s", timeout_s);
		return -1;
	}
	if (too_long) {
		snprintf(err, errlen, "token command printed more than %d bytes", OAUTH_TOKEN_MAX);
		return -1;
	}
	return status;
}

char *
oauth_token(const char *command, char *err, size_t errlen)
{
	if (!command || !*command) {
		snprintf(err, errlen, "no token command");
		return NULL;
	}
	int64_t now = mono_ms();
	for (size_t i = 0; i < CACHE_SLOTS; i++)
		if (cache[i].command && strcmp(cache[i].command, command) == 0) {
			if (now - cache[i].at < OAUTH_CACHE_SECONDS * 1000)
				return xstrdup(cache[i].token);
			slot_clear(i);
		}
	struct sbuf out = {0};
	char errtext[STDERR_KEEP + 1];
	int status = run(command, &out, errtext, sizeof(errtext), err, errlen);
	if (status == -1) {
		sb_free(&out);
		return NULL;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (WIFEXITED(status))
			snprintf(err, errlen, "token command exited with %d%s%s",
			    WEXITSTATUS(status), errtext[0] ? ": " : "", errtext);
		else
			snprintf(err, errlen, "token command killed by signal %d",
			    WIFSIGNALED(status) ? WTERMSIG(status) : 0);
		sb_free(&out);
		return NULL;
	}
	size_t n = 0;
	const char *s = out.s ? out.s : "";
	while (n < out.len && s[n] != '\n' && s[n] != '\r')
		n++;
	if (!token_ok(s, n)) {
		snprintf(err, errlen, "token command printed no token on its first line "
		    "(one word of visible ASCII, at most %d bytes, is expected)", OAUTH_TOKEN_MAX);
		if (out.s)
			explicit_bzero(out.s, out.len);
		sb_free(&out);
		return NULL;
	}
	char *tok = xstrndup(s, n);
	explicit_bzero(out.s, out.len);
	sb_free(&out);
	size_t slot = 0;
	for (size_t i = 0; i < CACHE_SLOTS; i++) {
		if (!cache[i].command) {
			slot = i;
			break;
		}
		if (cache[i].at < cache[slot].at)
			slot = i;
	}
	slot_clear(slot);
	cache[slot].command = xstrdup(command);
	cache[slot].token = xstrdup(tok);
	cache[slot].at = now;
	return tok;
}

char *
oauth_xoauth2(const char *user, const char *token, size_t *len)
{
	char *s = xasprintf("user=%s\001auth=Bearer %s\001\001", user, token);
	*len = strlen(s);
	return s;
}
