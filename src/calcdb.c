#include "calcdb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "calc.h"
#include "db.h"
#include "util.h"

int64_t
calcdb_save(struct app *app, int64_t project, int64_t author, const char *currency,
    const char *source, const struct calc_result *r, const char *status)
{
	int64_t version = 0;
	if (db_1i(app->db, &version,
	        "SELECT coalesce(max(version),0) FROM calculations WHERE project_id=?1", "i",
	        project) < 0)
		return -1;
	if (db_x(app->db,
	        "INSERT INTO calculations(project_id,version,author_id,currency,net,vat,gross,"
	        "reverse_charge,status,source,created) VALUES(?1,?2,NULLIF(?3,0),?4,?5,?6,?7,?8,"
	        "?9,?10,?11)",
	        "iiitiiidtti", project, version + 1, author, currency, r->net, r->vat, r->gross,
	        r->reverse_charge, status, source ? source : "", now_epoch()) < 0)
		return -1;
	int64_t id = db_last_id(app->db);
	for (size_t i = 0; i < r->nlines; i++) {
		const struct calc_line *l = &r->lines[i];
		if (db_x(app->db,
		        "INSERT INTO calc_lines(calculation_id,pos,sku,name,unit,qty_milli,w_mm,h_mm,"
		        "billed_milli,list_price,unit_price,net,vat_bp,note) VALUES(?1,?2,?3,?4,?5,"
		        "?6,?7,?8,?9,?10,?11,?12,?13,?14)",
		        "idtttiiiiiiidt", id, (int)i + 1, l->sku, l->name, l->unit, l->qty_milli,
		        l->w_mm, l->h_mm, l->billed_milli, l->list_price, l->unit_price, l->net,
		        l->vat_bp, l->note) < 0)
			return -1;
	}
	return id;
}

int64_t
calcdb_current(struct app *app, int64_t project)
{
	int64_t id = 0;
	int rc = db_1i(app->db, &id,
	    "SELECT id FROM calculations WHERE project_id=?1 ORDER BY version DESC LIMIT 1", "i",
	    project);
	return rc < 0 ? -1 : rc == 0 ? 0 : id;
}

int
calcdb_head(struct app *app, int64_t calc, struct calc_head *h)
{
	memset(h, 0, sizeof(*h));
	struct db_stmt *q = db_q(app->db,
	    "SELECT id, project_id, version, coalesce(author_id,0), coalesce(approver_id,0), net,"
	    " vat, gross, reverse_charge, currency, status FROM calculations WHERE id=?1",
	    "i", calc);
	if (!q)
		return -1;
	int rc = db_step(q);
	if (rc == 1) {
		h->id = db_int(q, 0);
		h->project = db_int(q, 1);
		h->version = db_int(q, 2);
		h->author = db_int(q, 3);
		h->approver = db_int(q, 4);
		h->net = db_int(q, 5);
		h->vat = db_int(q, 6);
		h->gross = db_int(q, 7);
		h->reverse_charge = (int)db_int(q, 8);
		snprintf(h->currency, sizeof(h->currency), "%s", db_text(q, 9));
		snprintf(h->status, sizeof(h->status), "%s", db_text(q, 10));
	}
	db_done(q);
	return rc == 1 ? 0 : -1;
}

int
calcdb_set_status(struct app *app, int64_t calc, const char *status, int64_t approver)
{
	return db_x(app->db,
	    "UPDATE calculations SET status=?2, approver_id=coalesce(NULLIF(?3,0),approver_id)"
	    " WHERE id=?1",
	    "iti", calc, status, approver);
}

/* Quantity in thousandths as people write it: "3", "2,5", "1,25". */
static void
qty_text(int64_t milli, char *buf, size_t size)
{
	int64_t whole = milli / 1000, frac = milli % 1000;
	if (!frac)
		snprintf(buf, size, "%lld", (long long)whole);
	else {
		char f[8];
		snprintf(f, sizeof(f), "%03lld", (long long)frac);
		for (int i = 2; i > 0 && f[i] == '0'; i--)
			f[i] = '\0';
		snprintf(buf, size, "%lld,%s", (long long)whole, f);
	}
}

static void
html_esc(struct sbuf *sb, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '<')
			sb_adds(sb, "&lt;");
		else if (*s == '>')
			sb_adds(sb, "&gt;");
		else if (*s == '&')
			sb_adds(sb, "&amp;");
		else if (*s == '"')
			sb_adds(sb, "&quot;");
		else
			sb_addc(sb, *s);
	}
}

static const char *
unit_label(const char *unit, int de)
{
	if (strcmp(unit, "m2") == 0)
		return "m²";
	if (strcmp(unit, "m") == 0)
		return de ? "lfm" : "mb";
	return de ? "Stk." : "szt.";
}

int
calcdb_render(struct app *app, int64_t calc, const char *lang, char **text, char **html)
{
	struct calc_head h;
	if (calcdb_head(app, calc, &h) < 0)
		return -1;
	int de = strcmp(lang, "de") == 0;
	struct sbuf t = {0}, m = {0};
	sb_printf(&t, de ? "Kalkulation v%lld (%s)\n" : "Kalkulacja v%lld (%s)\n",
	    (long long)h.version, h.currency);
	sb_printf(&m, "<table style=\"border-collapse:collapse\" cellpadding=\"4\" border=\"1\">"
	              "<caption>%s v%lld (%s)</caption><tr><th>#</th><th>%s</th><th>%s</th>"
	              "<th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr>\n",
	    de ? "Kalkulation" : "Kalkulacja", (long long)h.version, h.currency,
	    de ? "Position" : "Pozycja", de ? "Menge" : "Ilość", de ? "Abgerechnet" : "Do zapłaty",
	    de ? "Listenpreis" : "Cena cennikowa", de ? "Preis" : "Cena", "Netto");
	struct db_stmt *q = db_q(app->db,
	    "SELECT pos, sku, name, unit, qty_milli, w_mm, h_mm, billed_milli, list_price,"
	    " unit_price, net, vat_bp, note FROM calc_lines WHERE calculation_id=?1 ORDER BY pos",
	    "i", calc);
	if (!q) {
		sb_free(&t);
		sb_free(&m);
		return -1;
	}
	while (db_step(q) == 1) {
		char qty[32], billed[32], lp[48] = "—", up[48], net[48], size[64] = "";
		qty_text(db_int(q, 4), qty, sizeof(qty));
		qty_text(db_int(q, 7), billed, sizeof(billed));
		if (db_int(q, 8) >= 0)
			calc_money(db_int(q, 8), h.currency, lang, lp, sizeof(lp));
		calc_money(db_int(q, 9), h.currency, lang, up, sizeof(up));
		calc_money(db_int(q, 10), h.currency, lang, net, sizeof(net));
		if (db_int(q, 5) && db_int(q, 6))
			snprintf(size, sizeof(size), " × %lldx%lld mm", (long long)db_int(q, 5),
			    (long long)db_int(q, 6));
		const char *sku = db_text(q, 1);
		const char *unit = unit_label(db_text(q, 3), de);
		int changed = db_int(q, 8) >= 0 && db_int(q, 8) != db_int(q, 9);
		sb_printf(&t, "%2lld. %s%s%s\n    %s%s = %s %s; %s %s, %s %s%s; %s %s\n",
		    (long long)db_int(q, 0), sku ? sku : "*", " ", db_text(q, 2), qty,
		    size, billed, unit, de ? "Liste" : "cennik", lp, de ? "Preis" : "cena", up,
		    changed ? " (!)" : "", "netto", net);
		if (db_text(q, 12))
			sb_printf(&t, "    # %s\n", db_text(q, 12));
		sb_printf(&m, "<tr><td>%lld</td><td>", (long long)db_int(q, 0));
		if (sku) {
			html_esc(&m, sku);
			sb_adds(&m, " ");
		}
		html_esc(&m, db_text(q, 2));
		if (db_text(q, 12)) {
			sb_adds(&m, "<br><small>");
			html_esc(&m, db_text(q, 12));
			sb_adds(&m, "</small>");
		}
		sb_printf(&m, "</td><td>%s%s</td><td>%s %s</td><td align=\"right\">%s</td>"
		              "<td align=\"right\"%s>%s</td><td align=\"right\">%s</td></tr>\n",
		    qty, size, billed, unit, lp, changed ? " style=\"color:#b00\"" : "", up, net);
	}
	db_done(q);
	char net[48], vat[48], gross[48];
	calc_money(h.net, h.currency, lang, net, sizeof(net));
	calc_money(h.vat, h.currency, lang, vat, sizeof(vat));
	calc_money(h.gross, h.currency, lang, gross, sizeof(gross));
	sb_printf(&t, "%s: %s   VAT: %s   %s: %s%s\n", de ? "Summe netto" : "Razem netto", net, vat,
	    "brutto", gross,
	    h.reverse_charge ? (de ? "   (Reverse Charge)" : "   (odwrotne obciążenie)") : "");
	sb_printf(&m, "<tr><td colspan=\"6\" align=\"right\"><b>%s</b></td><td align=\"right\">"
	              "<b>%s</b></td></tr><tr><td colspan=\"6\" align=\"right\">VAT%s</td>"
	              "<td align=\"right\">%s</td></tr><tr><td colspan=\"6\" align=\"right\">%s</td>"
	              "<td align=\"right\">%s</td></tr></table>\n",
	    de ? "Summe netto" : "Razem netto", net,
	    h.reverse_charge ? (de ? " (Reverse Charge)" : " (odwrotne obciążenie)") : "", vat,
	    "brutto", gross);
	*text = sb_steal(&t);
	*html = sb_steal(&m);
	return 0;
}

char *
calcdb_diff(struct app *app, int64_t a, int64_t b, const char *lang)
{
	struct calc_head ha, hb;
	if (calcdb_head(app, a, &ha) < 0 || calcdb_head(app, b, &hb) < 0)
		return xstrdup("");
	struct sbuf sb = {0};
	struct db_stmt *q = db_q(app->db,
	    "SELECT coalesce(n.pos,o.pos), coalesce(n.sku,o.sku,'*'), coalesce(n.name,o.name),"
	    " o.unit_price, n.unit_price, o.qty_milli, n.qty_milli"
	    " FROM calc_lines o LEFT JOIN calc_lines n ON n.calculation_id=?2 AND n.pos=o.pos"
	    " WHERE o.calculation_id=?1"
	    " UNION ALL SELECT n.pos, coalesce(n.sku,'*'), n.name, NULL, n.unit_price, NULL,"
	    " n.qty_milli FROM calc_lines n WHERE n.calculation_id=?2 AND NOT EXISTS"
	    " (SELECT 1 FROM calc_lines o WHERE o.calculation_id=?1 AND o.pos=n.pos)"
	    " ORDER BY 1",
	    "ii", a, b);
	while (q && db_step(q) == 1) {
		int gone = db_isnull(q, 4), added = db_isnull(q, 3);
		if (!gone && !added && db_int(q, 3) == db_int(q, 4) && db_int(q, 5) == db_int(q, 6))
			continue;
		char o[48] = "", n[48] = "";
		if (!added)
			calc_money(db_int(q, 3), ha.currency, lang, o, sizeof(o));
		if (!gone)
			calc_money(db_int(q, 4), hb.currency, lang, n, sizeof(n));
		sb_printf(&sb, "line %lld %s %s: %s%s%s\n", (long long)db_int(q, 0), db_text(q, 1),
		    db_text(q, 2), added ? "added at " : o, added || gone ? "" : " -> ",
		    gone ? " removed" : n);
	}
	if (q)
		db_done(q);
	char o[48], n[48];
	calc_money(ha.net, ha.currency, lang, o, sizeof(o));
	calc_money(hb.net, hb.currency, lang, n, sizeof(n));
	sb_printf(&sb, "net total %s -> %s", o, n);
	return sb_steal(&sb);
}
