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

#endif
