/*
 * fuzz_ingest: the message ingest path without the database.  Raw bytes ->
 * mime_parse (default limits) -> classify -> the text rules of routing the
 * way ingest.c applies them: the [INK-n] tag and the cleaned subject, our
 * Message-IDs in a bounce's text and message/text parts, action tokens in
 * recipient addresses and in the body, the reply text and its command; and
 * the values that leave the program again: attachment names on disk
 * (sanitize_filename) and the subject and sender name in outgoing headers
 * (mime_encode_header, mime_encode_phrase, mime_encode_param) and a whole
 * answer built from them by compose_mail, read back by mime_parse.
 *
 * Besides memory errors and leaks it checks the contracts the rest of the
 * program relies on: decoded strings are valid UTF-8, addresses lowercase,
 * file names hold no separator or control character, encoded headers
 * hold no CR, LF or NUL other than "\r\n " folds, no line of an answer
 * passes 998 characters, and the answer reads back with the same subject
 * (blanks aside) unless the quoted text trips one of mime_parse's
 * whole-message safety guards.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "compose.h"
#include "doc.h"
#include "mime.h"
#include "reply.h"
#include "route.h"
#include "token.h"
#include "util.h"

#include "fuzz_common.h"

#define SYSTEM_ADDRESS "biuro@bmt.example"
#define SYSTEM_DOMAIN  "bmt.example"

static void
check_utf8(const char *what, const char *s)
{
	if (s)
		FZ_CHECK(utf8_valid(s, strlen(s)), "%s is not valid UTF-8", what);
}

static void
check_addr(const char *what, const char *s)
{
	if (!s)
		return;
	check_utf8(what, s);
	for (const char *p = s; *p; p++)
		FZ_CHECK(!(*p >= 'A' && *p <= 'Z'), "%s not lowercase: %s", what, s);
}

/* An encoded header value: CR only as part of a "\r\n " or "\r\n\t" fold,
 * and no line longer than RFC 5322's 998 characters (the field name and
 * ": " counted as name_len). */
static void
check_header_value(const char *what, const char *v, size_t name_len)
{
	FZ_CHECK(v != NULL, "%s: NULL", what);
	size_t line = name_len;
	for (const char *p = v; *p; p++) {
		if (*p == '\r') {
			FZ_CHECK(p[1] == '\n' && (p[2] == ' ' || p[2] == '\t'),
			    "%s: CR not part of a fold", what);
			p += 2;
			line = 1;
			continue;
		}
		FZ_CHECK(*p != '\n', "%s: bare LF", what);
		FZ_CHECK(++line <= 998, "%s: a line longer than 998 characters", what);
	}
}

static void
check_filename(const char *orig)
{
	char *name = sanitize_filename(orig);
	size_t n = strlen(name);
	FZ_CHECK(n > 0 && n <= 120, "file name length %zu", n);
	FZ_CHECK(name[0] != '.', "file name starts with a dot");
	FZ_CHECK(utf8_valid(name, n), "file name not UTF-8");
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		FZ_CHECK(*p >= 0x20 && *p != 0x7f && *p != '/' && *p != '\\',
		    "file name holds byte 0x%02x", *p);
	free(name);
}

static void
find_ids(const char *text, char ***ids, size_t *n)
{
	size_t before = *n;
	size_t added = route_find_our_ids(text, SYSTEM_DOMAIN, ids, n);
	FZ_CHECK(*n == before + added, "route_find_our_ids count");
}

/* Whitespace runs as one space, trimmed: how a subject compares after
 * encoding (CR/LF runs become a space) and unfolding. */
static char *
squash(const char *s)
{
	char *out = xmalloc(strlen(s) + 1), *o = out;
	for (; *s; s++) {
		if (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n') {
			if (o > out && o[-1] != ' ')
				*o++ = ' ';
		} else {
			*o++ = *s;
		}
	}
	while (o > out && o[-1] == ' ')
		o--;
	*o = '\0';
	return out;
}

/* The acknowledgement ingest would queue: to the sender, the project's
 * title (route_clean_subject) in the subject as templates/pl/ack.txt has
 * it, in the thread, the text quoted back. */
static void
check_answer(const struct mime_msg *m, const char *title)
{
	const char *refs[65];
	size_t nrefs = 0;
	for (size_t i = 0; i < m->nrefs && nrefs < 64; i++)
		refs[nrefs++] = m->refs[i];
	if (m->message_id)
		refs[nrefs++] = m->message_id;
	char *subject = xasprintf("Potwierdzenie przyjęcia zapytania [INK-42]: %s", title);
	struct mail_out mo = {
		.from_name = "BMT Druk Wielkoformatowy", .from_addr = SYSTEM_ADDRESS,
		.to_name = m->from_name, .to_addr = m->from_addr ? m->from_addr : "x@example.pl",
		.subject = subject, .in_reply_to = m->message_id, .refs = refs, .nrefs = nrefs,
		.text = m->text, .auto_generated = 1, .loop_id = SYSTEM_ADDRESS, .project = 42,
	};
	char *raw = compose_mail(&mo, "ink-42-0123456789abcdef@bmt.example", 1795780800);
	size_t len = strlen(raw), line = 0;
	for (size_t i = 0; i < len; i++) {
		if (raw[i] == '\n') {
			line = 0;
			continue;
		}
		FZ_CHECK(raw[i] != '\r', "CR in a composed message (LF line ends)");
		FZ_CHECK(++line <= 998, "composed line %zu is longer than 998: %.60s",
		    i, raw + i - 997);
	}
	struct mime_limits lim;
	mime_limits_default(&lim);
	struct mime_msg *back = NULL;
	char reason[256];
	if (mime_parse(raw, len, &lim, &back, reason, sizeof(reason)) < 0) {
		/* mime_parse's guards against inputs libetpan mishandles scan
		 * the whole message, so the client's text quoted in the body
		 * can trip them (with the encoding's expansion, even when the
		 * client's own message passed); everything else must parse. */
		FZ_CHECK(str_istarts(reason, "comment nesting") ||
		    str_istarts(reason, "boundary parameter starting with a quoted-pair") ||
		    str_istarts(reason, "MIME structure too complex"),
		    "our own answer does not parse: %s", reason);
		free(raw);
		free(subject);
		return;
	}
	char *want = squash(subject), *got = squash(back->subject);
	FZ_CHECK(strcmp(want, got) == 0, "subject \"%.80s\" reads back as \"%.80s\"", want, got);
	free(want);
	free(got);
	mime_msg_free(back);
	free(raw);
	free(subject);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_level(LOG_LVL_ERROR);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mime_limits lim;
	mime_limits_default(&lim);
	struct mime_msg *m = NULL;
	char reason[256];
	if (mime_parse((const char *)data, size, &lim, &m, reason, sizeof(reason)) < 0) {
		FZ_CHECK(m == NULL, "mime_parse failed but set *out");
		FZ_CHECK(memchr(reason, '\0', sizeof(reason)) != NULL, "reason not terminated");
		return 0;
	}
	FZ_CHECK(m != NULL, "mime_parse succeeded without a message");
	FZ_CHECK(m->subject && m->text, "subject or text NULL");
	FZ_CHECK(m->nnotes <= 32, "%zu notes", m->nnotes);

	check_utf8("subject", m->subject);
	check_utf8("text", m->text);
	check_utf8("from_name", m->from_name);
	check_utf8("to", m->to);
	check_utf8("cc", m->cc);
	check_utf8("message_id", m->message_id);
	check_utf8("in_reply_to", m->in_reply_to);
	for (size_t i = 0; i < m->nrefs; i++)
		check_utf8("references", m->refs[i]);
	check_addr("from_addr", m->from_addr);
	check_addr("sender_addr", m->sender_addr);
	check_addr("reply_to_addr", m->reply_to_addr);
	check_addr("return_path", m->return_path);
	for (size_t i = 0; i < m->nrcpt; i++) {
		check_addr("rcpt", m->rcpt_addrs[i]);
		for (size_t j = 0; j < i; j++)
			FZ_CHECK(strcmp(m->rcpt_addrs[i], m->rcpt_addrs[j]) != 0,
			    "recipient listed twice: %s", m->rcpt_addrs[i]);
	}

	/* Classification, then routing as ingest.c does it. */
	char why[256];
	enum msg_class c = classify(m, SYSTEM_ADDRESS, why, sizeof(why));
	FZ_CHECK(class_name(c) != NULL, "class name");
	FZ_CHECK(memchr(why, '\0', sizeof(why)) != NULL, "why not terminated");
	if (classify_spam(m, why, sizeof(why)))
		FZ_CHECK(memchr(why, '\0', sizeof(why)) != NULL && why[0], "spam without a reason");
	char *fa, *fn;
	if (reply_forwarded_from(m->text, &fa, &fn)) {
		check_addr("forwarded from", fa);
		free(fa);
		free(fn);
	}

	const char *lang = classify_lang(m->subject, m->text);
	FZ_CHECK(!lang || strcmp(lang, "pl") == 0 || strcmp(lang, "de") == 0, "language");

	/* Document numbers as routing reads them: each in the stored form. */
	const char *where[] = {m->subject, m->text, m->natts ? m->atts[0].filename : NULL};
	for (size_t w = 0; w < ARRAY_LEN(where); w++) {
		char nums[8][DOC_NUMBER_MAX];
		size_t nn = doc_numbers_find(where[w], 65536, nums, 8);
		FZ_CHECK(nn <= 8, "too many document numbers");
		for (size_t k = 0; k < nn; k++)
			FZ_CHECK(strlen(nums[k]) >= 12 && nums[k][2] == '/' && nums[k][7] == '/',
			    "document number not in the stored form");
	}

	char **ids = NULL;
	size_t nids = 0;
	find_ids(m->text, &ids, &nids);
	for (size_t i = 0; i < m->natts; i++) {
		const struct mime_att *a = &m->atts[i];
		FZ_CHECK(a->content_type != NULL, "attachment without content type");
		FZ_CHECK(a->data != NULL || a->len == 0, "attachment data");
		check_utf8("filename", a->filename);
		check_filename(a->filename ? a->filename
		                           : (a->is_message ? "message.eml" : "attachment"));
		if (a->filename) {
			/* "Content-Disposition: attachment; " */
			char *p = mime_encode_param("filename", a->filename);
			check_header_value("filename param", p, 34);
			free(p);
		}
		if (a->is_message || str_istarts(a->content_type, "message/") ||
		    str_istarts(a->content_type, "text/")) {
			char *t = xstrndup(a->data, a->len);
			find_ids(t, &ids, &nids);
			free(t);
		}
	}
	for (size_t i = 0; i < nids; i++) {
		FZ_CHECK(str_istarts(ids[i], "ink-"), "not our id: %s", ids[i]);
		free(ids[i]);
	}
	free(ids);

	char *token = NULL;
	for (size_t i = 0; i < m->nrcpt && !token; i++)
		token = token_from_address(m->rcpt_addrs[i], SYSTEM_ADDRESS);
	if (!token)
		token = token_from_text(m->text);
	free(token);

	char *text = reply_new_text(m->text);
	struct reply rp;
	reply_parse(text, &rp);
	reply_free(&rp);
	free(text);

	int64_t project = 0;
	if (route_subject_tag(m->subject, &project))
		FZ_CHECK(project > 0, "tag names project %lld", (long long)project);
	char *title = route_clean_subject(m->subject);
	FZ_CHECK(title != NULL, "route_clean_subject NULL");
	FZ_CHECK(utf8_len(title) <= ROUTE_TITLE_MAX + 1, "title of %zu characters",
	    utf8_len(title));

	/* What goes back out: "Re: <subject>" and the sender's name. */
	char *enc = mime_encode_header(m->subject, strlen("Subject: "));
	check_header_value("encoded subject", enc, strlen("Subject: "));
	free(enc);
	if (m->from_name) {
		/* "Reply-To: " before it, the address after it on the same
		 * line or the next. */
		enc = mime_encode_phrase(m->from_name);
		check_header_value("encoded name", enc, strlen("Reply-To: "));
		free(enc);
	}

	check_answer(m, title);
	free(title);

	mime_msg_free(m);
	return 0;
}
