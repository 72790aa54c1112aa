/*
 * compose: builds outgoing RFC 5322 messages — encoded headers for Polish
 * and German text, multipart/alternative text + HTML in quoted-printable
 * UTF-8, attachments in base64 — with LF line endings (the SMTP sender
 * converts to CRLF).
 */
#ifndef INKFLOW_COMPOSE_H
#define INKFLOW_COMPOSE_H

#include <stddef.h>
#include <stdint.h>

struct mail_att_out {
	const char *filename;      /* UTF-8 */
	const char *content_type;  /* e.g. "application/pdf" */
	const char *data;
	size_t len;
};

struct mail_out {
	const char *from_name, *from_addr;
	const char *to_name, *to_addr;
	const char *cc_name, *cc_addr;  /* may be NULL */
	const char *reply_to;           /* may be NULL */
	const char *subject;            /* UTF-8 */
	const char *in_reply_to;        /* msg-id without <>, may be NULL */
	const char *const *refs;        /* msg-ids without <>, oldest first */
	size_t nrefs;
	const char *text;               /* UTF-8 plain text, required */
	const char *html;               /* UTF-8 HTML, may be NULL */
	const struct mail_att_out *atts;
	size_t natts;
	int auto_generated;             /* Auto-Submitted: auto-generated */
	const char *loop_id;            /* X-Inkflow-Loop value (our address) */
	int64_t project;                /* X-Inkflow-Project when > 0 */
};

/* A new Message-ID (without <>) "ink-<project>-<random>@domain". */
char *compose_message_id(const char *domain, int64_t project);

/* The whole message; caller frees.  message_id without <>. */
char *compose_mail(const struct mail_out *m, const char *message_id, int64_t date);

/* Quoted-printable (RFC 2045) of UTF-8 text with LF line ends. */
char *compose_qp(const char *text);
/* Base64 in 76-column lines. */
char *compose_base64(const char *data, size_t len);

#endif
