/*
 * Unit tests for config.c.  Run from the repository root, or set
 * INKFLOW_SRCDIR to it; fixtures live in tests/unit/config/.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "util.h"

static const char *
srcdir(void)
{
	const char *s = getenv("INKFLOW_SRCDIR");
	return s && *s ? s : ".";
}

/* Fixture path as the loader will show it; caller frees. */
static char *
fx(const char *rel)
{
	return xasprintf("%s/tests/unit/config/%s", srcdir(), rel);
}

/* Canonical absolute form of a fixture path; caller frees. */
static char *
fx_real(const char *rel)
{
	char *p = fx(rel);
	char *r = realpath(p, NULL);
	assert_non_null(r);
	free(p);
	return r;
}

static void
dump(const struct errlist *e)
{
	for (size_t i = 0; i < e->n; i++)
		fprintf(stderr, "  got: %s\n", e->v[i]);
}

static struct config *
load_ok(const char *path)
{
	struct errlist e = {0};
	struct config *c = NULL;
	int rc = config_load(path, &c, &e);
	if (rc != 0 || e.n != 0) {
		fprintf(stderr, "loading %s failed:\n", path);
		dump(&e);
	}
	assert_int_equal(rc, 0);
	assert_int_equal(e.n, 0);
	assert_non_null(c);
	errlist_free(&e);
	return c;
}

/* Loads path expecting failure; *out must stay untouched. */
static void
load_fail(const char *path, struct errlist *e)
{
	struct config *sentinel = (struct config *)&sentinel;
	struct config *c = sentinel;
	assert_int_equal(config_load(path, &c, e), -1);
	assert_ptr_equal(c, sentinel);
	assert_true(e->n > 0);
}

struct want {
	int line;           /* 0: no line ("file: msg") */
	const char *has;    /* substring of the message */
};

/* Every entry of e is matched by exactly one want (file:line: prefix and
 * substring), and every want by one entry. */
static void
expect(const struct errlist *e, const char *file, const struct want *w, size_t n)
{
	int *used = xcalloc(e->n ? e->n : 1, sizeof(int));
	int ok = 1;
	for (size_t i = 0; i < n; i++) {
		char pre[512];
		if (w[i].line > 0)
			bfmt(pre, sizeof(pre), "%s:%d: ", file, w[i].line);
		else
			bfmt(pre, sizeof(pre), "%s: ", file);
		size_t j;
		for (j = 0; j < e->n; j++)
			if (!used[j] && strncmp(e->v[j], pre, strlen(pre)) == 0 &&
			    strstr(e->v[j] + strlen(pre), w[i].has))
				break;
		if (j == e->n) {
			fprintf(stderr, "missing: %s...%s\n", pre, w[i].has);
			ok = 0;
		} else {
			used[j] = 1;
		}
	}
	free(used);
	if (!ok || e->n != n)
		dump(e);
	assert_true(ok);
	assert_int_equal(e->n, n);
}

/* ---- a valid configuration --------------------------------------------- */

static void
test_good(void **state)
{
	(void)state;
	char *path = fx("good/inkflow.xml");
	struct config *c = load_ok(path);
	char *good = fx_real("good");
	char *top = fx_real(".");
	char *s;

	s = xasprintf("%s/inkflow.xml", good);
	assert_string_equal(c->path, s);
	free(s);
	assert_string_equal(c->dir, good);

	/* Relative to the file's directory, ".." folded against it. */
	s = xasprintf("%s/data", top);
	assert_string_equal(c->data_dir, s);
	free(s);
	s = xasprintf("%s/data/hmac.key", top);
	assert_string_equal(c->key_path, s);
	free(s);
	/* "./db/../db//test.db": "." and "//" dropped, the ".." after a
	 * component of the value kept (db/ might be a symlink). */
	s = xasprintf("%s/db/../db/test.db", good);
	assert_string_equal(c->db_path, s);
	free(s);
	assert_string_equal(c->templates_dir, "/usr/share/inkflow/templates");
	s = xasprintf("%s/mail/in", good);
	assert_string_equal(c->source_maildir, s);
	free(s);
	assert_string_equal(c->outbox_maildir, "/var/spool/inkflow/outbox");

	assert_string_equal(c->system_address, "biuro@test-druk.example");
	assert_string_equal(c->domain, "test-druk.example");
	assert_string_equal(c->system_name, "Test Druk");
	assert_string_equal(c->default_lang, "pl");
	assert_string_equal(c->default_currency, "PLN");

	assert_string_equal(c->company.name, "Test Druk Sp. z o.o.");
	assert_string_equal(c->company.address, "ul. Próbna 1");
	assert_string_equal(c->company.city, "00-950 Warszawa");
	assert_string_equal(c->company.bank_account, "61109010140000071219812874");
	assert_string_equal(c->company.phone, "+48 (22) 555-01-01");
	assert_string_equal(c->company.email, "biuro@test-druk.example");
	s = xasprintf("%s/logo.png", good);
	assert_string_equal(c->company.logo, s);
	free(s);

	assert_int_equal(c->limits.max_message, 10 * 1024 * 1024);
	assert_int_equal(c->limits.max_header, 128 * 1024);
	assert_int_equal(c->limits.max_header_line, 20000);
	assert_int_equal(c->limits.max_parts, 50);
	assert_int_equal(c->limits.max_depth, 20);                   /* default */
	assert_int_equal(c->limits.max_attachment, 40 * 1024 * 1024); /* default */
	assert_int_equal(c->limits.auto_replies_per_hour, 0);

	assert_int_equal(c->nrules, 4);
	assert_string_equal(c->rules[0].domain, "*.de");
	assert_string_equal(c->rules[0].owner, "k.schmidt");
	assert_string_equal(c->rules[0].lang, "de");
	assert_string_equal(c->rules[0].currency, "EUR");
	assert_int_equal(c->rules[0].line, 24);
	assert_string_equal(c->rules[1].domain, "klient.pl");
	assert_null(c->rules[1].lang);
	assert_null(c->rules[1].currency);
	assert_null(c->rules[2].owner);

	/* An explicit list replaces the built-in one. */
	assert_int_equal(c->nfreemail, 2);
	assert_string_equal(c->freemail[1], "wp.pl");

	assert_int_equal(c->nusers, 5);
	const struct cfg_user *u = &c->users[0];
	assert_string_equal(u->login, "a.nowak");
	assert_string_equal(u->name, "Anna Nowak");
	assert_string_equal(u->email, "anna.nowak@test-druk.example");
	assert_int_equal(u->role, ROLE_REP);
	assert_string_equal(u->supervisor, "m.zielinski");
	assert_string_equal(u->phone, "+48 601 000 001");
	u = &c->users[1];
	assert_string_equal(u->lang, "de");
	assert_null(u->phone);
	u = &c->users[2];
	assert_string_equal(u->name, "Marek Zieliński");   /* runs of spaces folded */
	assert_string_equal(u->lang, "pl");                /* default */
	assert_null(c->users[3].supervisor);

	assert_int_equal(c->nproducts, 3);
	const struct cfg_product *p = &c->products[0];
	assert_string_equal(p->sku, "BAN-440");
	assert_string_equal(p->name_pl, "Baner frontlit 440 g/m²");
	assert_int_equal(p->unit, UNIT_M2);
	assert_int_equal(p->vat_bp, 2300);
	assert_int_equal(p->price_pln, 1250);   /* "12,50" */
	assert_int_equal(p->price_eur, 1250);   /* "12.5" */
	p = &c->products[1];
	assert_string_equal(p->name_pl, "Zgrzewanie krawędzi");
	assert_int_equal(p->unit, UNIT_M);
	assert_int_equal(p->vat_bp, 800);
	assert_int_equal(p->price_pln, 700);
	assert_int_equal(p->price_eur, -1);
	p = &c->products[2];
	assert_string_equal(p->name_pl, "Oczkowanie <co 50 cm>");
	assert_string_equal(p->name_de, "Ösen & Zubehör");
	assert_int_equal(p->unit, UNIT_PCS);
	assert_int_equal(p->vat_bp, 2300);      /* "23%" */
	assert_int_equal(p->price_pln, 0);
	assert_int_equal(p->price_eur, 30);     /* "0,30" */

	config_free(c);
	free(good);
	free(top);
	free(path);
}

static void
test_defaults(void **state)
{
	(void)state;
	char *path = fx("minimal/inkflow.xml");
	struct config *c = load_ok(path);
	char *dir = fx_real("minimal");
	char *s = xasprintf("%s/data/inkflow.db", dir);
	assert_string_equal(c->db_path, s);
	free(s);
	s = xasprintf("%s/data/hmac.key", dir);
	assert_string_equal(c->key_path, s);
	free(s);
	assert_string_equal(c->default_lang, "pl");
	assert_string_equal(c->default_currency, "PLN");
	assert_null(c->company.logo);
	assert_int_equal(c->limits.max_message, 50 * 1024 * 1024);
	assert_int_equal(c->limits.max_header, 256 * 1024);
	assert_int_equal(c->limits.max_header_line, 64 * 1024);
	assert_int_equal(c->limits.max_parts, 500);
	assert_int_equal(c->limits.max_depth, 20);
	assert_int_equal(c->limits.max_attachment, 40 * 1024 * 1024);
	assert_int_equal(c->limits.auto_replies_per_hour, 5);
	assert_int_equal(c->nrules, 0);
	assert_null(config_rule_for(c, "x.de"));
	/* No <freemail>: the built-in list. */
	assert_true(c->nfreemail > 20);
	assert_true(config_is_freemail(c, "gmail.com"));
	assert_true(config_is_freemail(c, "wp.pl"));
	assert_true(config_is_freemail(c, "t-online.de"));
	assert_false(config_is_freemail(c, "bmt.example"));
	/* users.xml named as ../good/users.xml */
	assert_int_equal(c->nusers, 5);
	config_free(c);
	free(dir);
	free(path);
}

static void
test_lookups(void **state)
{
	(void)state;
	char *path = fx("good/inkflow.xml");
	struct config *c = load_ok(path);

	assert_ptr_equal(config_user(c, "a.nowak"), &c->users[0]);
	assert_ptr_equal(config_user(c, "A.Nowak"), &c->users[0]);
	assert_null(config_user(c, "a.nowa"));
	assert_null(config_user(c, NULL));
	assert_ptr_equal(config_user_by_email(c, "anna.nowak@test-druk.example"), &c->users[0]);
	assert_ptr_equal(config_user_by_email(c, "Anna.NOWAK@Test-Druk.Example"), &c->users[0]);
	assert_null(config_user_by_email(c, "anna.nowak@test-druk.example.pl"));
	assert_ptr_equal(config_user_by_role(c, ROLE_REP), &c->users[0]);
	assert_string_equal(config_user_by_role(c, ROLE_BOARD)->login, "l.wojcik");
	assert_string_equal(config_user_by_role(c, ROLE_BOK)->login, "m.zak");
	assert_null(config_user_by_role(c, ROLE_ACCOUNTING));
	assert_ptr_equal(config_product(c, "FIN-HEM"), &c->products[1]);
	assert_ptr_equal(config_product(c, "fin-hem"), &c->products[1]);
	assert_null(config_product(c, "FIN"));

	/* "*.de" matches any subdomain depth, never "de" or "xde". */
	assert_ptr_equal(config_rule_for(c, "x.de"), &c->rules[0]);
	assert_ptr_equal(config_rule_for(c, "a.x.de"), &c->rules[0]);
	assert_ptr_equal(config_rule_for(c, "X.DE"), &c->rules[0]);
	assert_null(config_rule_for(c, "de"));
	assert_null(config_rule_for(c, "xde"));
	assert_null(config_rule_for(c, "x.de.pl"));
	/* Exact domain: only itself. */
	assert_ptr_equal(config_rule_for(c, "klient.pl"), &c->rules[1]);
	assert_null(config_rule_for(c, "sub.klient.pl"));
	assert_null(config_rule_for(c, "inny-klient.pl"));
	/* First match wins: *.sub.at before *.at. */
	assert_ptr_equal(config_rule_for(c, "a.sub.at"), &c->rules[2]);
	assert_ptr_equal(config_rule_for(c, "sub.at"), &c->rules[3]);
	assert_null(config_rule_for(c, NULL));

	assert_true(config_is_freemail(c, "gmail.com"));
	assert_true(config_is_freemail(c, "GMAIL.COM"));
	assert_true(config_is_freemail(c, "wp.pl"));
	assert_false(config_is_freemail(c, "mail.gmail.com"));
	assert_false(config_is_freemail(c, "notgmail.com"));
	assert_false(config_is_freemail(c, "onet.pl"));   /* not in this list */
	assert_false(config_is_freemail(c, NULL));

	assert_null(config_user(NULL, "a.nowak"));
	assert_null(config_rule_for(NULL, "x.de"));
	assert_false(config_is_freemail(NULL, "gmail.com"));
	config_free(c);
	config_free(NULL);
	free(path);
}

/* ---- every error, one pass ---------------------------------------------- */

static void
check_sorted(const struct errlist *e, const char *const files[3])
{
	int last_file = 0, last_line = 0;
	for (size_t i = 0; i < e->n; i++) {
		int f;
		for (f = 0; f < 3; f++)
			if (strncmp(e->v[i], files[f], strlen(files[f])) == 0 &&
			    e->v[i][strlen(files[f])] == ':')
				break;
		assert_true(f < 3);
		int line = atoi(e->v[i] + strlen(files[f]) + 1);
		assert_true(f > last_file || (f == last_file && line >= last_line));
		last_file = f;
		last_line = line;
	}
}

static void
test_bad_one_pass(void **state)
{
	(void)state;
	char *main = fx("bad/inkflow.xml");
	char *users = fx("bad/users.xml");
	char *prices = fx("bad/pricelist.xml");
	char *dir = fx_real("bad");
	char *logo = xasprintf("cannot read %s/no-such-logo.png: No such file", dir);
	char *owner = xasprintf("\"k.schmit\" is not a user in %s", users);
	struct errlist e = {0};
	load_fail(main, &e);

	const struct want wm[] = {
		{4, "<system> address: \"biuro@@bmt.example\" is not an email address"},
		{4, "<system>: missing attribute \"name\""},
		{4, "<system> lang: unknown value \"en\" (one of: pl, de)"},
		{4, "<system> currency: unknown value \"USD\" (one of: PLN, EUR)"},
		{5, "<paths>: unknown attribute \"templats\""},
		{5, "<paths>: missing attribute \"templates\""},
		{6, "<source> type: unknown value \"pop3\" (supported: maildir, imap)"},
		{7, "<outbox>: missing attribute \"path\""},
		{8, "<company> bank-account: \"PL61 1090 1014 0000 0712 1981 2875\" is not a valid IBAN"},
		{8, "<company> phone: \"call us\" is not a phone number"},
		{8, "<company> email: \"biuro\" is not an email address"},
		{8, logo},
		{11, "<limits>: unknown attribute \"max-mesage\""},
		{11, "<limits> max-message: \"50X\" is not a size"},
		{11, "<limits> max-header: 2G out of range (4K..16M)"},
		{11, "<limits> max-parts: \"many\" is not a whole number"},
		{11, "<limits> max-depth: 0 out of range (1..100)"},
		{11, "<limits> auto-replies-per-hour: -1 out of range (0..1000)"},
		{11, "<limits>: max-header-line is larger than max-header"},
		{13, owner},
		{14, "<rule> \"firma.de\" never applies: the rule \"*.de\" at line 13"},
		{15, "<rule> domain: \"bad domain.pl\" is neither a domain"},
		{16, "<rule>: sets nothing"},
		{17, "<rule> owner: \"t.krol\" is production, not a salesperson"},
		{18, "<rule> lang: unknown value \"fr\""},
		{22, "<domain>: \"gmail.com\" listed twice"},
		{23, "<domain>: \"not a domain\" is not a domain"},
		{24, "<domain>: empty"},
		{26, "unknown element <limts> in <inkflow>"},
		{27, "<system> given twice (first at line 4)"},
		{28, "<inkflow>: unexpected text \"stray text\""},
	};
	const struct want wu[] = {
		{4, "<user>: login \"a.nowak\" given twice (first at line 3)"},
		{5, "<user>: email \"anna.nowak@bmt.example\" given twice (first at line 3)"},
		{5, "<user> \"b.kowal\": supervisor \"nobody\" is not a user"},
		{6, "<user> login: \"C.Wrong\" is not a login"},
		{7, "<user> email: \"d@localhost\" is not an email address"},
		{7, "<user> role: unknown value \"salesman\" (one of: rep, supervisor, "
		    "sales-director, board, bok, accounting, production, admin)"},
		{7, "<user> lang: unknown value \"en\""},
		{7, "<user> phone: \"12\" is not a phone number"},
		{8, "<user>: missing attribute \"name\""},
		{8, "<user>: missing attribute \"email\""},
		{9, "supervisors form a loop (m.zielinski -> f.loop -> m.zielinski)"},
		{10, "supervisors form a loop (f.loop -> m.zielinski -> f.loop)"},
		{11, "<user> \"g.self\": is its own supervisor"},
		{12, "<user>: unknown attribute \"pager\""},
		{13, "unknown element <usr> in <users> (allowed: user)"},
	};
	const struct want wp[] = {
		{7, "<price>: \"12.505\" has more than two decimal places"},
		{9, "<product>: sku \"BAN-440\" given twice (first at line 3)"},
		{9, "<product> unit: unknown value \"m²\" (one of: m2, pcs, m)"},
		{9, "<product> vat: 230% out of range (0..50%)"},
		{9, "<product> BAN-440: missing <name lang=\"de\">"},
		{11, "<name>: lang \"pl\" given twice"},
		{12, "<price>: \"-3.00\" is negative"},
		{14, "<product> sku: \"ban 510\" is not a SKU"},
		{14, "<product> vat: \"abc\" is not a percentage"},
		{14, "<product> ban 510: no <price>"},
		{17, "<name> lang: unknown value \"en\""},
		{19, "<product>: missing attribute \"sku\""},
		{21, "<price> currency: unknown value \"USD\""},
		{22, "<price>: \"abc\" is not a price (e.g. 12.50 or 12,50)"},
		{23, "<price>: PLN price given twice"},
		{24, "unknown element <b> in <price> (text only)"},
		{26, "<product> EMPTY: missing <name lang=\"pl\">"},
		{26, "<product> EMPTY: missing <name lang=\"de\">"},
		{26, "<product> EMPTY: no <price>"},
	};
	size_t nm = ARRAY_LEN(wm), nu = ARRAY_LEN(wu), np = ARRAY_LEN(wp);
	assert_int_equal(e.n, nm + nu + np);
	/* Split by file: errors come sorted by file, then line. */
	const char *const files[3] = {main, users, prices};
	check_sorted(&e, files);
	struct errlist part = {.v = e.v, .n = nm};
	expect(&part, main, wm, nm);
	part = (struct errlist){.v = e.v + nm, .n = nu};
	expect(&part, users, wu, nu);
	part = (struct errlist){.v = e.v + nm + nu, .n = np};
	expect(&part, prices, wp, np);

	errlist_free(&e);
	free(logo);
	free(owner);
	free(dir);
	free(main);
	free(users);
	free(prices);
}

static void
expect_one(const char *fixture, int line, const char *has)
{
	char *path = fx(fixture);
	struct errlist e = {0};
	load_fail(path, &e);
	const struct want w[] = {{line, has}};
	expect(&e, path, w, 1);
	errlist_free(&e);
	free(path);
}

static void
test_doctype_refused(void **state)
{
	(void)state;
	const char *doctype = "DOCTYPE is not allowed in configuration files";
	expect_one("doctype.xml", 2, doctype);
	expect_one("xxe.xml", 2, doctype);
	expect_one("bomb.xml", 2, doctype);
	expect_one("external-dtd.xml", 2, doctype);

	/* The same guard on a file named by inkflow.xml; no follow-on errors
	 * about users that could not be read. */
	char *main = fx("include-xxe/inkflow.xml");
	char *users = fx("include-xxe/users.xml");
	struct errlist e = {0};
	load_fail(main, &e);
	const struct want w[] = {{2, doctype}};
	expect(&e, users, w, 1);
	errlist_free(&e);
	free(main);
	free(users);

	/* Without a DTD an entity reference is just an undefined entity. */
	expect_one("undefined-entity.xml", 4, "XML error: Entity 'shop' not defined");
}

static void
test_malformed(void **state)
{
	(void)state;
	char *path = fx("malformed.xml");
	struct errlist e = {0};
	load_fail(path, &e);
	const struct want w[] = {
		{5, "XML error: Opening and ending tag mismatch: system line 3 and inkflow"},
		{6, "XML error: Premature end of data"},
	};
	expect(&e, path, w, ARRAY_LEN(w));
	errlist_free(&e);
	free(path);
	expect_one("bad-utf8.xml", 3, "XML error: Input is not proper UTF-8");
	expect_one("wrong-root.xml", 3, "root element is <users>, expected <inkflow>");
}

static void
test_missing_elements(void **state)
{
	(void)state;
	char *path = fx("empty.xml");
	struct errlist e = {0};
	load_fail(path, &e);
	const struct want w[] = {
		{2, "<inkflow>: missing element <system>"},
		{2, "<inkflow>: missing element <paths>"},
		{2, "<inkflow>: missing element <source>"},
		{2, "<inkflow>: missing element <outbox>"},
		{2, "<inkflow>: missing element <company>"},
		{2, "<inkflow>: missing element <users>"},
		{2, "<inkflow>: missing element <pricelist>"},
		{2, "<inkflow>: missing element <workflow>"},
	};
	expect(&e, path, w, ARRAY_LEN(w));
	errlist_free(&e);
	free(path);
}

static void
test_missing_files(void **state)
{
	(void)state;
	char *path = fx("no-such-file.xml");
	struct errlist e = {0};
	load_fail(path, &e);
	const struct want w0[] = {{0, "cannot read: No such file or directory"}};
	expect(&e, path, w0, 1);
	errlist_free(&e);
	free(path);

	path = fx("good");
	load_fail(path, &e);
	const struct want w1[] = {{0, "cannot read: not a regular file"}};
	expect(&e, path, w1, 1);
	errlist_free(&e);
	free(path);

	/* Named files that cannot be read are reported where they are named;
	 * the rule owner is not checked against users never read. */
	path = fx("missing-files.xml");
	char *users = fx("no-such-dir/users.xml");
	char *prices = fx("good");
	char *m1 = xasprintf("<users>: cannot read %s: No such file or directory", users);
	char *m2 = xasprintf("<pricelist>: cannot read %s: not a regular file", prices);
	load_fail(path, &e);
	const struct want w2[] = {{12, m1}, {13, m2}};
	expect(&e, path, w2, 2);
	errlist_free(&e);
	free(m1);
	free(m2);
	free(users);
	free(prices);
	free(path);

	struct config *c = NULL;
	assert_int_equal(config_load(NULL, &c, &e), -1);
	assert_null(c);
	assert_int_equal(e.n, 1);
	errlist_free(&e);
}

/* ---- files built at run time ------------------------------------------------ */

static void
write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* A file of exactly size bytes: an <inkflow> element padded by a comment. */
static void
write_padded(const char *path, size_t size)
{
	const char *head = "<inkflow><!--", *tail = "--></inkflow>\n";
	char *buf = xmalloc(size);
	memset(buf, 'x', size);
	memcpy(buf, head, strlen(head));
	memcpy(buf + size - strlen(tail), tail, strlen(tail));
	write_file(path, buf, size);
	free(buf);
}

static void
test_oversize(void **state)
{
	(void)state;
	char tmpl[] = "/tmp/inkflow-test-config-XXXXXX";
	char *dir = mkdtemp(tmpl);
	assert_non_null(dir);
	char *big = xasprintf("%s/big.xml", dir);
	char *edge = xasprintf("%s/edge.xml", dir);
	char *main = xasprintf("%s/inkflow.xml", dir);
	struct errlist e = {0};

	write_padded(big, CONFIG_MAX_FILE + 1);
	load_fail(big, &e);
	const struct want w1[] = {{0, "cannot read: larger than the limit of 4194304 bytes"}};
	expect(&e, big, w1, 1);
	errlist_free(&e);

	/* Exactly at the limit: read and parsed (then incomplete). */
	write_padded(edge, CONFIG_MAX_FILE);
	load_fail(edge, &e);
	for (size_t i = 0; i < e.n; i++)
		assert_null(strstr(e.v[i], "larger than"));
	assert_non_null(strstr(e.v[0], "missing element <system>"));
	errlist_free(&e);

	/* A named file over the limit, reported where it is named. */
	const char *m = "<inkflow>\n<users file=\"big.xml\"/>\n</inkflow>\n";
	write_file(main, m, strlen(m));
	load_fail(main, &e);
	char *msg = xasprintf("<users>: cannot read %s: larger than the limit", big);
	int found = 0;
	for (size_t i = 0; i < e.n; i++)
		found |= strncmp(e.v[i], main, strlen(main)) == 0 &&
		    strstr(e.v[i], ":2: ") && strstr(e.v[i], msg);
	if (!found)
		dump(&e);
	assert_true(found);
	errlist_free(&e);

	free(msg);
	unlink(big);
	unlink(edge);
	unlink(main);
	rmdir(dir);
	free(big);
	free(edge);
	free(main);
}

/* users.xml in dir holding n users u0..u(n-1); user i's supervisor is
 * u((i+1) % ring) for i < ring, none after. */
static void
write_users(const char *dir, size_t n, size_t ring)
{
	struct sbuf sb = {0};
	sb_adds(&sb, "<users>\n");
	for (size_t i = 0; i < n; i++) {
		sb_printf(&sb, "<user login=\"u%zu\" name=\"U\" email=\"u%zu@x.example\" "
		    "role=\"rep\"", i, i);
		if (i < ring)
			sb_printf(&sb, " supervisor=\"u%zu\"", (i + 1) % ring);
		sb_adds(&sb, "/>\n");
	}
	sb_adds(&sb, "</users>\n");
	char *path = xasprintf("%s/users.xml", dir);
	write_file(path, sb.s, sb.len);
	free(path);
	sb_free(&sb);
}

static void
test_list_limits(void **state)
{
	(void)state;
	char tmpl[] = "/tmp/inkflow-test-config-XXXXXX";
	char *dir = mkdtemp(tmpl);
	assert_non_null(dir);
	char *main = xasprintf("%s/inkflow.xml", dir);
	char *users = xasprintf("%s/users.xml", dir);
	const char *m = "<inkflow>\n<users file=\"users.xml\"/>\n</inkflow>\n";
	write_file(main, m, strlen(m));
	struct errlist e = {0};

	/* 10001 users: one error at the first too many (line 10002), and the
	 * rest of the checks still run on the 10000 read. */
	assert_int_equal(CONFIG_MAX_LIST, 10000);
	write_users(dir, CONFIG_MAX_LIST + 1, 0);
	load_fail(main, &e);
	int found = 0;
	for (size_t i = 0; i < e.n; i++)
		found |= strncmp(e.v[i], users, strlen(users)) == 0 &&
		    strcmp(e.v[i] + strlen(users),
			":10002: more than 10000 <user> elements; the rest are not read") == 0;
	if (!found)
		dump(&e);
	assert_true(found);
	errlist_free(&e);

	/* A loop of 12: every member reported, the chain shortened. */
	write_users(dir, 14, 12);
	load_fail(main, &e);
	size_t loops = 0;
	for (size_t i = 0; i < e.n; i++)
		loops += strstr(e.v[i], "supervisors form a loop") != NULL;
	assert_int_equal(loops, 12);
	char *want = xasprintf("%s:2: <user> \"u0\": supervisors form a loop "
	    "(u0 -> u1 -> u2 -> u3 -> u4 -> u5 -> u6 -> u7 -> ... -> u0)", users);
	found = 0;
	for (size_t i = 0; i < e.n; i++)
		found |= strcmp(e.v[i], want) == 0;
	if (!found)
		dump(&e);
	assert_true(found);
	free(want);
	errlist_free(&e);

	unlink(users);
	unlink(main);
	rmdir(dir);
	free(users);
	free(main);
}

/* ---- the shipped configuration ---------------------------------------------- */

static void
test_shipped_conf(void **state)
{
	(void)state;
	char *path = xasprintf("%s/conf/inkflow.xml", srcdir());
	struct config *c = load_ok(path);
	char *root = realpath(srcdir(), NULL);
	assert_non_null(root);
	char *s = xasprintf("%s/mailboxes/inbox", root);
	assert_string_equal(c->source_maildir, s);
	free(s);
	s = xasprintf("%s/data/inkflow.db", root);
	assert_string_equal(c->db_path, s);
	free(s);
	assert_string_equal(c->domain, "bmt.example");
	assert_string_equal(c->company.name, "BMT Druk Wielkoformatowy Sp. z o.o.");

	assert_true(c->nusers >= 9);
	int nrep = 0;
	for (size_t i = 0; i < c->nusers; i++) {
		const struct cfg_user *u = &c->users[i];
		if (u->role == ROLE_REP)
			nrep++;
		/* Every chain ends at the board. */
		const struct cfg_user *top = u;
		for (int n = 0; top->supervisor && n < 20; n++)
			top = config_user(c, top->supervisor);
		assert_int_equal(top->role, ROLE_BOARD);
	}
	assert_int_equal(nrep, 3);
	for (int r = 0; r < ROLE__COUNT; r++)
		assert_non_null(config_user_by_role(c, (enum role)r));
	const struct cfg_user *ks = config_user(c, "k.schmidt");
	assert_non_null(ks);
	assert_string_equal(ks->lang, "de");
	assert_string_equal(config_rule_for(c, "werbung-mueller.de")->owner, ks->login);
	assert_string_equal(config_rule_for(c, "firma.at")->currency, "EUR");
	assert_true(config_is_freemail(c, "wp.pl"));

	assert_true(c->nproducts >= 18);
	for (size_t i = 0; i < c->nproducts; i++) {
		const struct cfg_product *p = &c->products[i];
		assert_true(p->price_pln > 0);
		assert_true(p->price_eur > 0);
		assert_int_equal(p->vat_bp, 2300);
	}
	const struct cfg_product *ban = config_product(c, "BAN-440");
	assert_non_null(ban);
	assert_true(ban->price_pln >= 3500 && ban->price_pln <= 4500);
	assert_int_equal(config_product(c, "FIN-HEM")->unit, UNIT_M);
	assert_int_equal(config_product(c, "FIN-EYE")->unit, UNIT_PCS);
	config_free(c);
	free(root);
	free(path);
}

/* conf/ copied elsewhere resolves its paths there. */
/* workflow.xml mistakes: every one reported with its line, in one pass. */
static void
test_bad_workflow(void **state)
{
	(void)state;
	char *path = fx("badwf/inkflow.xml");
	struct errlist e = {0};
	struct config *c = NULL;
	assert_int_equal(config_load(path, &c, &e), -1);
	assert_null(c);
	char *wf = fx("badwf/workflow.xml");
	static const struct {
		int line;
		const char *text;
	} want[] = {
		{7, "unknown element <launch-rocket>"},
		{9, "<on> goto: unknown state \"calculaton\""},
		{10, "<on> event: unknown value \"teleport\""},
		{14, "<task> for: unknown value \"manager\""},
		{14, "<task> due: \"2 days\" is not a duration"},
		{14, "<task> actions: unknown action \"fly\""},
		{15, "\"user:nobody\": no such user"},
		{17, "<on> guard: unknown value \"if-lucky\""},
		{19, "<state> \"island\" is unreachable from \"inquiry\""},
		{22, "<state> \"offer\" given twice (first at line 12)"},
	};
	for (size_t i = 0; i < ARRAY_LEN(want); i++) {
		char *prefix = xasprintf("%s:%d: ", wf, want[i].line);
		int found = 0;
		for (size_t j = 0; j < e.n; j++)
			if (strncmp(e.v[j], prefix, strlen(prefix)) == 0 &&
			    strstr(e.v[j], want[i].text))
				found = 1;
		if (!found) {
			fprintf(stderr, "missing: %s%s\n", prefix, want[i].text);
			dump(&e);
		}
		assert_true(found);
		free(prefix);
	}
	errlist_free(&e);
	free(wf);
	free(path);
}

static void
test_relocated_conf(void **state)
{
	(void)state;
	char tmpl[] = "/tmp/inkflow-test-config-XXXXXX";
	char *tmp = mkdtemp(tmpl);
	assert_non_null(tmp);
	char *base = realpath(tmp, NULL);
	char *conf = xasprintf("%s/conf", base);
	assert_int_equal(mkdir(conf, 0700), 0);
	static const char *const files[] = {"inkflow.xml", "users.xml", "pricelist.xml",
	    "workflow.xml"};
	for (size_t i = 0; i < ARRAY_LEN(files); i++) {
		char *from = xasprintf("%s/conf/%s", srcdir(), files[i]);
		char *to = xasprintf("%s/%s", conf, files[i]);
		char *data;
		size_t len;
		assert_int_equal(file_read(from, CONFIG_MAX_FILE, &data, &len), 0);
		write_file(to, data, len);
		free(data);
		free(from);
		free(to);
	}
	char *path = xasprintf("%s/inkflow.xml", conf);
	struct config *c = load_ok(path);
	char *s = xasprintf("%s/data", base);
	assert_string_equal(c->data_dir, s);
	free(s);
	s = xasprintf("%s/templates", base);
	assert_string_equal(c->templates_dir, s);
	free(s);
	s = xasprintf("%s/mailboxes/outbox", base);
	assert_string_equal(c->outbox_maildir, s);
	free(s);
	config_free(c);

	for (size_t i = 0; i < ARRAY_LEN(files); i++) {
		char *f = xasprintf("%s/%s", conf, files[i]);
		unlink(f);
		free(f);
	}
	rmdir(conf);
	rmdir(base);
	free(path);
	free(conf);
	free(base);
}

/* ---- CalDAV settings of users ------------------------------------------------ */

static const char *const caldav_files[] = {"inkflow.xml", "users.xml", "ok.pw", "open.pw",
    "two.pw", "ca.pem"};

/* A fresh directory holding an inkflow.xml whose users.xml is the fixture
 * caldav/<users>, beside ok.pw (mode 0600), open.pw (0640), two.pw (0600,
 * two lines) and ca.pem: modes git cannot keep.  Returns the directory
 * (canonical; caller frees and removes it with caldav_rm). */
static char *
caldav_dir(const char *users)
{
	char tmpl[] = "/tmp/inkflow-test-caldav-XXXXXX";
	assert_non_null(mkdtemp(tmpl));
	char *dir = realpath(tmpl, NULL);
	assert_non_null(dir);
	char *good = fx_real("good");
	char *conf = xasprintf(
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<inkflow>\n"
	    "  <system address=\"biuro@test-druk.example\" name=\"Test Druk\"/>\n"
	    "  <paths data=\"data\" templates=\"templates\"/>\n"
	    "  <source type=\"maildir\" path=\"in\"/>\n"
	    "  <outbox type=\"maildir\" path=\"out\"/>\n"
	    "  <company name=\"Test Druk\" address=\"ul. Próbna 1\" city=\"00-950 Warszawa\"\n"
	    "           country=\"Polska\" tax-id=\"PL0000000000\"\n"
	    "           bank-account=\"PL61 1090 1014 0000 0712 1981 2874\"\n"
	    "           phone=\"+48 22 555 01 01\" email=\"biuro@test-druk.example\"\n"
	    "           www=\"www.test-druk.example\"/>\n"
	    "  <users file=\"users.xml\"/>\n"
	    "  <pricelist file=\"%s/pricelist.xml\"/>\n"
	    "  <workflow file=\"%s/workflow.xml\"/>\n"
	    "</inkflow>\n", good, good);
	char *from = fx(users);
	char *data;
	size_t len;
	assert_int_equal(file_read(from, CONFIG_MAX_FILE, &data, &len), 0);
	static const struct {
		const char *name, *text;
		mode_t mode;
	} secrets[] = {
		{"ok.pw", "s3cret pass\n", 0600},
		{"open.pw", "s3cret\n", 0640},
		{"two.pw", "line one\nline two\n", 0600},
		{"ca.pem", "-----BEGIN CERTIFICATE-----\n", 0644},
	};
	char *p = xasprintf("%s/inkflow.xml", dir);
	write_file(p, conf, strlen(conf));
	free(p);
	p = xasprintf("%s/users.xml", dir);
	write_file(p, data, len);
	free(p);
	for (size_t i = 0; i < ARRAY_LEN(secrets); i++) {
		p = xasprintf("%s/%s", dir, secrets[i].name);
		write_file(p, secrets[i].text, strlen(secrets[i].text));
		assert_int_equal(chmod(p, secrets[i].mode), 0);
		free(p);
	}
	free(data);
	free(from);
	free(conf);
	free(good);
	return dir;
}

static void
caldav_rm(char *dir)
{
	for (size_t i = 0; i < ARRAY_LEN(caldav_files); i++) {
		char *f = xasprintf("%s/%s", dir, caldav_files[i]);
		unlink(f);
		free(f);
	}
	assert_int_equal(rmdir(dir), 0);
	free(dir);
}

static void
test_caldav_users(void **state)
{
	(void)state;
	char *dir = caldav_dir("caldav/users-good.xml");
	char *path = xasprintf("%s/inkflow.xml", dir);
	struct config *c = load_ok(path);

	/* A '/' ends the collection URL; the password is the file's one line. */
	const struct cfg_user *u = config_user(c, "a.nowak");
	assert_string_equal(u->caldav_url, "https://cal.test-druk.example/dav/anna/tasks/");
	assert_string_equal(u->caldav_user, "anna@test-druk.example");
	assert_string_equal(u->caldav_password, "s3cret pass");
	assert_null(u->caldav_ca);
	/* Plain http to this machine, without authentication. */
	u = config_user(c, "m.zielinski");
	assert_string_equal(u->caldav_url, "http://127.0.0.1:5232/marek/calendar/");
	assert_null(u->caldav_user);
	assert_null(u->caldav_password);
	u = config_user(c, "k.lokal");
	assert_string_equal(u->caldav_url, "http://LocalHost/k/");
	assert_string_equal(u->caldav_password, "s3cret pass");
	/* An IPv6 literal with a port, %-escapes and sub-delimiters; the CA
	 * file resolved against users.xml's directory. */
	u = config_user(c, "l.wojcik");
	assert_string_equal(u->caldav_url, "https://[2001:db8::1]:8443/dav/%C5%81ukasz/zadania;x=1/");
	char *ca = xasprintf("%s/ca.pem", dir);
	assert_string_equal(u->caldav_ca, ca);
	free(ca);
	u = config_user(c, "m.zak");
	assert_null(u->caldav_url);
	assert_null(u->caldav_user);
	assert_null(u->caldav_password);
	assert_null(u->caldav_ca);
	config_free(c);
	free(path);
	caldav_rm(dir);
}

/* Every CalDAV mistake in users.xml, each at its line, in one pass. */
static void
test_caldav_bad(void **state)
{
	(void)state;
	char *dir = caldav_dir("caldav/users-bad.xml");
	char *path = xasprintf("%s/inkflow.xml", dir);
	char *users = xasprintf("%s/users.xml", dir);
	char *open_pw = xasprintf("caldav-password-file: %s/open.pw has mode 0640, open to group "
	                          "or others (chmod 600 it)", dir);
	char *no_pw = xasprintf("caldav-password-file: cannot read %s/no-such.pw: No such file",
	    dir);
	char *no_ca = xasprintf("caldav-ca: cannot read %s/no-such.pem: No such file", dir);
	struct errlist e = {0};
	load_fail(path, &e);
	const struct want w[] = {
		{5, "<user> caldav: \"ftp://cal.example.com/u/\" is not an https:// URL"},
		{6, "caldav: \"http://cal.example.com/u/\" uses http://, allowed only for 127.0.0.1, "
		    "[::1] and localhost"},
		{7, "holds a user name or password (give caldav-user= and caldav-password-file=)"},
		{8, "has a query or fragment"},
		{9, "\"https://cal_example.com/u/\" has no valid host name or address"},
		{10, "has a port outside 1..65535"},
		{11, "\"https://cal.example.com/a b/\" has a character not allowed in a URL path"},
		{12, "has a '%' that starts no %-escape"},
		{13, "<user> caldav-user: needs caldav="},
		{13, "<user> caldav-password-file: needs caldav="},
		{13, "<user> caldav-ca: needs caldav="},
		{14, "<user>: caldav-user= needs caldav-password-file="},
		{15, "<user>: caldav-password-file= needs caldav-user="},
		{16, open_pw},
		{17, no_pw},
		{18, "two.pw must hold the password on one line"},
		{19, "<user> caldav-user: \"u:15\" holds ':'"},
		{20, no_ca},
		{21, "<user> caldav-ca: is for an https:// caldav= URL"},
		{22, "<user>: unknown attribute \"caldav-pasword\""},
		{23, "is not a regular file"},
	};
	expect(&e, users, w, ARRAY_LEN(w));
	errlist_free(&e);
	free(no_ca);
	free(no_pw);
	free(open_pw);
	free(users);
	free(path);
	caldav_rm(dir);
}

/* ---- small pieces ------------------------------------------------------------ */

static void
test_names(void **state)
{
	(void)state;
	for (int i = 0; i < ROLE__COUNT; i++) {
		enum role r = ROLE__COUNT;
		assert_int_equal(role_parse(role_name((enum role)i), &r), 0);
		assert_int_equal(r, i);
	}
	enum role r = ROLE_ADMIN;
	assert_string_equal(role_name(ROLE_SALES_DIRECTOR), "sales-director");
	assert_int_equal(role_parse("Rep", &r), -1);
	assert_int_equal(role_parse(NULL, &r), -1);
	assert_int_equal(r, ROLE_ADMIN);
	assert_string_equal(role_name(ROLE__COUNT), "?");

	enum unit u = UNIT_M;
	assert_string_equal(unit_name(UNIT_M2), "m2");
	assert_string_equal(unit_name(UNIT_PCS), "pcs");
	assert_int_equal(unit_parse("m2", &u), 0);
	assert_int_equal(u, UNIT_M2);
	assert_int_equal(unit_parse("m", &u), 0);
	assert_int_equal(u, UNIT_M);
	assert_int_equal(unit_parse("m²", &u), -1);
	assert_int_equal(unit_parse("szt", &u), -1);
}

static void
test_errlist(void **state)
{
	(void)state;
	struct errlist e = {0};
	errlist_add(&e, "conf/users.xml", 12, "bad %s", "value");
	errlist_add(&e, "conf/users.xml", 0, "whole file");
	errlist_add(&e, "x.xml", 3, "two\nlines\r");
	assert_int_equal(e.n, 3);
	assert_string_equal(e.v[0], "conf/users.xml:12: bad value");
	assert_string_equal(e.v[1], "conf/users.xml: whole file");
	assert_string_equal(e.v[2], "x.xml:3: two lines ");
	errlist_free(&e);
	assert_int_equal(e.n, 0);
	assert_null(e.v);
	errlist_free(&e);
	errlist_free(NULL);
}

/* ---- <digest> ------------------------------------------------------------------ */

/* The shipped configuration copied to a new directory, with every <digest>
 * element removed and `extra` (lines) inserted before </inkflow>.  Returns
 * the path of inkflow.xml and in *line the line extra starts on; the
 * directory is removed by digest_conf_free. */
static char *
digest_conf(const char *extra, int *line)
{
	char tmpl[] = "/tmp/inkflow-test-config-XXXXXX";
	char *dir = mkdtemp(tmpl);
	assert_non_null(dir);
	static const char *const files[] = {"inkflow.xml", "users.xml", "pricelist.xml",
	    "workflow.xml"};
	for (size_t i = 0; i < ARRAY_LEN(files); i++) {
		char *from = xasprintf("%s/conf/%s", srcdir(), files[i]);
		char *to = xasprintf("%s/%s", dir, files[i]);
		char *data;
		size_t len;
		assert_int_equal(file_read(from, CONFIG_MAX_FILE, &data, &len), 0);
		if (i == 0) {
			/* drop a shipped <digest .../> (one element, maybe over lines) */
			char *d = strstr(data, "<digest ");
			if (d) {
				char *e = strstr(d, "/>");
				assert_non_null(e);
				memmove(d, e + 2, strlen(e + 2) + 1);
			}
			char *end = strstr(data, "</inkflow>");
			assert_non_null(end);
			*line = 1;
			for (char *p = data; p < end; p++)
				*line += *p == '\n';
			struct sbuf sb = {0};
			sb_add(&sb, data, (size_t)(end - data));
			sb_adds(&sb, extra);
			sb_adds(&sb, end);
			write_file(to, sb.s, sb.len);
			sb_free(&sb);
		} else {
			write_file(to, data, len);
		}
		free(data);
		free(from);
		free(to);
	}
	return xasprintf("%s/inkflow.xml", dir);
}

static void
digest_conf_free(char *path)
{
	char *dir = path_dirname(path);
	static const char *const files[] = {"inkflow.xml", "users.xml", "pricelist.xml",
	    "workflow.xml"};
	for (size_t i = 0; i < ARRAY_LEN(files); i++) {
		char *f = xasprintf("%s/%s", dir, files[i]);
		unlink(f);
		free(f);
	}
	rmdir(dir);
	free(dir);
	free(path);
}

static void
test_digest(void **state)
{
	(void)state;
	int line;
	/* the shipped configuration has one in a comment, and it works when
	 * taken out of it */
	char *path = xasprintf("%s/conf/inkflow.xml", srcdir());
	struct config *c = load_ok(path);
	assert_int_equal(c->digest.nto, 0);
	config_free(c);
	char *data;
	size_t len;
	assert_int_equal(file_read(path, CONFIG_MAX_FILE, &data, &len), 0);
	free(path);
	char *el = strstr(data, "<digest ");
	assert_non_null(el);
	char *end = strstr(el, "/>");
	assert_non_null(end);
	char *sample = xasprintf("%.*s\n", (int)(end + 2 - el), el);
	free(data);
	path = digest_conf(sample, &line);
	free(sample);
	c = load_ok(path);
	assert_int_equal(c->digest.hour, 7);
	assert_string_equal(c->digest.lang, "pl");
	assert_int_equal(c->digest.nto, 3);
	for (size_t i = 0; i < c->digest.nto; i++)
		assert_non_null(config_user(c, c->digest.to[i]));
	config_free(c);
	digest_conf_free(path);

	/* none: no recipients */
	path = digest_conf("", &line);
	c = load_ok(path);
	assert_int_equal(c->digest.nto, 0);
	assert_null(c->digest.to);
	config_free(c);
	digest_conf_free(path);

	/* all attributes, the list spread over lines */
	path = digest_conf("<digest hour=\"7\" lang=\"de\"\n"
	    "  to=\"e.wisniewska   l.wojcik\n  m.zielinski\"/>\n", &line);
	c = load_ok(path);
	assert_int_equal(c->digest.hour, 7);
	assert_string_equal(c->digest.lang, "de");
	assert_int_equal(c->digest.nto, 3);
	assert_string_equal(c->digest.to[0], "e.wisniewska");
	assert_string_equal(c->digest.to[1], "l.wojcik");
	assert_string_equal(c->digest.to[2], "m.zielinski");
	assert_true(c->digest.line >= line); /* libxml2: where the start tag ends */
	config_free(c);
	digest_conf_free(path);

	/* defaults: hour 7, the system's language */
	path = digest_conf("<digest to=\"l.wojcik\"/>\n", &line);
	c = load_ok(path);
	assert_int_equal(c->digest.hour, 7);
	assert_string_equal(c->digest.lang, "pl");
	assert_int_equal(c->digest.nto, 1);
	config_free(c);
	digest_conf_free(path);

	path = digest_conf("<digest hour=\"0\" to=\"l.wojcik\"/>\n", &line);
	c = load_ok(path);
	assert_int_equal(c->digest.hour, 0);
	config_free(c);
	digest_conf_free(path);

	/* every mistake, with its line, in one pass */
	struct errlist e = {0};
	path = digest_conf("<digest hour=\"24\" lang=\"en\" when=\"daily\" "
	    "to=\"l.wojcik nobody l.wojcik E.Wisniewska,m.zielinski\"/>\n", &line);
	load_fail(path, &e);
	const struct want w[] = {
		{line, "<digest>: unknown attribute \"when\""},
		{line, "<digest> hour: \"24\" is not a whole number in 0..23"},
		{line, "<digest> lang: unknown value \"en\""},
		{line, "<digest> to: \"l.wojcik\" given twice"},
		{line, "<digest> to: \"E.Wisniewska,m.zielinski\" is not a login"},
		{line, "<digest> to: \"nobody\" is not a user in "},
	};
	expect(&e, path, w, ARRAY_LEN(w));
	errlist_free(&e);
	digest_conf_free(path);

	path = digest_conf("<digest hour=\"6\"/>\n<digest to=\"l.wojcik\"/>\n", &line);
	load_fail(path, &e);
	const struct want w2[] = {
		{line, "<digest>: missing attribute \"to\""},
		{line + 1, "<digest> given twice"},
	};
	expect(&e, path, w2, ARRAY_LEN(w2));
	errlist_free(&e);
	digest_conf_free(path);

	path = digest_conf("<digest to=\"l.wojcik\"><x/></digest>\n", &line);
	load_fail(path, &e);
	const struct want w3[] = {{line, "unknown element <x> in <digest>"}};
	expect(&e, path, w3, ARRAY_LEN(w3));
	errlist_free(&e);
	digest_conf_free(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_lookups),
		cmocka_unit_test(test_bad_one_pass),
		cmocka_unit_test(test_doctype_refused),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_missing_elements),
		cmocka_unit_test(test_missing_files),
		cmocka_unit_test(test_oversize),
		cmocka_unit_test(test_list_limits),
		cmocka_unit_test(test_shipped_conf),
		cmocka_unit_test(test_relocated_conf),
		cmocka_unit_test(test_bad_workflow),
		cmocka_unit_test(test_caldav_users),
		cmocka_unit_test(test_caldav_bad),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_errlist),
		cmocka_unit_test(test_digest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
