/*
 * tmpl: mail templates in templates/<lang>/<name>.txt and <name>.html.
 * A text template starts with header lines ("Subject: ...") and a blank
 * line, then the body; an HTML template is body only.  {{name}} is replaced
 * by the variable's value (HTML-escaped in .html files, except variables
 * whose name ends in "_html": markup the program made).  An unknown placeholder, an unclosed "{{" or a missing
 * Subject is an error naming file:line, never a silent blank.
 */
#ifndef INKFLOW_TMPL_H
#define INKFLOW_TMPL_H

#include <stddef.h>

struct tmpl_var {
	const char *name;
	const char *value; /* UTF-8; NULL renders as "" */
};

struct tmpl_mail {
	char *subject; /* rendered, one line */
	char *text;    /* rendered plain text body */
	char *html;    /* rendered HTML body, NULL when there is no .html file */
};

/* Render <dir>/<lang>/<name>.{txt,html}.  When the language has no such
 * template, falls back to "pl".  0 / -1 with err ("file:line: ..."). */
int tmpl_mail_render(const char *dir, const char *lang, const char *name,
    const struct tmpl_var *vars, size_t nvars, struct tmpl_mail *out,
    char *err, size_t errlen);
void tmpl_mail_free(struct tmpl_mail *m);

/* Check every *.txt and *.html template under dir/pl and dir/de against the
 * placeholder names known to the program; each problem is passed to
 * report(ctx, "file:line: message").  Returns the number of problems. */
size_t tmpl_check_dir(const char *dir, void (*report)(void *ctx, const char *msg), void *ctx);

#endif
