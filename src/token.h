/*
 * token: signed action tokens.  A task mail's Reply-To is
 * local+TOKEN@domain; TOKEN names the task, the user it was sent to, the
 * actions it allows and its expiry, and carries an HMAC-SHA256 over them
 * with the key created by `inkflow init`.  Lowercase base32 and digits
 * only, so MTAs that lowercase local parts keep it, and short enough for
 * a 64-character local part.  Only verification against the key makes a
 * token trustworthy; the fields alone authorise nothing.
 */
#ifndef INKFLOW_TOKEN_H
#define INKFLOW_TOKEN_H

#include <stddef.h>
#include <stdint.h>

/* Longest token token_make produces (without NUL).  Format v1 (details in
 * token.c): "t" TASK "-" then 33 base32 characters holding user, actions,
 * expiry hour and an 80-bit truncated HMAC, e.g. "t17-aaaadaaaaaaf…" (37
 * characters for task 17, 48 for task 2^40).  The leading letter is the
 * version; another format will start with another letter. */
#define TOKEN_MAX 48

/* In actions: the token was given to a client contact, not a user. */
#define TOKEN_CLIENT (1u << 31)

struct token_claims {
	int64_t task;      /* tasks.id, 1..2^40 */
	int64_t user;      /* users.id, 1..2^24 */
	uint32_t actions;  /* bit set of allowed actions (workflow's numbering);
	                    * TOKEN_CLIENT set: user is a contact id (a client's link) */
	int64_t expires;   /* epoch seconds, rounded up to a whole hour */
};

/* Read the key file (exactly 32 bytes, mode 0600 or stricter).  0 / -1
 * with err naming the file and the problem. */
int token_load_key(const char *path, unsigned char key[32], char *err, size_t errlen);

/* Make a token for c; out must hold TOKEN_MAX + 1.  The expiry is rounded
 * up to a whole hour (verify returns the rounded value).  Claims outside
 * the ranges above (or expires <= 0) are a caller bug and abort. */
void token_make(const unsigned char key[32], const struct token_claims *c, char *out);

enum token_check {
	TOKEN_OK,
	TOKEN_MALFORMED, /* not a token at all */
	TOKEN_BAD_MAC,   /* forged or altered */
	TOKEN_EXPIRED,   /* genuine but past its expiry at now */
};

/* Parse and verify tok (case-insensitive) at time now.  The claims are
 * filled only when the MAC verifies (TOKEN_OK or TOKEN_EXPIRED).  The MAC
 * comparison is constant-time.  Expired means now >= expires.  out may be
 * NULL.  Checking that task and user are the ones expected is the
 * caller's job. */
enum token_check token_verify(const unsigned char key[32], const char *tok, int64_t now,
    struct token_claims *out);

/* The token in a recipient address "local+TOKEN@domain" (any case) whose
 * local part before '+' equals our local part; NULL when none.  Caller
 * frees.  Both are bare addresses (no display name, no <>); the domain
 * must equal ours too; the token is what follows the first '+', returned
 * lowercased, unverified. */
char *token_from_address(const char *addr, const char *system_address);

/* The token in a body line "inkflow-token: TOKEN" (the fallback when
 * plus-addressing is lost), NULL when none.  Caller frees.  The line may be
 * quoted ("> ", ">>"), indented, in any case, with blanks around the
 * colon and after the token, CRLF or LF; nothing else may follow the
 * token.  First such line wins; returned lowercased, unverified. */
char *token_from_text(const char *text);

#endif
