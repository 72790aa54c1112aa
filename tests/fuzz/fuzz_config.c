/*
 * fuzz_config: the configuration loader.  A private copy of conf/ is made
 * once per process (inkflow.xml, users.xml, pricelist.xml, workflow.xml,
 * with templates/ and mailboxes/ beside it as the shipped file expects);
 * the first byte of the input chooses which of the four files the rest
 * replaces (sel % 4: inkflow, users, pricelist, workflow), then
 * config_load reads the set and the file gets its shipped text back.
 *
 * Checks: on failure at least one "file:line: message" and no result; on
 * success the documented non-NULL fields are set and every user, product
 * and state is found again by its lookup.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "util.h"

#include "fuzz_common.h"

static const char *const names[4] = {"inkflow.xml", "users.xml", "pricelist.xml",
    "workflow.xml"};
static char *paths[4];      /* in the private conf/ */
static char *shipped[4];    /* their shipped text */
static size_t shipped_len[4];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_level(LOG_LVL_ERROR);
	const char *root = fz_root();
	const char *tmp = fz_tmpdir("fuzz-config");
	char *conf = fz_path(tmp, "conf");
	fz_mkdir(conf);
	/* What the shipped inkflow.xml names with "../". */
	static const char *const dirs[] = {"templates", "templates/pl", "templates/de",
	    "mailboxes", "mailboxes/inbox", "mailboxes/inbox/new", "mailboxes/inbox/cur",
	    "mailboxes/inbox/tmp", "mailboxes/outbox", "mailboxes/outbox/new",
	    "mailboxes/outbox/cur", "mailboxes/outbox/tmp", "data"};
	for (size_t i = 0; i < ARRAY_LEN(dirs); i++) {
		char *d = fz_path(tmp, dirs[i]);
		fz_mkdir(d);
		free(d);
	}
	for (int i = 0; i < 4; i++) {
		char rel[64];
		snprintf(rel, sizeof(rel), "conf/%s", names[i]);
		char *from = fz_path(root, rel);
		if (file_read(from, CONFIG_MAX_FILE, &shipped[i], &shipped_len[i]) < 0)
			fz_die(from);
		free(from);
		paths[i] = fz_path(conf, names[i]);
		fz_write(paths[i], shipped[i], shipped_len[i]);
	}
	free(conf);
	/* The shipped set must load, or every input tests nothing. */
	struct config *cfg = NULL;
	struct errlist e = {0};
	if (config_load(paths[0], &cfg, &e) < 0) {
		for (size_t i = 0; i < e.n; i++)
			fprintf(stderr, "%s\n", e.v[i]);
		fz_die("the shipped configuration does not load from the copy");
	}
	config_free(cfg);
	errlist_free(&e);
	return 0;
}

static void
check_config(const struct config *c)
{
	FZ_CHECK(c->path && c->dir && c->data_dir && c->db_path && c->templates_dir &&
	    c->key_path && c->system_address && c->domain && c->default_lang &&
	    c->default_currency && c->workflow, "a documented non-NULL field is NULL");
	FZ_CHECK(c->path[0] == '/' && c->data_dir[0] == '/' && c->db_path[0] == '/' &&
	    c->templates_dir[0] == '/' && c->key_path[0] == '/', "a path is not absolute");
	for (size_t i = 0; i < c->nusers; i++) {
		const struct cfg_user *u = &c->users[i];
		FZ_CHECK(u->login && u->name && u->email && u->lang, "user field NULL");
		FZ_CHECK(config_user(c, u->login) == u, "user %s not found by login", u->login);
		FZ_CHECK(strcmp(role_name(u->role), "?") != 0, "user role");
	}
	for (size_t i = 0; i < c->nproducts; i++) {
		const struct cfg_product *p = &c->products[i];
		FZ_CHECK(p->sku && p->name_pl && p->name_de, "product field NULL");
		FZ_CHECK(config_product(c, p->sku) == p, "product %s not found", p->sku);
		FZ_CHECK(strcmp(unit_name(p->unit), "?") != 0, "product unit");
	}
	const struct cfg_workflow *w = c->workflow;
	FZ_CHECK(w->initial && config_state(c, w->initial), "no initial state");
	for (size_t i = 0; i < w->nstates; i++)
		FZ_CHECK(config_state(c, w->states[i].name) == &w->states[i], "state lookup");
	(void)config_rule_for(c, "x.de");
	(void)config_is_freemail(c, "gmail.com");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	int which = data[0] % 4;
	fz_write(paths[which], data + 1, size - 1);
	struct config *cfg = NULL;
	struct errlist e = {0};
	if (config_load(paths[0], &cfg, &e) == 0) {
		FZ_CHECK(cfg != NULL, "config_load succeeded without a result");
		check_config(cfg);
		config_free(cfg);
	} else {
		FZ_CHECK(cfg == NULL, "config_load failed but set *out");
		FZ_CHECK(e.n > 0, "config_load failed without a message");
		for (size_t i = 0; i < e.n; i++)
			FZ_CHECK(!strpbrk(e.v[i], "\r\n"), "error message holds a line break");
	}
	errlist_free(&e);
	fz_write(paths[which], shipped[which], shipped_len[which]);
	return 0;
}
