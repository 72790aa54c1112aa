/*
 * digest: the managers' daily digest.
 *
 * DESIGN
 * The day is Europe/Warsaw's whatever the process TZ says (the zone rules
 * of ical.c, as the calendar uses): its hour decides when the digest is
 * due, and its date ("2026-11-27") is the key of the digests table.  The
 * check that today has no digest yet, the numbers, the PDF, one queued mail
 * per recipient and the row for today are one IMMEDIATE transaction, so a
 * second process or a kill at any instant leaves either no digest for the
 * day or exactly one.  The numbers are report.c's, so the mail says what
 * `inkflow report pipeline --json` says: every project (not only those of
 * a period), valued at its latest calculation.
 */
#include "digest.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "calc.h"
#include "calendar.h"
#include "compose.h"
#include "config.h"
#include "db.h"
#include "ical.h"
#include "log.h"
#include "outbox.h"
#include "pdf.h"
#include "report.h"
#include "tmpl.h"
#include "util.h"

/* The whole history, as `inkflow report` without --from and --to. */
#define ALL_FROM 0
#define ALL_TO (INT64_MAX / 2)

/* The words of one language. */
struct words {
	const char *title, *as_of;
	const char *pipeline, *pipeline_note, *states, *states_note;
	const char *activity, *activity_note, *new_projects, *messages;
	const char *f_projects, *f_value, *f_won, *f_pending, *f_overdue;
	const char *no_owner, *others, *none, *oldest;
	const char *h_rep, *h_state, *h_projects, *h_value, *h_offers, *h_won, *h_conv;
	const char *offers, *won, *conversion, *pct;
	const char *file;
	const char *weekday[7], *month[12];
};

static const struct words pl_words = {
	.title = "Dzienny raport sprzedaży", .as_of = "stan na godz.",
	.pipeline = "Wartość lejka wg handlowca",
	.pipeline_note = "netto, ostatnia kalkulacja każdego projektu; EUR przeliczone po kursie "
	    "z konfiguracji",
	.states = "Projekty wg etapu", .states_note = "liczba projektów na każdym etapie procesu",
	.activity = "Aktywność – ostatnie 30 dni", .activity_note = "dziennie",
	.new_projects = "Nowe projekty", .messages = "Wiadomości",
	.f_projects = "Projekty", .f_value = "Wartość lejka (netto)",
	.f_won = "Wygrane / z ofertą", .f_pending = "Kalkulacje do zatwierdzenia",
	.f_overdue = "Zaległe zadania",
	.no_owner = "(bez opiekuna)", .others = "pozostali", .none = "brak",
	.oldest = "najstarsze od",
	.h_rep = "Handlowiec", .h_state = "Etap", .h_projects = "Projekty", .h_value = "Wartość",
	.h_offers = "Oferty", .h_won = "Wygrane", .h_conv = "Konwersja",
	.offers = "z ofertą", .won = "wygrane", .conversion = "konwersja", .pct = "%",
	.file = "raport",
	.weekday = {"niedziela", "poniedziałek", "wtorek", "środa", "czwartek", "piątek",
	    "sobota"},
	.month = {"stycznia", "lutego", "marca", "kwietnia", "maja", "czerwca", "lipca",
	    "sierpnia", "września", "października", "listopada", "grudnia"},
};

static const struct words de_words = {
	.title = "Täglicher Vertriebsbericht", .as_of = "Stand",
	.pipeline = "Pipeline-Wert je Vertriebsmitarbeiter",
	.pipeline_note = "netto, letzte Kalkulation je Projekt; EUR zum konfigurierten Kurs in "
	    "PLN umgerechnet",
	.states = "Projekte je Status", .states_note = "Anzahl der Projekte je Prozessschritt",
	.activity = "Aktivität – letzte 30 Tage", .activity_note = "pro Tag",
	.new_projects = "Neue Projekte", .messages = "Nachrichten",
	.f_projects = "Projekte", .f_value = "Pipeline-Wert (netto)",
	.f_won = "Gewonnen / mit Angebot", .f_pending = "Kalkulationen zur Freigabe",
	.f_overdue = "Überfällige Aufgaben",
	.no_owner = "(ohne Betreuer)", .others = "weitere", .none = "keine",
	.oldest = "älteste seit",
	.h_rep = "Vertrieb", .h_state = "Status", .h_projects = "Projekte", .h_value = "Wert",
	.h_offers = "Angebote", .h_won = "Gewonnen", .h_conv = "Konversion",
	.offers = "mit Angebot", .won = "gewonnen", .conversion = "Konversion", .pct = " %",
	.file = "bericht",
	.weekday = {"Sonntag", "Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag",
	    "Samstag"},
	.month = {"Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August",
	    "September", "Oktober", "November", "Dezember"},
};

/* The states of the shipped workflow in people's words; any other state is
 * shown by its name. */
static const struct {
	const char *name, *pl, *de;
} state_words[] = {
	{"inquiry", "zapytanie", "Anfrage"},
	{"calculation", "kalkulacja", "Kalkulation"},
	{"approval", "akceptacja", "Freigabe"},
	{"offer", "oferta", "Angebot"},
	{"order-checks", "weryfikacja zamówienia", "Auftrag prüfen"},
	{"on-hold", "wstrzymane", "angehalten"},
	{"awaiting-signature", "oczekuje na podpis", "wartet auf Unterschrift"},
	{"production", "produkcja", "Produktion"},
	{"delivery", "dostawa", "Lieferung"},
	{"closed", "zamknięte", "geschlossen"},
	{"complaint", "reklamacja", "Reklamation"},
	{"complaint-decision", "decyzja reklamacyjna", "Reklamation: Entscheidung"},
};

static const char *
state_label(const char *state, int de)
{
	for (size_t i = 0; i < ARRAY_LEN(state_words); i++)
		if (strcmp(state_words[i].name, state) == 0)
			return de ? state_words[i].de : state_words[i].pl;
	return state;
}

/* ---- days in Europe/Warsaw ----------------------------------------------- */

/* The wall clock of t in the calendar's zone. */
static void
wall(int64_t t, struct tm *tm)
{
	time_t l = (time_t)(t + ical_tz_offset(CALENDAR_TZID, t));
	gmtime_r(&l, tm);
}

/* The instant day d of month m of year y starts (d may be out of the
 * month's range: 0 is the last day of the month before). */
static int64_t
day_start(int y, int m, int d)
{
	struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d, .tm_hour = 12};
	time_t noon = timegm(&tm);
	gmtime_r(&noon, &tm);
	int64_t t = 0;
	ical_tz_epoch(CALENDAR_TZID, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, 0, 0, 0, &t);
	return t;
}

static void
date_text(int64_t t, char *buf, size_t size)
{
	struct tm tm;
	wall(t, &tm);
	bfmt(buf, size, "%02d.%02d.%04d", tm.tm_mday, tm.tm_mon + 1, tm.tm_year + 1900);
}

/* ---- the numbers as text --------------------------------------------------- */

static int64_t
jint(json_t *o, const char *key)
{
	return (int64_t)json_integer_value(json_object_get(o, key));
}

static const char *
jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

/* s padded with spaces to width characters, on the left when right. */
static void
cell(struct sbuf *sb, const char *s, size_t width, int right)
{
	size_t n = utf8_len(s);
	if (right)
		for (size_t i = n; i < width; i++)
			sb_addc(sb, ' ');
	sb_adds(sb, s);
	if (!right)
		for (size_t i = n; i < width; i++)
			sb_addc(sb, ' ');
}

static void
money(int64_t grosze, const char *lang, char *buf, size_t size)
{
	calc_money(grosze, "PLN", lang, buf, size);
}

static void
percent(double v, const struct words *w, char *buf, size_t size)
{
	bfmt(buf, size, "%.0f%s", 100 * v, w->pct);
}

/* A rep's name for people: the user's name, the login when no user has it. */
static const char *
rep_name(const struct config *cfg, const char *login, const struct words *w)
{
	if (strcmp(login, "-") == 0)
		return w->no_owner;
	const struct cfg_user *u = config_user(cfg, login);
	return u ? u->name : login;
}

/* The entry of state in by_state, NULL when no project is in it. */
static json_t *
state_entry(json_t *by_state, const char *state)
{
	size_t i;
	json_t *e;
	json_array_foreach(by_state, i, e)
		if (strcmp(jstr(e, "state"), state) == 0)
			return e;
	return NULL;
}

/* The states in process order (the workflow's), then any other state a
 * project is in. */
static const char **
state_order(const struct config *cfg, json_t *by_state, size_t *n)
{
	size_t nw = cfg->workflow ? cfg->workflow->nstates : 0, cap = nw + json_array_size(by_state);
	const char **v = xcalloc(cap ? cap : 1, sizeof(*v));
	*n = 0;
	for (size_t i = 0; i < nw; i++)
		v[(*n)++] = cfg->workflow->states[i].name;
	size_t i;
	json_t *e;
	json_array_foreach(by_state, i, e) {
		int known = 0;
		for (size_t k = 0; k < nw; k++)
			known |= strcmp(v[k], jstr(e, "state")) == 0;
		if (!known)
			v[(*n)++] = jstr(e, "state");
	}
	return v;
}

static char *
text_states(const struct config *cfg, json_t *pl, const struct words *w, const char *lang)
{
	json_t *by = json_object_get(pl, "by_state");
	size_t n;
	const char **order = state_order(cfg, by, &n);
	int de = strcmp(lang, "de") == 0;
	size_t lw = utf8_len(w->h_state);
	for (size_t i = 0; i < n; i++)
		if (state_entry(by, order[i]) && utf8_len(state_label(order[i], de)) > lw)
			lw = utf8_len(state_label(order[i], de));
	struct sbuf sb = {0};
	sb_adds(&sb, "  ");
	cell(&sb, w->h_state, lw + 2, 0);
	cell(&sb, w->h_projects, 9, 1);
	cell(&sb, w->h_value, 18, 1);
	sb_addc(&sb, '\n');
	for (size_t i = 0; i < n; i++) {
		json_t *e = state_entry(by, order[i]);
		if (!e)
			continue;
		char c[24], m[48];
		bfmt(c, sizeof(c), "%lld", (long long)jint(e, "projects"));
		money(jint(e, "value"), lang, m, sizeof(m));
		sb_adds(&sb, "  ");
		cell(&sb, state_label(order[i], de), lw + 2, 0);
		cell(&sb, c, 9, 1);
		cell(&sb, m, 18, 1);
		sb_addc(&sb, '\n');
	}
	if (!json_array_size(by))
		sb_printf(&sb, "  %s\n", w->none);
	free(order);
	return sb_steal(&sb);
}

static char *
text_reps(const struct config *cfg, json_t *pl, const struct words *w, const char *lang)
{
	json_t *by = json_object_get(pl, "by_owner");
	size_t lw = utf8_len(w->h_rep), i;
	json_t *e;
	json_array_foreach(by, i, e) {
		size_t l = utf8_len(rep_name(cfg, jstr(e, "owner"), w));
		if (l > lw)
			lw = l;
	}
	struct sbuf sb = {0};
	sb_adds(&sb, "  ");
	cell(&sb, w->h_rep, lw + 2, 0);
	cell(&sb, w->h_projects, 9, 1);
	cell(&sb, w->h_value, 18, 1);
	cell(&sb, w->h_offers, 10, 1);
	cell(&sb, w->h_won, 10, 1);
	cell(&sb, w->h_conv, 11, 1);
	sb_addc(&sb, '\n');
	json_array_foreach(by, i, e) {
		char c[24], m[48], o[24], wn[24], cv[24];
		bfmt(c, sizeof(c), "%lld", (long long)jint(e, "projects"));
		money(jint(e, "value"), lang, m, sizeof(m));
		bfmt(o, sizeof(o), "%lld", (long long)jint(e, "offers"));
		bfmt(wn, sizeof(wn), "%lld", (long long)jint(e, "won"));
		percent(json_real_value(json_object_get(e, "conversion")), w, cv, sizeof(cv));
		sb_adds(&sb, "  ");
		cell(&sb, rep_name(cfg, jstr(e, "owner"), w), lw + 2, 0);
		cell(&sb, c, 9, 1);
		cell(&sb, m, 18, 1);
		cell(&sb, o, 10, 1);
		cell(&sb, wn, 10, 1);
		cell(&sb, cv, 11, 1);
		sb_addc(&sb, '\n');
	}
	if (!json_array_size(by))
		sb_printf(&sb, "  %s\n", w->none);
	return sb_steal(&sb);
}

static char *
text_overdue(const struct config *cfg, json_t *pl, const struct words *w)
{
	json_t *over = json_object_get(pl, "overdue_tasks");
	size_t lw = 0, i;
	json_t *e;
	json_array_foreach(over, i, e) {
		size_t l = utf8_len(rep_name(cfg, jstr(e, "user"), w));
		if (l > lw)
			lw = l;
	}
	struct sbuf sb = {0};
	json_array_foreach(over, i, e) {
		char c[24], when[32] = "";
		bfmt(c, sizeof(c), "%lld", (long long)jint(e, "overdue"));
		struct tm tm = {0};
		const char *end = strptime(jstr(e, "oldest_due"), "%Y-%m-%dT%H:%M:%SZ", &tm);
		if (end && !*end)
			date_text((int64_t)timegm(&tm), when, sizeof(when));
		sb_adds(&sb, "  ");
		cell(&sb, rep_name(cfg, jstr(e, "user"), w), lw + 2, 0);
		cell(&sb, c, 5, 1);
		if (*when)
			sb_printf(&sb, "   (%s %s)", w->oldest, when);
		sb_addc(&sb, '\n');
	}
	if (!json_array_size(over))
		sb_printf(&sb, "  %s\n", w->none);
	return sb_steal(&sb);
}

/* ---- the PDF ------------------------------------------------------------------ */

/* Strings the report's structures point to, freed together. */
struct pool {
	char **v;
	size_t n, cap;
};

static const char *
keep(struct pool *p, char *s)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 64;
		p->v = xrealloc(p->v, p->cap * sizeof(*p->v));
	}
	p->v[p->n++] = s;
	return s;
}

static void
pool_free(struct pool *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i]);
	free(p->v);
}

struct numbers {
	json_t *pipeline;            /* report_pipeline */
	int64_t pending;             /* calculations waiting for approval */
	int64_t value;               /* the pipeline's value: sum over reps */
	int64_t overdue;             /* open tasks past due */
	int64_t bounds[DIGEST_DAYS + 1];
	int64_t projects[DIGEST_DAYS], messages[DIGEST_DAYS];
};

static int
render(struct app *app, const struct numbers *nb, const struct words *w, const char *lang,
    int64_t now, char **pdf, size_t *len)
{
	const struct config *cfg = app->cfg;
	struct pool pool = {0};
	char b[128], m[48];
	json_t *pl = nb->pipeline;

	/* key figures */
	struct pdf_fact facts[5];
	bfmt(b, sizeof(b), "%lld", (long long)jint(pl, "projects"));
	facts[0] = (struct pdf_fact){w->f_projects, keep(&pool, xstrdup(b))};
	money(nb->value, lang, m, sizeof(m));
	facts[1] = (struct pdf_fact){w->f_value, keep(&pool, xstrdup(m))};
	percent(json_real_value(json_object_get(pl, "conversion")), w, m, sizeof(m));
	bfmt(b, sizeof(b), "%lld / %lld (%s)", (long long)jint(pl, "won"),
	    (long long)jint(pl, "offers"), m);
	facts[2] = (struct pdf_fact){w->f_won, keep(&pool, xstrdup(b))};
	bfmt(b, sizeof(b), "%lld", (long long)nb->pending);
	facts[3] = (struct pdf_fact){w->f_pending, keep(&pool, xstrdup(b))};
	bfmt(b, sizeof(b), "%lld", (long long)nb->overdue);
	facts[4] = (struct pdf_fact){w->f_overdue, keep(&pool, xstrdup(b))};

	/* value per rep: the largest first; beyond what a chart holds, the
	 * rest in one bar */
	json_t *by = json_object_get(pl, "by_owner");
	size_t nreps = json_array_size(by), nbars = 0;
	const char **rl = xcalloc(PDF_CHART_MAX_BARS, sizeof(*rl));
	int64_t *rv = xcalloc(PDF_CHART_MAX_BARS, sizeof(*rv));
	for (size_t i = 0; i < nreps; i++) {
		json_t *e = json_array_get(by, i);
		if (nreps > PDF_CHART_MAX_BARS && nbars == PDF_CHART_MAX_BARS - 1) {
			bfmt(b, sizeof(b), "%s (%zu)", w->others, nreps - i);
			rl[nbars] = keep(&pool, xstrdup(b));
			for (size_t k = i; k < nreps; k++)
				rv[nbars] += jint(json_array_get(by, k), "value");
			nbars++;
			break;
		}
		rl[nbars] = rep_name(cfg, jstr(e, "owner"), w);
		rv[nbars++] = jint(e, "value");
	}

	/* projects per state in process order; states without projects are
	 * left out only when there are more than a chart holds */
	json_t *bs = json_object_get(pl, "by_state");
	size_t nst;
	const char **order = state_order(cfg, bs, &nst);
	const char **sl = xcalloc(PDF_CHART_MAX_BARS, sizeof(*sl));
	int64_t *sv = xcalloc(PDF_CHART_MAX_BARS, sizeof(*sv));
	size_t ns = 0;
	int skip_empty = nst > PDF_CHART_MAX_BARS;
	for (size_t i = 0; i < nst && ns < PDF_CHART_MAX_BARS; i++) {
		json_t *e = state_entry(bs, order[i]);
		if (!e && skip_empty)
			continue;
		sl[ns] = state_label(order[i], strcmp(lang, "de") == 0);
		sv[ns++] = e ? jint(e, "projects") : 0;
	}
	free(order);

	/* the last 30 days */
	const char *dl[DIGEST_DAYS];
	for (size_t i = 0; i < DIGEST_DAYS; i++) {
		struct tm tm;
		wall(nb->bounds[i] + 12 * 3600, &tm);
		bfmt(b, sizeof(b), "%02d.%02d", tm.tm_mday, tm.tm_mon + 1);
		dl[i] = keep(&pool, xstrdup(b));
	}
	char d1[16], d2[16];
	date_text(nb->bounds[0], d1, sizeof(d1));
	date_text(nb->bounds[DIGEST_DAYS] - 1, d2, sizeof(d2));
	const char *anote = keep(&pool, xasprintf("%s, %s – %s", w->activity_note, d1, d2));

	struct pdf_series se[4] = {
		{NULL, rv}, {NULL, sv},
		{w->new_projects, nb->projects}, {w->messages, nb->messages},
	};
	struct pdf_chart charts[3] = {
		{PDF_CHART_HBAR, w->pipeline, w->pipeline_note, rl, nbars, &se[0], 1, "PLN"},
		{PDF_CHART_VBAR, w->states, w->states_note, sl, ns, &se[1], 1, NULL},
		{PDF_CHART_LINE, w->activity, anote, dl, DIGEST_DAYS, &se[2], 2, NULL},
	};
	struct tm tm;
	wall(now, &tm);
	const char *sub = keep(&pool, strcmp(lang, "de") == 0
	    ? xasprintf("%s, %d. %s %d · %s %02d:%02d Uhr", w->weekday[tm.tm_wday], tm.tm_mday,
	          w->month[tm.tm_mon], tm.tm_year + 1900, w->as_of, tm.tm_hour, tm.tm_min)
	    : xasprintf("%s, %d %s %d · %s %02d:%02d", w->weekday[tm.tm_wday], tm.tm_mday,
	          w->month[tm.tm_mon], tm.tm_year + 1900, w->as_of, tm.tm_hour, tm.tm_min));
	const char *company = cfg->company.name ? cfg->company.name : "";
	struct pdf_report rep = {
		.lang = lang, .title = w->title, .subtitle = sub,
		.footer = keep(&pool, xasprintf("%s · inkflow", company)), .author = company,
		.created = now, .facts = facts, .nfacts = ARRAY_LEN(facts), .charts = charts,
		.ncharts = ARRAY_LEN(charts),
	};
	char err[512];
	int rc = pdf_report_charts(&rep, pdf, len, err, sizeof(err));
	if (rc < 0)
		log_error("event=digest_failed step=pdf error=%s", log_q(err));
	free(rl);
	free(rv);
	free(sl);
	free(sv);
	pool_free(&pool);
	return rc;
}

/* ---- the mails ------------------------------------------------------------------ */

/* The numbers, the PDF and one mail per recipient; inside the caller's
 * transaction.  The number of mails queued, or -1. */
static int
digest_make(struct app *app, const char *day, int64_t now)
{
	const struct config *cfg = app->cfg;
	const char *lang = cfg->digest.lang && strcmp(cfg->digest.lang, "de") == 0 ? "de" : "pl";
	const struct words *w = strcmp(lang, "de") == 0 ? &de_words : &pl_words;
	struct numbers nb = {0};
	int sent = -1;
	char *pdf = NULL, *states = NULL, *reps = NULL, *overdue = NULL;
	size_t pdf_len = 0;

	nb.pipeline = report_pipeline(app, ALL_FROM, ALL_TO);
	nb.pending = report_pending_approvals(app);
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(nb.pipeline, "by_owner"), i, e)
		nb.value += jint(e, "value");
	json_array_foreach(json_object_get(nb.pipeline, "overdue_tasks"), i, e)
		nb.overdue += jint(e, "overdue");
	struct tm tm;
	wall(now, &tm);
	for (int k = 0; k <= DIGEST_DAYS; k++)
		nb.bounds[k] = day_start(tm.tm_year + 1900, tm.tm_mon + 1,
		    tm.tm_mday - DIGEST_DAYS + k);
	if (report_daily(app, nb.bounds, DIGEST_DAYS, nb.projects, nb.messages) < 0) {
		log_error("event=digest_failed step=numbers");
		goto out;
	}
	if (render(app, &nb, w, lang, now, &pdf, &pdf_len) < 0)
		goto out;

	json_t *pl = nb.pipeline;
	char date[16], projects[24], value[48], pending[24], conv[24], won[160];
	date_text(now, date, sizeof(date));
	bfmt(projects, sizeof(projects), "%lld", (long long)jint(pl, "projects"));
	money(nb.value, lang, value, sizeof(value));
	bfmt(pending, sizeof(pending), "%lld", (long long)nb.pending);
	percent(json_real_value(json_object_get(pl, "conversion")), w, conv, sizeof(conv));
	bfmt(won, sizeof(won), "%s: %lld, %s: %lld, %s: %s", w->offers,
	    (long long)jint(pl, "offers"), w->won, (long long)jint(pl, "won"), w->conversion, conv);
	states = text_states(cfg, pl, w, lang);
	reps = text_reps(cfg, pl, w, lang);
	overdue = text_overdue(cfg, pl, w);
	char *fname = xasprintf("%s-%s.pdf", w->file, day);
	struct mail_att_out att = {fname, "application/pdf", pdf, pdf_len};

	sent = 0;
	for (size_t r = 0; r < cfg->digest.nto && sent >= 0; r++) {
		const struct cfg_user *u = config_user(cfg, cfg->digest.to[r]);
		if (!u)
			continue; /* config_load checked them */
		struct tmpl_var v[] = {
		    {"recipient_name", u->name}, {"date", date}, {"company_name", cfg->company.name},
		    {"digest_projects", projects}, {"digest_value", value},
		    {"digest_states", states}, {"digest_reps", reps}, {"digest_won", won},
		    {"digest_overdue", overdue}, {"digest_pending", pending},
		};
		struct tmpl_mail m;
		char err[512];
		if (tmpl_mail_render(cfg->templates_dir, lang, "digest", v, ARRAY_LEN(v), &m, err,
		        sizeof(err)) < 0) {
			log_error("event=template_failed template=digest error=%s", log_q(err));
			sent = -1;
			break;
		}
		struct mail_out mo = {
		    .from_name = cfg->system_name, .from_addr = cfg->system_address,
		    .to_name = u->name, .to_addr = u->email, .subject = m.subject,
		    .text = m.text, .html = m.html, .atts = &att, .natts = 1,
		    .auto_generated = 1, .loop_id = cfg->system_address,
		};
		if (outbox_queue(app, 0, "digest", &mo, NULL) < 0)
			sent = -1;
		else
			sent++;
		tmpl_mail_free(&m);
	}
	free(fname);
out:
	json_decref(nb.pipeline);
	free(pdf);
	free(states);
	free(reps);
	free(overdue);
	return sent;
}

int
digest_run(struct app *app)
{
	const struct cfg_digest *dg = &app->cfg->digest;
	if (!dg->nto)
		return 0;
	int64_t now = now_epoch();
	struct tm tm;
	wall(now, &tm);
	if (tm.tm_hour < dg->hour)
		return 0;
	char day[16];
	bfmt(day, sizeof(day), "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	int64_t seen;
	int r = db_1i(app->db, &seen, "SELECT 1 FROM digests WHERE day=?1", "t", day);
	if (r != 0)
		return r < 0 ? -1 : 0;
	if (db_begin(app->db) < 0)
		return -1;
	/* again inside the transaction: another process may have sent it */
	r = db_1i(app->db, &seen, "SELECT 1 FROM digests WHERE day=?1", "t", day);
	if (r != 0) {
		db_rollback(app->db);
		return r < 0 ? -1 : 0;
	}
	int sent = digest_make(app, day, now);
	if (sent < 0 ||
	    db_x(app->db, "INSERT INTO digests(day,sent,recipients) VALUES(?1,?2,?3)", "tii", day,
	        now, (int64_t)sent) < 0 ||
	    db_commit(app->db) < 0) {
		db_rollback(app->db);
		return -1;
	}
	log_info("event=digest_sent day=%s recipients=%d", day, sent);
	return sent;
}
