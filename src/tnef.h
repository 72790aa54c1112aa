/*
 * tnef: the files inside an Outlook/Exchange winmail.dat (TNEF,
 * application/ms-tnef), read with libytnef in a child process so that a
 * fault in the library on a hostile stream, or its printing to stdout,
 * never reaches the daemon.  Only tnef.c includes libytnef's headers.
 */
#ifndef INKFLOW_TNEF_H
#define INKFLOW_TNEF_H

#include <stddef.h>

struct tnef_limits {
	size_t max_file;   /* bytes of one file; a larger one is skipped */
	size_t max_total;  /* bytes of all files together; past it, stop */
	size_t max_files;  /* files taken; past it, stop */
};

struct tnef_file {
	char *name;               /* UTF-8 as sent (NOT sanitised); NULL if none */
	const char *content_type; /* lowercase guess (static string) */
	char *data;               /* owned, NUL-terminated beyond len */
	size_t len;
};

struct tnef_result {
	struct tnef_file *files;
	size_t n;
	size_t skipped;   /* files left out for max_file or max_total */
	int more;         /* the stream holds more than max_files files */
	char *body;       /* the message's own text (UTF-8, from its plain,
	                   * HTML or RTF body), NULL when it has none */
	const char *body_from; /* "plain text", "HTML", "RTF", "HTML in RTF" */
};

/* 1 when data[0..len) starts with the TNEF signature. */
int tnef_is_stream(const char *data, size_t len);

/* Read the attachments of the TNEF stream data[0..len) (files with data:
 * embedded Outlook items are left out) and the message's own text.
 * Returns 0 and fills *out (free with tnef_result_free), or -1 with a
 * one-line reason in why ("not a TNEF stream", "decoder killed by signal
 * 11", ...) and *out empty.  Forks: the child parses with stdout and
 * stderr on /dev/null and limited memory and CPU time; the parent waits at
 * most a few seconds. */
int tnef_extract(const char *data, size_t len, const struct tnef_limits *lim,
    struct tnef_result *out, char *why, size_t whylen);
void tnef_result_free(struct tnef_result *r);

#endif
