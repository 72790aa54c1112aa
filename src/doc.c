#include "doc.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "app.h"
#include "calc.h"
#include "calcdb.h"
#include "config.h"
#include "artwork.h"
#include "db.h"
#include "log.h"
#include "pdf.h"
#include "store.h"
#include "util.h"

/* How long an offer is valid. */
#define OFFER_VALID_DAYS 30

static const struct {
	const char *kind, *prefix;
} kinds[] = {
	{"offer", "OF"}, {"calculation", "KA"}, {"order", "ZA"},
	{"production", "ZW"}, {"delivery", "WZ"}, {"complaint", "RK"},
};

static const char *
prefix_of(const char *kind)
{
	for (size_t i = 0; i < ARRAY_LEN(kinds); i++)
		if (strcmp(kinds[i].kind, kind) == 0)
			return kinds[i].prefix;
	return NULL;
}

int
doc_kind_ok(const char *kind)
{
	return kind && prefix_of(kind) != NULL;
}

static int
alnum8(int c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || c >= 0x80;
}

/* A separator of a number's fields at *p ('/', '-' or '_', a blank on
 * either side of it allowed): its length, 0 if none. */
static size_t
number_sep(const char *p, const char *end)
{
	const char *q = p;
	if (q < end && *q == ' ')
		q++;
	if (q >= end || (*q != '/' && *q != '-' && *q != '_'))
		return 0;
	q++;
	if (q < end && *q == ' ')
		q++;
	return (size_t)(q - p);
}

/* Up to maxd digits at p as a number: their count, 0 if none or more. */
static size_t
number_digits(const char *p, const char *end, size_t maxd, long long *v)
{
	size_t n = 0;
	*v = 0;
	while (p + n < end && p[n] >= '0' && p[n] <= '9') {
		if (++n > maxd)
			return 0;
		*v = *v * 10 + (p[n - 1] - '0');
	}
	return n;
}

size_t
doc_numbers_find(const char *text, size_t scan, char (*out)[DOC_NUMBER_MAX], size_t max)
{
	size_t found = 0;
	if (!text)
		return 0;
	size_t len = strnlen(text, scan);
	const char *s = text, *end = text + len;
	for (const char *p = s; p + 2 < end && found < max; p++) {
		if (p > s && alnum8((unsigned char)p[-1]))
			continue;
		const char *prefix = NULL;
		for (size_t k = 0; k < ARRAY_LEN(kinds) && !prefix; k++)
			if ((p[0] | 0x20) == (kinds[k].prefix[0] | 0x20) &&
			    (p[1] | 0x20) == (kinds[k].prefix[1] | 0x20))
				prefix = kinds[k].prefix;
		if (!prefix)
			continue;
		const char *q = p + 2;
		long long year, n;
		size_t w = number_sep(q, end), d;
		if (!w)
			continue;
		q += w;
		if ((d = number_digits(q, end, 4, &year)) != 4 || year < 2000 || year > 2099)
			continue;
		q += d;
		if (!(w = number_sep(q, end)))
			continue;
		q += w;
		if (!(d = number_digits(q, end, 6, &n)) || n <= 0)
			continue;
		q += d;
		if (q < end && alnum8((unsigned char)*q))
			continue;
		char num[DOC_NUMBER_MAX];
		snprintf(num, sizeof(num), "%s/%d/%04d", prefix, (int)year, (int)n);
		size_t i = 0;
		while (i < found && strcmp(out[i], num) != 0)
			i++;
		if (i == found)
			memcpy(out[found++], num, sizeof(num));
		p = q - 1;
	}
	return found;
}

/* The next number of kind in the year of now: "OF/2026/0042". */
static int
next_number(struct app *app, const char *kind, int64_t now, char *out, size_t size)
{
	time_t t = (time_t)now;
	struct tm tm;
	localtime_r(&t, &tm);
	int year = tm.tm_year + 1900;
	int64_t n = 0;
	if (db_x(app->db,
	        "INSERT INTO doc_numbers(kind,year,last) VALUES(?1,?2,1)"
	        " ON CONFLICT(kind,year) DO UPDATE SET last=last+1",
	        "td", kind, year) < 0 ||
	    db_1i(app->db, &n, "SELECT last FROM doc_numbers WHERE kind=?1 AND year=?2", "td", kind,
	        year) != 1)
		return -1;
	snprintf(out, size, "%s/%d/%04lld", prefix_of(kind), year, (long long)n);
	return 0;
}

static void
date_text(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!localtime_r(&tt, &tm) || !strftime(buf, size, "%d.%m.%Y", &tm))
		snprintf(buf, size, "?");
}

struct docdata {
	struct pdf_line *lines;
	size_t nlines;
	struct pdf_rate rates[8];
	size_t nrates;
	char *strs[96]; /* owned strings behind the vars */
	size_t nstrs;
	struct pdf_var vars[48];
	size_t nvars;
};

static const char *
keep(struct docdata *d, const char *s)
{
	if (d->nstrs == ARRAY_LEN(d->strs) || !s)
		return s ? s : "";
	d->strs[d->nstrs] = xstrdup(s);
	return d->strs[d->nstrs++];
}

static void
var(struct docdata *d, const char *name, const char *value)
{
	if (d->nvars < ARRAY_LEN(d->vars))
		d->vars[d->nvars++] = (struct pdf_var){name, keep(d, value ? value : "")};
}

static void
docdata_free(struct docdata *d)
{
	for (size_t i = 0; i < d->nlines; i++) {
		free((char *)d->lines[i].sku);
		free((char *)d->lines[i].name);
		free((char *)d->lines[i].unit);
		free((char *)d->lines[i].note);
	}
	free(d->lines);
	for (size_t i = 0; i < d->nstrs; i++)
		free(d->strs[i]);
}

static int
load_lines(struct app *app, int64_t calc, struct docdata *d)
{
	struct db_stmt *q = db_q(app->db,
	    "SELECT sku, name, unit, qty_milli, w_mm, h_mm, billed_milli, list_price, unit_price,"
	    " net, vat_bp, note FROM calc_lines WHERE calculation_id=?1 ORDER BY pos",
	    "i", calc);
	if (!q)
		return -1;
	size_t cap = 0;
	while (db_step(q) == 1) {
		if (d->nlines == cap) {
			cap = cap ? cap * 2 : 16;
			d->lines = xrealloc(d->lines, cap * sizeof(*d->lines));
		}
		struct pdf_line *l = &d->lines[d->nlines++];
		memset(l, 0, sizeof(*l));
		l->sku = xstrdup(db_text(q, 0));
		l->name = xstrdup(db_text(q, 1));
		l->unit = xstrdup(db_text(q, 2));
		l->qty_milli = db_int(q, 3);
		l->w_mm = db_int(q, 4);
		l->h_mm = db_int(q, 5);
		l->billed_milli = db_int(q, 6);
		l->list_price = db_int(q, 7);
		l->unit_price = db_int(q, 8);
		l->net = db_int(q, 9);
		l->vat_bp = (int)db_int(q, 10);
		l->note = xstrdup(db_text(q, 11));
		/* VAT summary per rate, on each rate's net sum (as calc.c). */
		size_t r;
		for (r = 0; r < d->nrates && d->rates[r].vat_bp != l->vat_bp; r++)
			;
		if (r == d->nrates && d->nrates < ARRAY_LEN(d->rates))
			d->rates[d->nrates++] = (struct pdf_rate){.vat_bp = l->vat_bp};
		if (r < ARRAY_LEN(d->rates))
			d->rates[r].net += l->net;
	}
	db_done(q);
	for (size_t r = 0; r < d->nrates; r++) {
		d->rates[r].vat = (d->rates[r].net * d->rates[r].vat_bp + 5000) / 10000;
		d->rates[r].gross = d->rates[r].net + d->rates[r].vat;
	}
	/* ascending by rate */
	for (size_t i = 1; i < d->nrates; i++)
		for (size_t j = i; j > 0 && d->rates[j - 1].vat_bp > d->rates[j].vat_bp; j--) {
			struct pdf_rate t = d->rates[j];
			d->rates[j] = d->rates[j - 1];
			d->rates[j - 1] = t;
		}
	return 0;
}

/* The client's artwork in the project, one line each, with what the file
 * says about itself and the resolution it gives at the ordered size of the
 * first sized line (flagged under the product's min-dpi). */
static char *
artwork_list(struct app *app, int64_t project, const char *lang, const struct docdata *d)
{
	int de = strcmp(lang, "de") == 0;
	int64_t w = 0, h = 0;
	int min_dpi = 0;
	for (size_t i = 0; i < d->nlines && !w; i++)
		if (d->lines[i].w_mm && d->lines[i].h_mm) {
			w = d->lines[i].w_mm;
			h = d->lines[i].h_mm;
			const struct cfg_product *p = d->lines[i].sku ? config_product(app->cfg, d->lines[i].sku)
			                                             : NULL;
			min_dpi = p ? p->min_dpi : 0;
		}
	struct sbuf sb = {0};
	struct db_stmt *q = db_q(app->db,
	    "SELECT a.filename, a.path FROM attachments a JOIN messages m ON m.id=a.message_id"
	    " WHERE m.project_id=?1 AND m.class='normal' AND a.embedded=0"
	    " AND (a.content_type='application/pdf' OR a.content_type LIKE 'image/%')"
	    " ORDER BY a.id LIMIT 50", "i", project);
	char *rows[50][2];
	size_t n = 0;
	while (q && n < 50 && db_step(q) == 1) {
		rows[n][0] = xstrdup(db_text(q, 0));
		rows[n][1] = xstrdup(db_text(q, 1));
		n++;
	}
	if (q)
		db_done(q);
	for (size_t i = 0; i < n; i++) {
		char *path = path_join(app->cfg->data_dir, rows[i][1]);
		struct artwork_info a;
		char err[256];
		if (artwork_read(path, 512u * 1024 * 1024, &a, err, sizeof(err)) < 0) {
			sb_printf(&sb, "%s: %s\n", rows[i][0], err);
		} else {
			sb_printf(&sb, "%s: %s", rows[i][0], a.format);
			if (a.page_w_um)
				sb_printf(&sb, ", %lld×%lld mm", (long long)((a.page_w_um + 500) / 1000),
				    (long long)((a.page_h_um + 500) / 1000));
			if (a.px_w)
				sb_printf(&sb, ", %lld×%lld px", (long long)a.px_w, (long long)a.px_h);
			if (a.dpi_x)
				sb_printf(&sb, ", %d dpi", a.dpi_x);
			sb_printf(&sb, ", %s", artwork_colour_name(a.colour));
			int eff = w ? artwork_effective_dpi(&a, w, h) : 0;
			if (eff)
				sb_printf(&sb, de ? "; bei %lld×%lld mm: %d dpi%s" : "; przy %lld×%lld mm: %d dpi%s",
				    (long long)w, (long long)h, eff,
				    min_dpi && eff < min_dpi
				        ? (de ? " – ZU NIEDRIG" : " – ZA MAŁO") : "");
			if (eff && min_dpi && eff < min_dpi)
				sb_printf(&sb, de ? " (mindestens %d)" : " (minimum %d)", min_dpi);
			sb_addc(&sb, '\n');
		}
		free(path);
		free(rows[i][0]);
		free(rows[i][1]);
	}
	if (!n)
		sb_adds(&sb, de ? "(keine Druckdaten vom Kunden)" : "(brak plików od klienta)");
	return sb_steal(&sb);
}

/* The latest complaint case, for the decision document. */
static void
complaint_vars(struct app *app, int64_t project, const char *lang, const char *cur,
    struct docdata *d)
{
	int de = strcmp(lang, "de") == 0;
	char *cnum = NULL, *ctext = NULL, *coutcome = NULL;
	int64_t copened = 0, camount = -1;
	struct db_stmt *c = db_q(app->db,
	    "SELECT number, coalesce(outcome,''), coalesce(amount,-1), coalesce(decision_text,''),"
	    " opened FROM complaints WHERE project_id=?1 ORDER BY id DESC LIMIT 1", "i", project);
	if (c && db_step(c) == 1) {
		cnum = xstrdup(db_text(c, 0));
		coutcome = xstrdup(db_text(c, 1));
		camount = db_int(c, 2);
		ctext = xstrdup(db_text(c, 3));
		copened = db_int(c, 4);
	}
	if (c)
		db_done(c);
	char cdate[16] = "", amt[48] = "";
	if (copened)
		date_text(copened, cdate, sizeof(cdate));
	if (camount >= 0)
		calc_money(camount, cur, lang, amt, sizeof(amt));
	static const struct {
		const char *key, *pl, *de;
	} outcomes[] = {
	    {"reprint", "Reklamacja uznana – dodruk", "Reklamation anerkannt – Nachdruck"},
	    {"discount", "Reklamacja uznana – rabat", "Reklamation anerkannt – Preisnachlass"},
	    {"refund", "Reklamacja uznana – zwrot", "Reklamation anerkannt – Erstattung"},
	    {"reject", "Reklamacja odrzucona", "Reklamation abgelehnt"},
	};
	struct sbuf dec = {0};
	for (size_t i = 0; coutcome && i < ARRAY_LEN(outcomes); i++)
		if (strcmp(coutcome, outcomes[i].key) == 0)
			sb_adds(&dec, de ? outcomes[i].de : outcomes[i].pl);
	if (*amt)
		sb_printf(&dec, ": %s", amt);
	if (ctext && *ctext)
		sb_printf(&dec, "\n%s", ctext);
	var(d, "case_number", cnum ? cnum : "");
	var(d, "complaint_date", cdate);
	var(d, "decision", sb_str(&dec));
	sb_free(&dec);
	free(cnum);
	free(ctext);
	free(coutcome);
}

int64_t
doc_render(struct app *app, int64_t project, const char *kind, char *err, size_t errlen)
{
	if (!doc_kind_ok(kind)) {
		snprintf(err, errlen, "unknown document kind \"%s\"", kind);
		return -1;
	}
	struct docdata d = {0};
	int64_t result = -1;
	char *pdf = NULL;
	size_t len = 0;
	struct db_stmt *q = db_q(app->db,
	    "SELECT p.title, p.lang, p.currency, c.name, coalesce(c.vat_id,''), ct.name,"
	    " ct.email, u.name, u.email, u.phone, coalesce(c.address,''),"
	    " coalesce(c.payment_terms,''), coalesce(p.invoice,'') FROM projects p"
	    " JOIN clients c ON c.id=p.client_id LEFT JOIN contacts ct ON ct.id=p.contact_id"
	    " LEFT JOIN users u ON u.id=p.owner_id WHERE p.id=?1",
	    "i", project);
	if (!q || db_step(q) != 1) {
		if (q)
			db_done(q);
		snprintf(err, errlen, "no project INK-%lld", (long long)project);
		return -1;
	}
	char lang[3], cur[4];
	snprintf(lang, sizeof(lang), "%s", db_text(q, 1));
	snprintf(cur, sizeof(cur), "%s", db_text(q, 2));
	int de = strcmp(lang, "de") == 0;
	char pb[32];
	snprintf(pb, sizeof(pb), "INK-%lld", (long long)project);
	/* Every name pdf.h lists, "" when the project has no value for it. */
	var(&d, "project", pb);
	var(&d, "project_title", db_text(q, 0));
	var(&d, "client_name", db_text(q, 3));
	var(&d, "client_tax_id", db_text(q, 4));
	var(&d, "client_contact", db_text(q, 5) ? db_text(q, 5) : db_text(q, 6));
	var(&d, "client_email", db_text(q, 6));
	var(&d, "client_phone", "");
	var(&d, "client_address", db_text(q, 10));
	var(&d, "owner_name", db_text(q, 7) ? db_text(q, 7) : app->cfg->company.name);
	var(&d, "owner_email", db_text(q, 8) ? db_text(q, 8) : app->cfg->system_address);
	var(&d, "owner_phone", db_text(q, 9) ? db_text(q, 9) : app->cfg->company.phone);
	var(&d, "payment_terms", *db_text(q, 11) ? db_text(q, 11)
	                         : de ? "Überweisung innerhalb von 14 Tagen" : "przelew 14 dni");
	var(&d, "invoice_number", db_text(q, 12));
	db_done(q);
	var(&d, "delivery_terms", de ? "Abholung oder Versand nach Absprache"
	                             : "odbiór osobisty lub wysyłka wg uzgodnienia");
	var(&d, "notes", "");
	static const struct {
		const char *name, *kind;
	} refs[] = {{"offer_number", "offer"}, {"order_number", "order"}};
	for (size_t i = 0; i < ARRAY_LEN(refs); i++) {
		char *num = NULL;
		db_1s(app->db, &num, "SELECT number FROM documents WHERE project_id=?1 AND kind=?2"
		                     " ORDER BY id DESC LIMIT 1", "it", project, refs[i].kind);
		var(&d, refs[i].name, num ? num : "");
		free(num);
	}

	int64_t calc = calcdb_current(app, project);
	struct calc_head h = {0};
	if (calc > 0 && (calcdb_head(app, calc, &h) < 0 || load_lines(app, calc, &d) < 0)) {
		snprintf(err, errlen, "cannot read the calculation of INK-%lld", (long long)project);
		goto out;
	}
	if (calc <= 0 && (strcmp(kind, "offer") == 0 || strcmp(kind, "order") == 0 ||
	                     strcmp(kind, "calculation") == 0)) {
		snprintf(err, errlen, "INK-%lld has no calculation to put in the %s", (long long)project,
		    kind);
		goto out;
	}
	const struct cfg_user *ap = h.approver ? store_user_cfg(app, h.approver) : NULL;
	var(&d, "approved_by", ap ? ap->name : "");
	complaint_vars(app, project, lang, cur, &d);
	if (strcmp(kind, "production") == 0) {
		char *art = artwork_list(app, project, lang, &d);
		var(&d, "artwork", art);
		free(art);
	} else
		var(&d, "artwork", "");
	int64_t now = now_epoch();
	char number[32], issued[16], valid[16];
	/* A complaint decision carries its case's number (RK/2026/0007). */
	char *case_no = NULL;
	int64_t taken = 1;
	if (strcmp(kind, "complaint") == 0 &&
	    db_1s(app->db, &case_no, "SELECT number FROM complaints WHERE project_id=?1"
	                             " ORDER BY id DESC LIMIT 1", "i", project) == 1 && case_no)
		db_1i(app->db, &taken, "SELECT count(*) FROM documents WHERE number=?1", "t", case_no);
	int numbered = !taken ? (snprintf(number, sizeof(number), "%s", case_no), 0)
	                      : next_number(app, kind, now, number, sizeof(number));
	free(case_no);
	if (numbered < 0) {
		snprintf(err, errlen, "cannot number the document: %s", db_errmsg(app->db));
		goto out;
	}
	date_text(now, issued, sizeof(issued));
	date_text(now + OFFER_VALID_DAYS * 86400, valid, sizeof(valid));
	var(&d, "valid_until", valid);
	char due[16];
	date_text(now + 5 * 86400, due, sizeof(due));
	var(&d, "due_date", due);
	var(&d, "delivery_date", strcmp(kind, "delivery") == 0 ? issued : "");
	struct pdf_doc pd = {
	    .kind = kind, .lang = lang, .currency = cur, .number = number, .issued = now,
	    .lines = d.lines, .nlines = d.nlines, .rates = d.rates, .nrates = d.nrates,
	    .net = h.net, .vat = h.vat, .gross = h.gross, .reverse_charge = h.reverse_charge,
	    .vars = d.vars, .nvars = d.nvars,
	};
	if (pdf_render(app->cfg, app->cfg->templates_dir, &pd, &pdf, &len, err, errlen) < 0)
		goto out;
	char sha[65];
	sha256_hex(pdf, len, sha);
	char fname[48];
	snprintf(fname, sizeof(fname), "%s.pdf", number);
	for (char *p = fname; *p; p++)
		if (*p == '/')
			*p = '-';
	time_t tt = (time_t)now;
	struct tm tm;
	localtime_r(&tt, &tm);
	char *rel = xasprintf("docs/%d/%s", tm.tm_year + 1900, fname);
	char *path = path_join(app->cfg->data_dir, rel);
	char *dir = path_dirname(path);
	int w = mkdir_p(dir, 0750) < 0 ? -1 : file_write_durable(path, pdf, len, 0640);
	free(dir);
	free(path);
	if (w < 0) {
		snprintf(err, errlen, "cannot store %s: %s", rel, strerror(errno));
		free(rel);
		goto out;
	}
	if (db_x(app->db,
	        "INSERT INTO documents(project_id,kind,number,lang,calculation_id,path,sha256,size,"
	        "created) VALUES(?1,?2,?3,?4,NULLIF(?5,0),?6,?7,?8,?9)",
	        "itttittii", project, kind, number, lang, calc > 0 ? calc : 0, rel, sha,
	        (int64_t)len, now) < 0 ||
	    hist_add(app->db, project, 0, "system", "document", "%s %s rendered (%zu bytes, sha256 %.16s…)",
	        kind, number, len, sha) < 0) {
		snprintf(err, errlen, "cannot record %s: %s", number, db_errmsg(app->db));
		free(rel);
		goto out;
	}
	free(rel);
	result = db_last_id(app->db);
	log_info("event=document project=%lld kind=%s number=%s bytes=%zu", (long long)project,
	    kind, number, len);
out:
	free(pdf);
	docdata_free(&d);
	return result;
}

int64_t
doc_latest(struct app *app, int64_t project, const char *kind)
{
	int64_t id = 0;
	db_1i(app->db, &id,
	    "SELECT id FROM documents WHERE project_id=?1 AND kind=?2 ORDER BY id DESC LIMIT 1", "it",
	    project, kind);
	return id;
}

int
doc_load(struct app *app, int64_t doc, char **pdf, size_t *len, char **filename, char **number)
{
	char *rel = NULL;
	if (db_1s(app->db, &rel, "SELECT path FROM documents WHERE id=?1", "i", doc) != 1)
		return -1;
	char *path = path_join(app->cfg->data_dir, rel);
	int r = file_read(path, 64 * 1024 * 1024, pdf, len);
	free(path);
	const char *base = strrchr(rel, '/');
	*filename = xstrdup(base ? base + 1 : rel);
	free(rel);
	if (r < 0) {
		free(*filename);
		return -1;
	}
	if (db_1s(app->db, number, "SELECT number FROM documents WHERE id=?1", "i", doc) != 1) {
		free(*pdf);
		free(*filename);
		return -1;
	}
	return 0;
}

int
doc_cli(struct app *app, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";
	const char *pn = argc > 2 ? argv[2] : NULL;
	int64_t project;
	if (pn && str_istarts(pn, "INK-"))
		pn += 4;
	if (!pn || parse_int64(pn, 1, INT64_MAX, &project) < 0) {
		fprintf(stderr, "inkflow: doc list N [--json] | doc render N KIND [-o FILE]\n");
		return 1;
	}
	if (strcmp(sub, "list") == 0) {
		int json = argc > 3 && strcmp(argv[3], "--json") == 0;
		if (app_open_db(app, APP_READ) < 0)
			return 1;
		struct db_stmt *q = db_q(app->db,
		    "SELECT kind, number, lang, path, sha256, size, created FROM documents"
		    " WHERE project_id=?1 ORDER BY id", "i", project);
		json_t *arr = json_array();
		while (q && db_step(q) == 1) {
			char ts[32];
			iso_time(db_int(q, 6), ts, sizeof(ts));
			if (json)
				json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:s}", "kind",
				    db_text(q, 0), "number", db_text(q, 1), "lang", db_text(q, 2), "path",
				    db_text(q, 3), "sha256", db_text(q, 4), "size", (json_int_t)db_int(q, 5),
				    "created", ts));
			else
				printf("%-14s %-12s %s  %s  %lld bytes  sha256 %.16s…\n", db_text(q, 1),
				    db_text(q, 0), ts, db_text(q, 3), (long long)db_int(q, 5), db_text(q, 4));
		}
		if (q)
			db_done(q);
		if (json) {
			char *s = json_dumps(arr, JSON_INDENT(2));
			puts(s);
			free(s);
		}
		json_decref(arr);
		return 0;
	}
	if (strcmp(sub, "render") == 0 && argc > 3) {
		const char *kind = argv[3];
		const char *outp = argc > 5 && strcmp(argv[4], "-o") == 0 ? argv[5] : NULL;
		if (!doc_kind_ok(kind)) {
			fprintf(stderr, "inkflow: unknown document kind \"%s\" (offer, calculation, order, "
			                "production, delivery, complaint)\n", kind);
			return 1;
		}
		if (app_open_db(app, APP_WRITE) < 0 || db_begin(app->db) < 0)
			return 1;
		char err[512];
		int64_t id = doc_render(app, project, kind, err, sizeof(err));
		if (id < 0 || db_commit(app->db) < 0) {
			db_rollback(app->db);
			fprintf(stderr, "inkflow: %s\n", id < 0 ? err : "commit failed");
			return 1;
		}
		char *pdf, *fname, *number;
		size_t len;
		if (doc_load(app, id, &pdf, &len, &fname, &number) < 0)
			return 1;
		if (outp && file_write_durable(outp, pdf, len, 0644) < 0) {
			fprintf(stderr, "inkflow: %s: %s\n", outp, strerror(errno));
			free(pdf);
			free(fname);
			free(number);
			return 1;
		}
		printf("%s %s (%zu bytes)%s%s\n", number, fname, len, outp ? " written to " : "",
		    outp ? outp : "");
		free(pdf);
		free(fname);
		free(number);
		return 0;
	}
	fprintf(stderr, "inkflow: doc list N [--json] | doc render N KIND [-o FILE]\n");
	return 1;
}
