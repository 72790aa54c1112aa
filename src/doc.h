/*
 * doc: the documents of a project — numbered per kind and year
 * (OF/2026/0042), never reused, rendered by pdf.c from the project's data,
 * stored under the data directory with their SHA-256, recorded in the
 * history, and attached to the mail that carries them.
 */
#ifndef INKFLOW_DOC_H
#define INKFLOW_DOC_H

#include <stddef.h>
#include <stdint.h>

struct app;

/* Kinds and their number prefixes: offer OF, calculation KA, order ZA,
 * production ZW, delivery WZ, complaint RK.  1 when kind is one. */
int doc_kind_ok(const char *kind);

/* Room for one document number ("OF/2026/0042") and its NUL. */
#define DOC_NUMBER_MAX 32

/* The document numbers text names, in order and each once, written the
 * way a client or a file name writes them: "OF/2026/0042", "za/2026/42",
 * "OF / 2026 / 0042", "ZA-2026-0042" (our PDFs' names), "ZA_2026_0042".
 * Each is stored as doc_render numbers it ("ZA/2026/0042").  At most scan
 * bytes of text are read and at most max numbers kept; returns how many. */
size_t doc_numbers_find(const char *text, size_t scan, char (*out)[DOC_NUMBER_MAX],
    size_t max);

/* Render a document of kind for project in the project's language, store
 * it and record it.  Inside the caller's transaction.  Returns the
 * documents.id, or -1 with err filled. */
int64_t doc_render(struct app *app, int64_t project, const char *kind, char *err,
    size_t errlen);

/* The latest document of kind on project: id, or 0 when none. */
int64_t doc_latest(struct app *app, int64_t project, const char *kind);

/* The stored PDF of a document, its file name ("OF-2026-0042.pdf") and
 * number.  Caller frees all three.  0 / -1. */
int doc_load(struct app *app, int64_t doc, char **pdf, size_t *len, char **filename,
    char **number);

/* `inkflow doc list N [--json]`, `inkflow doc render N KIND [-o FILE]`. */
int doc_cli(struct app *app, int argc, char **argv);

#endif
