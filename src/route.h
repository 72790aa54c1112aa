/*
 * route: the text rules of routing that need no database — the [INK-n]
 * subject tag, reply/forward prefixes, and our Message-IDs in bounce text.
 */
#ifndef INKFLOW_ROUTE_H
#define INKFLOW_ROUTE_H

#include <stddef.h>
#include <stdint.h>

/* Find "[INK-<n>]" (case-insensitive, spaces allowed inside the brackets)
 * anywhere in subject.  1 and *project set when found, 0 otherwise. */
int route_subject_tag(const char *subject, int64_t *project);

/* "INK-<n>" typed without the brackets ("Pliki do INK-7"), as a word of
 * its own (case-insensitive): 1 and *project set when found.  Weaker than
 * the bracketed tag: the caller trusts it only from the project's people. */
int route_subject_bare_tag(const char *subject, int64_t *project);

/* Longest title route_clean_subject returns, in characters (without the
 * "…" that marks a cut). */
#define ROUTE_TITLE_MAX 200

/* Copy of subject without leading reply/forward prefixes (Re:, RE:, Odp:,
 * ODP:, AW:, WG:, Fwd:, FW:, VS:, SV:, Antw:, PD:, "Re[2]:", "[EXT]"-style
 * bracket markers) and without our [INK-n] tag, trimmed: a project's title.
 * Longer than ROUTE_TITLE_MAX characters it is cut at a character boundary
 * and ends in "…".  Caller frees. */
char *route_clean_subject(const char *subject);

/* Every "<local@domain>" or "local@domain" message-id whose domain is
 * domain and whose local part starts with "ink-", found in text; appended
 * to *ids (without brackets, deduplicated).  Returns how many were added. */
size_t route_find_our_ids(const char *text, const char *domain, char ***ids, size_t *n);

/* 1 when the subject's leading prefixes include a forward ("Fwd:", "WG:",
 * "PD:", "FW: AW:" …), else 0. */
int route_subject_forward(const char *subject);

#endif
