/*
 * store: the project records — users, products, clients, contacts,
 * projects, tasks and the history — on top of db.  Every function runs
 * inside the caller's transaction and returns 0 / -1 (or an id, -1 on
 * error).
 */
#ifndef INKFLOW_STORE_H
#define INKFLOW_STORE_H

#include <stddef.h>
#include <stdint.h>

struct app;
struct config;
struct db;
struct cfg_user;

/* Bring users and products in the database in line with the configuration
 * (insert new, update changed, deactivate removed).  No transaction of its
 * own. */
int store_sync_config(struct db *db, const struct config *cfg);

/* Database id of a user by login, -1 when unknown. */
int64_t store_user_id(struct db *db, const char *login);
/* Configuration record of a user by database id, NULL when unknown. */
const struct cfg_user *store_user_cfg(struct app *app, int64_t user_id);

/* Append a history event.  project and message may be 0 (none).  actor is a
 * login, "system" or a mail address.  Returns the event id or -1. */
int64_t hist_add(struct db *db, int64_t project, int64_t message, const char *actor,
    const char *kind, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Record that message of project came encrypted (kind: "OpenPGP",
 * "S/MIME"...; from: the sender): an "encrypted" history event whose text
 * starts with "kind:".  Returns the event id or -1. */
int64_t hist_add_encrypted(struct db *db, int64_t project, int64_t message, const char *kind,
    const char *from);

/* Whether message of project came encrypted (hist_add_encrypted): 1 with
 * its kind in kind, 0 when not, -1 on error. */
int hist_encrypted(struct db *db, int64_t project, int64_t message, char *kind,
    size_t kindlen);

/* Create an open task; due is epoch seconds or 0.  Returns its id or -1. */
int64_t task_create(struct db *db, int64_t project, int64_t message, const char *kind,
    int64_t assignee, const char *title, const char *description,
    const char *actions, int64_t due);

#endif
