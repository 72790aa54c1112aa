/*
 * oauth: access tokens for mail accounts that sign in with OAuth 2.0
 * (Microsoft 365 and Gmail, which no longer take a password for IMAP and
 * SMTP).  inkflow does not hold the refresh token or talk to the identity
 * provider: the operator names a command (as mbsync's PassCmd) that prints
 * a valid access token, such as oama, mutt_oauth2.py or a site script.
 * The token goes out as SASL XOAUTH2 (imap.c) or through libcurl's bearer
 * option (smtp.c).
 */
#ifndef INKFLOW_OAUTH_H
#define INKFLOW_OAUTH_H

#include <stddef.h>

#define OAUTH_TOKEN_MAX 16384    /* bytes of a token (JWTs run to a few KB) */
#define OAUTH_CACHE_SECONDS 300  /* a token is asked for again after this */
#define OAUTH_COMMAND_SECONDS 30 /* the command's time to answer */

/* The access token that command (run by /bin/sh, stdin /dev/null) prints
 * as its first line, taken again from the cache for OAUTH_CACHE_SECONDS.
 * Caller frees.  NULL with a one-line reason in err: the command failed
 * (with the first line of what it wrote to stderr), timed out, or printed
 * no token. */
char *oauth_token(const char *command, char *err, size_t errlen);

/* The command's time to answer, OAUTH_COMMAND_SECONDS unless set (tests). */
void oauth_set_timeout(int seconds);

/* Forget the cached token of command: the server refused it. */
void oauth_forget(const char *command);

/* The SASL XOAUTH2 initial response for user and token (not base64):
 * "user=U\x01auth=Bearer T\x01\x01".  Caller frees; *len its length. */
char *oauth_xoauth2(const char *user, const char *token, size_t *len);

#endif
