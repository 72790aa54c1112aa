/*
 * classify: what kind of message this is, before any routing.  Automatic
 * mail (auto-replies, bounces, lists, our own mail looping back) never
 * creates a project and never gets an automatic answer.
 */
#ifndef INKFLOW_CLASSIFY_H
#define INKFLOW_CLASSIFY_H

#include <stddef.h>

struct ical_answer;
struct mime_att;
struct mime_msg;

enum msg_class {
	CLASS_NORMAL,
	CLASS_AUTOREPLY, /* RFC 3834 and the common non-standard markers */
	CLASS_BOUNCE,    /* delivery status notifications */
	CLASS_LIST,      /* mailing lists, newsletters, bulk */
	CLASS_LOOP,      /* our own mail coming back */
	CLASS_SPAM,      /* the receiving server's spam filter says so (classify_spam) */
};

const char *class_name(enum msg_class c); /* "normal", "auto-reply", ... */

/* Classify m.  system_address is ours (lowercase).  why receives a short
 * reason naming the header that decided ("Auto-Submitted: auto-replied"). */
enum msg_class classify(const struct mime_msg *m, const char *system_address,
    char *why, size_t whylen);

/* The iCalendar part of m that answers an invitation (METHOD REPLY,
 * COUNTER or REFRESH), read into *a; NULL when m has none.  classify()
 * takes such a message for automatic mail. */
const struct mime_att *classify_calendar_answer(const struct mime_msg *m,
    struct ical_answer *a);

/* 1 when the receiving server's spam filter marked m as spam, with
 * "header: value" in why: X-Spam-Flag or X-Spam-Status "Yes"
 * (SpamAssassin), X-Spam "Yes" (Rspamd), Exchange's SCL 5..9 or an
 * SFV:SPM-style verdict in X-Forefront-Antispam-Report, a gateway's
 * "***SPAM***" / "[SPAM]" subject mark.  classify() leaves this out:
 * ingest asks only about mail that would open a project, so a reply
 * from a client or a colleague the filter misjudged is never lost. */
int classify_spam(const struct mime_msg *m, char *why, size_t whylen);

/* The language a person wrote the subject and text in, for a new client
 * no assignment rule gives one: "pl" or "de" when the words and letters
 * clearly say so (the letters ą ę ł ś ż… or ä ö ü ß, and everyday words
 * of each: "proszę", "oferta", "und", "Angebot"…), NULL when they do not
 * (English, too short, mixed).  At most the first LANG_SCAN bytes of
 * text are read. */
#define LANG_SCAN 8192
const char *classify_lang(const char *subject, const char *text);

#endif
