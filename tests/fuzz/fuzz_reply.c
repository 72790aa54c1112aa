/*
 * fuzz_reply: what a person wrote back.  The input is the body of a reply:
 * reply_new_text cuts the quote and signature, reply_parse reads the
 * command on its first line; token_from_text looks for an
 * "inkflow-token:" line; the input's first line is also taken as a
 * recipient address (token_from_address) and as a bare token.  Every token
 * found is verified with a fixed key; seeds hold tokens made with that key
 * (task 12, user 3) so mutations reach the MAC check and the expiry, not
 * only the format checks.
 *
 * Checks: reply_new_text keeps whole leading lines of the text (its output
 * is a prefix of the text with CRLF and CR as LF, ending at a line end or
 * in trailing blanks), so when the first non-blank line is quoted ("> ...")
 * nothing is left to act on; reply_parse's documented
 * shape (cmd in range, arg and rest never NULL, both "" and line 0 with
 * CMD_NONE); a token that verifies is canonical — making it again from its
 * claims gives the same characters (lowercased), so no second spelling of
 * a genuine token exists.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "reply.h"
#include "token.h"
#include "util.h"

#include "fuzz_common.h"

#define SYSTEM_ADDRESS "biuro@bmt.example"
/* 2026-11-27 12:00 UTC: seed tokens expire after it, some before it. */
#define NOW ((int64_t)1795780800)

static const unsigned char key[32] = "inkflow-fuzz-key-0123456789abcde";

static void
verify(const char *tok)
{
	struct token_claims c;
	memset(&c, 0, sizeof(c));
	enum token_check r = token_verify(key, tok, NOW, &c);
	FZ_CHECK(r == TOKEN_OK || r == TOKEN_MALFORMED || r == TOKEN_BAD_MAC ||
	    r == TOKEN_EXPIRED, "token_verify returned %d", (int)r);
	if (r != TOKEN_OK && r != TOKEN_EXPIRED)
		return;
	FZ_CHECK((r == TOKEN_EXPIRED) == (NOW >= c.expires), "expiry %lld vs now",
	    (long long)c.expires);
	char again[TOKEN_MAX + 1];
	token_make(key, &c, again);
	char *low = str_lower(xstrdup(tok));
	FZ_CHECK(strcmp(again, low) == 0, "token %s verifies but is made as %s", low, again);
	free(low);
}

/* text with a leading BOM dropped and CRLF / lone CR as LF, as
 * reply_new_text splits lines. */
static char *
normalise(const char *text)
{
	if (!strncmp(text, "\xef\xbb\xbf", 3))
		text += 3;
	char *out = xmalloc(strlen(text) + 1), *o = out;
	for (const char *p = text; *p; p++) {
		if (*p == '\r') {
			*o++ = '\n';
			if (p[1] == '\n')
				p++;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	return out;
}

static void
check_new_text(const char *text, const char *nt)
{
	char *norm = normalise(text);
	size_t n = strlen(nt);
	FZ_CHECK(strncmp(norm, nt, n) == 0, "new text is not a prefix of the text");
	/* It ends at a line end, or inside blanks that were trimmed. */
	for (const char *p = norm + n; n && *p && *p != '\n'; p++)
		FZ_CHECK(*p == ' ' || *p == '\t' || *p == '\v' || *p == '\f',
		    "new text ends inside a line");
	/* First non-blank line quoted (after indentation): no new text at all.
	 * A blank line may also hold \v and \f; indentation may not. */
	for (const char *p = norm;;) {
		const char *q = p;
		while (*q == ' ' || *q == '\t')
			q++;
		const char *e = q;
		while (*e == ' ' || *e == '\t' || *e == '\v' || *e == '\f')
			e++;
		if (*e == '\n') {
			p = e + 1;
			continue;
		}
		if (*e && *q == '>')
			FZ_CHECK(n == 0, "text before a leading quote: \"%.40s\"", nt);
		break;
	}
	free(norm);
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
	char *text = fz_str(data, size);

	char *nt = reply_new_text(text);
	FZ_CHECK(nt != NULL, "reply_new_text NULL");
	check_new_text(text, nt);
	struct reply rp;
	memset(&rp, 0xa5, sizeof(rp));
	reply_parse(nt, &rp);
	FZ_CHECK((unsigned)rp.cmd < CMD__COUNT, "cmd %d", (int)rp.cmd);
	FZ_CHECK(rp.arg && rp.rest, "arg or rest NULL");
	if (rp.cmd == CMD_NONE)
		FZ_CHECK(!*rp.arg && !*rp.rest && rp.line == 0, "CMD_NONE with content");
	else
		FZ_CHECK(rp.line >= 1, "command on line %d", rp.line);
	FZ_CHECK(strcmp(reply_cmd_name(rp.cmd), "") != 0, "command name");
	if (rp.cmd != CMD_NONE)
		FZ_CHECK(reply_cmd_parse(reply_cmd_name(rp.cmd)) == rp.cmd, "name round trip");
	reply_free(&rp);
	/* The same parser on the raw text (ingest always cuts first, but a
	 * caller might not). */
	reply_parse(text, &rp);
	reply_free(&rp);
	free(nt);

	/* A forward's sender: an address with one '@' and no blanks, in
	 * lowercase; a name only with it. */
	char *faddr, *fname;
	if (reply_forwarded_from(text, &faddr, &fname)) {
		FZ_CHECK(faddr && strchr(faddr, '@') && !strpbrk(faddr, " \t\r\n<>"), "address");
		for (const char *c = faddr; *c; c++)
			FZ_CHECK(!(*c >= 'A' && *c <= 'Z'), "address not lowercase");
		free(faddr);
		free(fname);
	} else {
		FZ_CHECK(!faddr && !fname, "outputs set without a sender");
	}

	char *tok = token_from_text(text);
	if (tok) {
		verify(tok);
		free(tok);
	}

	size_t l = strcspn(text, "\r\n");
	char *first = xstrndup(text, l);
	tok = token_from_address(first, SYSTEM_ADDRESS);
	if (tok) {
		verify(tok);
		free(tok);
	}
	verify(first);
	(void)reply_cmd_parse(first);
	free(first);

	free(text);
	return 0;
}
