/*
 * gen-bigdb: fill a database made by `inkflow init` with years of history,
 * for the scale benchmark (tests/bench/scale).
 *
 *   gen-bigdb [-p PROJECTS] [-s SEED] [-t NOW] DB
 *
 * Per project (default 1,000,000): 10 history events, 2 messages (0.3 with
 * an attachment), 3 tasks, a calculation with 2 lines and an offer (all but
 * the projects still in inquiry or calculation), 1 outbox mail; one client per 5 projects with 1.5 contacts each; 150 reps
 * besides the configured users.  Ten years of projects up to NOW, ids in
 * time order; projects of the last 60 days are spread over the live states
 * with open tasks (some overdue), older ones sit in offer (lost), closed or
 * on-hold with their tasks closed but for a few stale ones already reminded
 * and escalated.  Events of neighbouring projects interleave in time order
 * as they do in a running system.  Names, titles and bodies are Polish or
 * German.  The same seed gives the same rows.
 *
 * DESIGN.  One transaction, journal and sync off and a large page cache:
 * the file is a throwaway the benchmark copies before each use.  The schema
 * is the one `inkflow init` made (user_version at least 10); columns added
 * later keep their defaults.  The journal mode goes back to WAL at the end.
 */
#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DAY 86400LL
#define WINDOW 500 /* projects whose events interleave */
#define NEXTRA 150 /* generated reps */
#define LEN(a) (sizeof(a) / sizeof((a)[0]))

static uint64_t rng_state;

static uint64_t
rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int64_t
rn(int64_t n) /* 0..n-1 */
{
	return n > 0 ? (int64_t)(rnd() % (uint64_t)n) : 0;
}

static int
chance(int percent)
{
	return rn(1000) < percent * 10;
}

#define PICK(a) ((a)[rn((int64_t)LEN(a))])

static const char *pl_first[] = {"Łukasz", "Agnieszka", "Michał", "Małgorzata", "Paweł",
    "Katarzyna", "Józef", "Zofia", "Grzegorz", "Bożena", "Tomasz", "Joanna", "Wojciech",
    "Elżbieta", "Krzysztof", "Jadwiga", "Mikołaj", "Dorota", "Jarosław", "Beata"};
static const char *pl_last[] = {"Wiśniewski", "Wójcik", "Kamińska", "Lewandowski",
    "Zieliński", "Szymańska", "Woźniak", "Dąbrowski", "Kozłowska", "Jankowski", "Mazur",
    "Krawczyk", "Piątek", "Grabowski", "Nowakowska", "Pawłowski", "Michalska", "Król",
    "Wieczorek", "Jabłoński", "Żak", "Gołębiowska", "Ślusarczyk", "Łęcki"};
static const char *de_first[] = {"Jürgen", "Sabine", "Björn", "Käthe", "Stefan", "Anja", "Uwe",
    "Monika", "Jörg", "Dörte", "Matthias", "Ursula", "Günter", "Bärbel", "Thomas", "Heike"};
static const char *de_last[] = {"Müller", "Schäfer", "Weiß", "Krüger", "Hoffmann", "Bäcker",
    "Köhler", "Groß", "Schröder", "Koch", "Böhm", "Fuß", "Jäger", "Wagner", "Hähnel", "Vogt"};
static const char *ascii_pl_first[] = {"lukasz", "agnieszka", "michal", "malgorzata", "pawel",
    "katarzyna", "jozef", "zofia", "grzegorz", "bozena", "tomasz", "joanna", "wojciech"};
static const char *ascii_de_first[] = {"juergen", "sabine", "bjoern", "kaethe", "stefan", "anja",
    "uwe", "monika", "joerg", "doerte", "matthias", "ursula", "guenter"};
static const char *pl_words[] = {"reklama", "studio", "druk", "eventy", "agencja", "media",
    "targi", "expo", "grafika", "kreacja", "promo", "marketing", "sklep", "hurtownia", "meble"};
static const char *pl_places[] = {"poznan", "baltyk", "wielkopolska", "gdansk", "slask",
    "mazowsze", "lodz", "krakow", "warta", "odra", "tatry", "mazury", "kaszuby", "pomorze"};
static const char *pl_cities[] = {"Poznań", "Gdańsk", "Łódź", "Kraków", "Wrocław", "Szczecin",
    "Bydgoszcz", "Toruń", "Zielona Góra", "Kalisz", "Gniezno", "Piła", "Leszno", "Konin"};
static const char *de_words[] = {"messebau", "werbung", "druckhaus", "eventtechnik", "agentur",
    "display", "ladenbau", "schilder", "medien", "design"};
static const char *de_cities[] = {"berlin", "muenchen", "koeln", "duesseldorf", "nuernberg",
    "goerlitz", "frankfurt", "wien", "graz", "zuerich", "luebeck", "saarbruecken"};
static const char *de_tlds[] = {"de", "de", "de", "at", "ch"};
static const char *pl_products[] = {"banerów PCV", "roll-upów", "naklejek z folii monomerycznej",
    "plakatów B1", "siatki mesh", "tablic z PCV spienionego", "potykaczy", "flag reklamowych",
    "ścianek wystawienniczych", "fototapet", "obrazów na płótnie"};
static const char *de_products[] = {"PVC-Banner", "Roll-ups", "Aufkleber aus Monomerfolie",
    "Plakate DIN A1", "Mesh-Banner", "Messewände", "Beachflags", "Forex-Schilder",
    "Kundenstopper", "Leinwanddrucke"};
static const char *pl_subj[] = {"Zapytanie ofertowe – %s", "Wycena: %s", "Prośba o wycenę %s",
    "Zapytanie o druk %s", "Oferta na %s – pilne", "Zamówienie – %s na targi"};
static const char *de_subj[] = {"Anfrage: %s", "Angebotsanfrage – %s", "Bitte um Angebot: %s",
    "Preisanfrage für %s", "Dringend: %s für Messe"};
static const char *pl_body[] = {
    "Dzień dobry,\nproszę o wycenę %d szt. %s w formacie 200x100 cm, druk jednostronny, pełny "
    "kolor. Termin realizacji: najpóźniej do końca miesiąca. Czy jest możliwość montażu na "
    "miejscu w mieście %s? Plik do druku prześlę po akceptacji oferty (PDF, CMYK, spady 3 mm).\n"
    "Pozdrawiam serdecznie\n%s %s\n",
    "Witam,\npotrzebujemy %d szt. %s na targi, proszę o ofertę z transportem do %s. Faktura na "
    "firmę, płatność przelewem 14 dni.\nZ poważaniem\n%s %s\n"};
static const char *de_body[] = {
    "Guten Tag,\nwir benötigen %d Stück %s für unseren Messestand, Lieferung nach %s. Bitte "
    "senden Sie uns ein Angebot inklusive Versand. Die Druckdaten folgen nach Auftragserteilung "
    "(PDF/X-4, 3 mm Beschnitt).\nMit freundlichen Grüßen\n%s %s\n",
    "Sehr geehrte Damen und Herren,\nbitte um ein Angebot für %d Stück %s, Lieferadresse %s. "
    "Rechnung an die Firma, Zahlung 30 Tage netto.\nViele Grüße\n%s %s\n"};

static const char *active_states[] = {"inquiry", "inquiry", "calculation", "calculation",
    "approval", "offer", "offer", "offer", "order-checks", "awaiting-signature", "production",
    "production", "delivery", "on-hold", "complaint", "complaint-decision"};
static const char *open_kind[] = {"prepare-calculation", "prepare-calculation",
    "approve-calculation", "offer", "follow-up-offer", "check-documents", "order",
    "production", "production", "delivery", "order-on-hold", "complaint", "complaint-decision"};
static const char *open_actions[] = {"submit note", "submit note", "approve correct reject note",
    "accepted note", "accepted note", "confirm refuse note", "confirm refuse note",
    "done note", "done note", "delivered note", "note done", "note done", "decide note"};

struct user {
	int64_t id;
	char login[64];
	int rep;
};

struct ev {
	int64_t time, project, message;
	const char *kind;
	char actor[160];
	char text[400];
};

static sqlite3 *db;
static struct user *users;
static size_t nusers;
static int64_t reps[512];
static size_t nreps;

static void
die(const char *what)
{
	fprintf(stderr, "gen-bigdb: %s: %s\n", what, sqlite3_errmsg(db));
	exit(1);
}

static void
exec(const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "gen-bigdb: %s: %s\n", sql, msg ? msg : "?");
		exit(1);
	}
}

static sqlite3_stmt *
prep(const char *sql)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
		die(sql);
	return st;
}

/* Bind a format: i int64, t text (NULL allowed), in order from ?1. */
static int64_t
run(sqlite3_stmt *st, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	for (int i = 0; fmt[i]; i++) {
		if (fmt[i] == 'i')
			sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
		else {
			const char *s = va_arg(ap, const char *);
			if (s)
				sqlite3_bind_text(st, i + 1, s, -1, SQLITE_TRANSIENT);
			else
				sqlite3_bind_null(st, i + 1);
		}
	}
	va_end(ap);
	if (sqlite3_step(st) != SQLITE_DONE)
		die(sqlite3_sql(st));
	sqlite3_reset(st);
	return sqlite3_last_insert_rowid(db);
}

static void
hex(char *out, int n)
{
	static const char d[] = "0123456789abcdef";
	for (int i = 0; i < n; i++)
		out[i] = d[rnd() & 15];
	out[n] = 0;
}

/* The address of contact k of client i (0-based), unique over the table. */
static void
contact_email(char *out, size_t size, int64_t i, int k, int de, const char *dom)
{
	size_t n = de ? LEN(ascii_de_first) : LEN(ascii_pl_first);
	const char *f = de ? ascii_de_first[(i * 7 + k) % (int64_t)n] : ascii_pl_first[(i * 7 + k) % (int64_t)n];
	snprintf(out, size, "%s.%lld@%s", f, (long long)(i * 2 + k), dom);
}

static int
ev_cmp(const void *a, const void *b)
{
	const struct ev *x = a, *y = b;
	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	return x->project < y->project ? -1 : x->project > y->project;
}

static const char *
owner_login(int64_t id)
{
	for (size_t i = 0; i < nusers; i++)
		if (users[i].id == id)
			return users[i].login;
	return "system";
}

static void
load_users(void)
{
	sqlite3_stmt *st = prep("SELECT id, login, role FROM users ORDER BY id");
	size_t cap = 256;
	users = calloc(cap, sizeof(*users));
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (nusers == cap)
			users = realloc(users, (cap *= 2) * sizeof(*users));
		struct user *u = &users[nusers++];
		u->id = sqlite3_column_int64(st, 0);
		snprintf(u->login, sizeof(u->login), "%s", (const char *)sqlite3_column_text(st, 1));
		u->rep = strcmp((const char *)sqlite3_column_text(st, 2), "rep") == 0;
	}
	sqlite3_finalize(st);
}

int
main(int argc, char **argv)
{
	int64_t np = 1000000, seed = 1, now = (int64_t)time(NULL);
	int c;
	while ((c = getopt(argc, argv, "p:s:t:")) != -1) {
		if (c == 'p')
			np = strtoll(optarg, NULL, 10);
		else if (c == 's')
			seed = strtoll(optarg, NULL, 10);
		else if (c == 't')
			now = strtoll(optarg, NULL, 10);
		else
			goto usage;
	}
	if (optind + 1 != argc || np < 10 || np > 100000000) {
usage:
		fprintf(stderr, "usage: gen-bigdb [-p PROJECTS] [-s SEED] [-t NOW] DB\n");
		return 2;
	}
	rng_state = (uint64_t)seed * 0x2545f4914f6cdd1dULL;
	if (sqlite3_open_v2(argv[optind], &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		die(argv[optind]);
	sqlite3_stmt *v = prep("PRAGMA user_version");
	if (sqlite3_step(v) != SQLITE_ROW || sqlite3_column_int(v, 0) < 10) {
		fprintf(stderr, "gen-bigdb: %s: not a database made by inkflow init\n", argv[optind]);
		return 1;
	}
	sqlite3_finalize(v);
	sqlite3_stmt *cnt = prep("SELECT count(*) FROM projects");
	if (sqlite3_step(cnt) != SQLITE_ROW || sqlite3_column_int64(cnt, 0) != 0) {
		fprintf(stderr, "gen-bigdb: %s already holds projects\n", argv[optind]);
		return 1;
	}
	sqlite3_finalize(cnt);
	exec("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA locking_mode=EXCLUSIVE;"
	     "PRAGMA foreign_keys=OFF; PRAGMA cache_size=-4000000; PRAGMA temp_store=MEMORY;");
	exec("BEGIN");

	/* Staff: the configured users plus generated reps. */
	load_users();
	sqlite3_stmt *ins_user = prep("INSERT INTO users(login,name,email,role,lang,active)"
	                              " VALUES(?1,?2,?3,'rep',?4,1) ON CONFLICT(login) DO NOTHING");
	for (int i = 0; i < NEXTRA; i++) {
		char login[64], name[128], email[128];
		int de = i % 5 == 0;
		const char *f = de ? PICK(de_first) : PICK(pl_first);
		const char *l = de ? PICK(de_last) : PICK(pl_last);
		snprintf(login, sizeof(login), "rep%03d", i + 1);
		snprintf(name, sizeof(name), "%s %s", f, l);
		snprintf(email, sizeof(email), "rep%03d@bmt.example", i + 1);
		run(ins_user, "tttt", login, name, email, de ? "de" : "pl");
	}
	sqlite3_finalize(ins_user);
	free(users);
	nusers = 0;
	load_users();
	/* The configured reps carry a larger share each (3 %) than a generated one. */
	for (size_t i = 0; i < nusers; i++)
		if (users[i].rep && strncmp(users[i].login, "rep", 3) != 0)
			for (int k = 0; k < 6 && nreps < LEN(reps); k++)
				reps[nreps++] = users[i].id;
	for (size_t i = 0; i < nusers && nreps < LEN(reps); i++)
		if (users[i].rep)
			reps[nreps++] = users[i].id;
	int64_t approver = 0, bok = 0, producer = 0;
	for (size_t i = 0; i < nusers; i++) {
		if (!strcmp(users[i].login, "m.zielinski"))
			approver = users[i].id;
		if (!strcmp(users[i].login, "m.zak"))
			bok = users[i].id;
		if (!strcmp(users[i].login, "t.krol"))
			producer = users[i].id;
	}
	if (!approver)
		approver = users[0].id;
	if (!bok)
		bok = users[0].id;
	if (!producer)
		producer = users[0].id;

	/* Clients and contacts, created over the ten years. */
	const int64_t span = 3653 * DAY, start = now - span;
	int64_t nc = np / 5 + 1;
	int64_t *c_first = malloc((size_t)nc * sizeof(int64_t));
	unsigned char *c_ncont = malloc((size_t)nc), *c_de = malloc((size_t)nc);
	int64_t *c_owner = malloc((size_t)nc * sizeof(int64_t));
	char (*c_dom)[64] = malloc((size_t)nc * 64);
	sqlite3_stmt *ins_client = prep(
	    "INSERT INTO clients(id,name,domain,owner_id,lang,currency,vat_id,created,docs_on_file,"
	    "payment_terms,address) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)");
	sqlite3_stmt *ins_contact =
	    prep("INSERT INTO contacts(client_id,email,name,created) VALUES(?1,?2,?3,?4)");
	for (int64_t i = 0; i < nc; i++) {
		int de = chance(30);
		char name[160], dom[64], vat[32], addr[160];
		int64_t created = start + i * span / nc;
		if (de) {
			const char *w = PICK(de_words), *city = PICK(de_cities);
			if (i < 2000)
				snprintf(dom, sizeof(dom), "%s-%s.%s", w, city, PICK(de_tlds));
			else
				snprintf(dom, sizeof(dom), "%s-%s%lld.%s", w, city, (long long)i, PICK(de_tlds));
			snprintf(name, sizeof(name), "%s %c%s GmbH", PICK(de_last), w[0] - 32, w + 1);
			snprintf(vat, sizeof(vat), "DE%09lld", (long long)rn(1000000000));
			snprintf(addr, sizeof(addr), "Hauptstraße %lld, %05lld %c%s", (long long)rn(200) + 1,
			    (long long)rn(99999), city[0] - 32, city + 1);
		} else {
			const char *w = PICK(pl_words), *pl = PICK(pl_places);
			if (i < 2000)
				snprintf(dom, sizeof(dom), "%s-%s.pl", w, pl);
			else
				snprintf(dom, sizeof(dom), "%s-%s%lld.pl", w, pl, (long long)i);
			snprintf(name, sizeof(name), "%c%s %s %s Sp. z o.o.", w[0] - 32, w + 1,
			    PICK(pl_last), PICK(pl_cities));
			snprintf(vat, sizeof(vat), "PL%010lld", (long long)rn(10000000000LL));
			snprintf(addr, sizeof(addr), "ul. %s %lld, %02lld-%03lld %s", PICK(pl_last),
			    (long long)rn(120) + 1, (long long)rn(99), (long long)rn(999), PICK(pl_cities));
		}
		int64_t owner = reps[rn((int64_t)nreps)];
		c_owner[i] = owner;
		c_de[i] = (unsigned char)de;
		memcpy(c_dom[i], dom, sizeof(dom));
		run(ins_client, "ittittti" "itt", i + 1, name, dom, owner, de ? "de" : "pl",
		    de ? "EUR" : "PLN", chance(60) ? vat : NULL, created, (int64_t)chance(40),
		    chance(30) ? (de ? "30 Tage netto" : "przelew 14 dni") : NULL, chance(50) ? addr : NULL);
		c_ncont[i] = (unsigned char)(1 + chance(50));
		for (int k = 0; k < c_ncont[i]; k++) {
			char email[160], cname[128];
			contact_email(email, sizeof(email), i, k, de, dom);
			snprintf(cname, sizeof(cname), "%s %s", de ? PICK(de_first) : PICK(pl_first),
			    de ? PICK(de_last) : PICK(pl_last));
			int64_t id = run(ins_contact, "itti", i + 1, email, cname, created);
			if (k == 0)
				c_first[i] = id;
		}
	}
	sqlite3_finalize(ins_client);
	sqlite3_finalize(ins_contact);
	fprintf(stderr, "gen-bigdb: %lld clients\n", (long long)nc);

	sqlite3_stmt *ins_project = prep(
	    "INSERT INTO projects(id,client_id,contact_id,owner_id,state,title,lang,currency,created,"
	    "updated,invoice) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)");
	sqlite3_stmt *ins_msg = prep(
	    "INSERT INTO messages(source,source_key,dedupe_key,message_id,raw_sha256,raw_path,size,"
	    "from_name,from_addr,subject,date,received,class,status,reason,project_id,body)"
	    " VALUES('maildir:/var/lib/inkflow/inbox',?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,"
	    "?15,?16)");
	sqlite3_stmt *ins_att = prep(
	    "INSERT INTO attachments(message_id,filename,orig_filename,content_type,size,sha256,path)"
	    " VALUES(?1,?2,?2,?3,?4,?5,?6)");
	sqlite3_stmt *ins_calc = prep(
	    "INSERT INTO calculations(project_id,version,author_id,approver_id,currency,net,vat,"
	    "gross,reverse_charge,status,source,created) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)");
	sqlite3_stmt *ins_line = prep(
	    "INSERT INTO calc_lines(calculation_id,pos,sku,name,unit,qty_milli,w_mm,h_mm,"
	    "billed_milli,list_price,unit_price,net,vat_bp) VALUES(?1,?2,?3,?4,'m2',?5,?6,?7,?8,?9,"
	    "?9,?10,2300)");
	sqlite3_stmt *ins_doc = prep(
	    "INSERT INTO documents(project_id,kind,number,lang,calculation_id,path,sha256,size,created)"
	    " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9)");
	sqlite3_stmt *ins_task = prep(
	    "INSERT INTO tasks(project_id,message_id,kind,assignee_id,title,description,actions,"
	    "status,created,due,closed,closed_by,result,reminders,reminded,escalations)"
	    " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16)");
	sqlite3_stmt *ins_out = prep(
	    "INSERT INTO outbox(project_id,message_id,kind,mail_from,rcpt,subject,raw,auto,status,"
	    "attempts,next_try,created,sent) VALUES(?1,?2,?3,'biuro@bmt.example',?4,?5,?6,?7,'sent',1,"
	    "?8,?8,?9)");
	sqlite3_stmt *ins_ev = prep(
	    "INSERT INTO events(project_id,message_id,time,actor,kind,text) VALUES(?1,?2,?3,?4,?5,?6)");

	struct ev *evs = malloc(WINDOW * 12 * sizeof(*evs));
	size_t nev = 0;
	int64_t nmsg = 0, ntask = 0, ndoc = 0, ncalc = 0;
	for (int64_t p = 1; p <= np; p++) {
		int64_t created = start + (p - 1) * span / np + rn(span / np + 1);
		int64_t age = now - created;
		int64_t ci = rn(((p - 1) * nc) / np + 1);
		int de = c_de[ci];
		int64_t contact = c_first[ci] + rn(c_ncont[ci]);
		int64_t owner = chance(85) ? c_owner[ci] : reps[rn((int64_t)nreps)];
		const char *ol = owner_login(owner);
		const char *state;
		int live = age < 60 * DAY;
		if (live)
			state = PICK(active_states);
		else {
			int64_t r = rn(100);
			state = r < 55 ? "offer" : r < 92 ? "closed" : r < 96 ? "on-hold" : r < 98 ? "inquiry"
			                                                                     : "delivery";
		}
		int won = !strcmp(state, "closed") || !strcmp(state, "production") ||
		          !strcmp(state, "delivery") || !strcmp(state, "awaiting-signature") ||
		          !strcmp(state, "order-checks") || !strncmp(state, "complaint", 9);
		int calced = won || !strcmp(state, "offer") || !strcmp(state, "approval") ||
		             !strcmp(state, "on-hold");
		const char *prod = de ? PICK(de_products) : PICK(pl_products);
		char title[200], fname[64], lname[64], from[160], body[900], subj[300];
		snprintf(title, sizeof(title), de ? PICK(de_subj) : PICK(pl_subj), prod);
		snprintf(fname, sizeof(fname), "%s", de ? PICK(de_first) : PICK(pl_first));
		snprintf(lname, sizeof(lname), "%s", de ? PICK(de_last) : PICK(pl_last));
		contact_email(from, sizeof(from), ci, (int)(contact - c_first[ci]), de, c_dom[ci]);
		int64_t updated = live ? created + rn(age + 1) : created + rn(90 * DAY);
		char inv[32];
		snprintf(inv, sizeof(inv), "FV/%lld/%lld", (long long)(1 + p % 9000),
		    (long long)(2016 + (created - start) / (365 * DAY)));
		run(ins_project, "iiiitttt" "iit", p, ci + 1, contact, owner, state, title,
		    de ? "de" : "pl", de ? "EUR" : "PLN", created, updated, won && chance(80) ? inv : NULL);

		/* Two mails: the inquiry and a later reply. */
		int64_t mids[2];
		for (int k = 0; k < 2; k++) {
			int64_t when = k ? created + rn(updated - created + 1) : created;
			char skey[64], dedupe[65], msgid[128], sha[65], path[96];
			snprintf(skey, sizeof(skey), "%lld.M%lldP%lld.mx1,S=%lld:2,S", (long long)when,
			    (long long)rn(999999), (long long)rn(99999), (long long)(3000 + rn(40000)));
			hex(dedupe, 64);
			hex(sha, 64);
			char h[17];
			hex(h, 16);
			snprintf(msgid, sizeof(msgid), "<%s.%lld@%s>", h, (long long)when, c_dom[ci]);
			snprintf(path, sizeof(path), "raw/%s.eml", sha);
			snprintf(subj, sizeof(subj), k ? "Re: %s" : "%s", title);
			snprintf(body, sizeof(body), de ? PICK(de_body) : PICK(pl_body),
			    (int)(1 + rn(500)), prod, de ? PICK(de_cities) : PICK(pl_cities), fname, lname);
			char fn[160];
			snprintf(fn, sizeof(fn), "%s %s", fname, lname);
			int odd = chance(3);
			mids[k] = run(ins_msg, "ttttti" "tttiit" "tti" "t", skey, dedupe, msgid, sha, path,
			    (int64_t)(2000 + rn(40000)), fn, from, subj, when - rn(600), when,
			    odd ? "auto-reply" : "normal", odd ? "ignored" : "processed",
			    k ? "reply to project" : "new inquiry", p, body);
			nmsg++;
			if (k == 0 && chance(30)) {
				char att[96];
				hex(sha, 64);
				snprintf(att, sizeof(att), "att/%s", sha);
				int pdf = chance(60);
				run(ins_att, "itti" "tt", mids[k], pdf ? "projekt.pdf" : "logo.jpg",
				    pdf ? "application/pdf" : "image/jpeg", (int64_t)(50000 + rn(250000)), sha, att);
			}
		}
		int64_t t0 = created, t1 = updated > created ? updated : created + 3600;
#define EV(T, M, A, K, ...)                                                              \
	do {                                                                             \
		struct ev *e_ = &evs[nev++];                                             \
		e_->time = (T);                                                          \
		e_->project = p;                                                         \
		e_->message = (M);                                                       \
		e_->kind = (K);                                                          \
		snprintf(e_->actor, sizeof(e_->actor), "%s", (A));                       \
		snprintf(e_->text, sizeof(e_->text), __VA_ARGS__);                       \
	} while (0)
		EV(t0, mids[0], from, "mail-in", "inquiry from %s: %s", from, title);
		EV(t0, mids[0], "system", "project-created", "project INK-%lld for %s", (long long)p,
		    c_dom[ci]);
		EV(t0, mids[0], "system", "owner-assigned", "owner %s (rule)", ol);
		EV(t0 + 1, mids[0], "system", "task-created", "task %lld for %s: %s", (long long)(ntask + 1),
		    ol, "prepare-calculation");
		int64_t tc = t0 + (t1 - t0) / 4;
		EV(tc, 0, ol, "calculation", "calculation v1: %lld.%02lld %s", (long long)rn(90000),
		    (long long)rn(100), de ? "EUR" : "PLN");
		EV(tc + 60, 0, ol, "submitted", "calculation v1 submitted for approval");
		int64_t ta = tc + 600 + rn((t1 - tc) / 3 + 1);
		const char *dec = chance(80) ? "approved" : chance(50) ? "corrected" : "rejected";
		EV(ta, 0, "m.zielinski", dec, "calculation v1 %s by m.zielinski", dec);
		EV(ta + 5, 0, "system", "document", "offer OF/%lld/%lld rendered (%lld bytes)",
		    (long long)p, (long long)(2016 + (created - start) / (365 * DAY)),
		    (long long)(40000 + rn(20000)));
		EV(t1, mids[1], from, "mail-in", "reply from %s", from);

		/* Calculation, its lines and the offer. */
		int64_t calc = 0;
		if (calced) {
			int64_t net = 20000 + rn(2000000);
			calc = run(ins_calc, "iiiitiii" "itti", p, (int64_t)1, owner, approver,
			    de ? "EUR" : "PLN", net, de ? 0 : net * 23 / 100, de ? net : net * 123 / 100,
			    (int64_t)de, "approved", "mail", tc);
			ncalc++;
			for (int k = 1; k <= 2; k++) {
				int64_t w = 500 + rn(3000), hh = 500 + rn(2000), q = 1 + rn(20);
				int64_t billed = w * hh / 1000 * q;
				run(ins_line, "iitt" "iiii" "ii", calc, (int64_t)k, k == 1 ? "BAN-PCV-510" : "MONT",
				    k == 1 ? prod : (de ? "Montage" : "Montaż"), q * 1000, w, hh, billed,
				    (int64_t)(3500 + rn(3000)), billed * 45 / 1000);
			}
			char num[64], path[96], sha[65];
			snprintf(num, sizeof(num), "OF/%lld/%lld", (long long)p,
			    (long long)(2016 + (created - start) / (365 * DAY)));
			hex(sha, 64);
			snprintf(path, sizeof(path), "docs/OF-%lld.pdf", (long long)p);
			run(ins_doc, "ittti" "tti" "i", p, "offer", num, de ? "de" : "pl", calc, path, sha,
			    (int64_t)(40000 + rn(20000)), ta + 5);
			ndoc++;
		}

		/* Tasks: calculation, approval, then the one of the current state. */
		int64_t td = rn(100);
		run(ins_task, "iititttt" "iiiit" "iii", p, mids[0], "prepare-calculation", owner,
		    title, "Przygotuj kalkulację", "submit note", "done", t0, t0 + 2 * DAY, tc, owner,
		    "submitted", (int64_t)0, (int64_t)0, (int64_t)0);
		run(ins_task, "iititttt" "iiiit" "iii", p, (int64_t)0, "approve-calculation", approver,
		    title, "Zatwierdź kalkulację", "approve correct reject note", "done", tc, tc + DAY,
		    ta, approver, dec, (int64_t)0, (int64_t)0, (int64_t)0);
		ntask += 2;
		size_t k = (size_t)rn((int64_t)LEN(open_kind));
		int64_t assignee = k == 2 ? approver : k == 7 || k == 8 ? producer : k >= 11 ? bok : owner;
		if (live) {
			/* Open, due in the next days; one in ten overdue, reminded. */
			int over = td < 10;
			int64_t due = over ? now - rn(3 * DAY) : now + rn(10 * DAY);
			run(ins_task, "iititttt" "iiiit" "iii", p, mids[1], open_kind[k], assignee, title,
			    "", open_actions[k], "open", t1, due, (int64_t)0, (int64_t)0, NULL,
			    (int64_t)over, over ? now - rn(20 * 3600) : 0, (int64_t)(over ? (now - due) / (2 * DAY) : 0));
		} else if (td < 1) {
			/* Stale and forgotten: long overdue, reminded and escalated. */
			int64_t due = t1 + 3 * DAY;
			run(ins_task, "iititttt" "iiiit" "iii", p, mids[1], "follow-up-offer", owner, title,
			    "", "accepted note", "open", t1, due, (int64_t)0, (int64_t)0, NULL,
			    (int64_t)(1 + (now - due) / (3 * DAY)), now - rn(60 * 3600), (int64_t)0);
		} else {
			run(ins_task, "iititttt" "iiiit" "iii", p, mids[1], open_kind[k], assignee, title,
			    "", open_actions[k], td < 20 ? "cancelled" : "done", t1, t1 + 3 * DAY,
			    t1 + rn(3 * DAY), assignee, td < 20 ? "no answer" : "done", (int64_t)0, (int64_t)0,
			    (int64_t)0);
		}
		ntask++;
		EV(t1, 0, "system", "task-created", "task %lld for %s: %s", (long long)ntask,
		    owner_login(assignee), open_kind[k]);

		/* The acknowledgement that went out. */
		char omid[128], h[17], raw[1200];
		hex(h, 16);
		snprintf(omid, sizeof(omid), "<ink-%lld-%s@bmt.example>", (long long)p, h);
		snprintf(raw, sizeof(raw),
		    "From: BMT <biuro@bmt.example>\r\nTo: %s\r\nSubject: [INK-%lld] %s\r\nMessage-ID: %s\r\n"
		    "Auto-Submitted: auto-replied\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n",
		    from, (long long)p, title, omid,
		    de ? "Vielen Dank für Ihre Anfrage. Wir melden uns in Kürze mit einem Angebot."
		       : "Dziękujemy za zapytanie. Wkrótce prześlemy ofertę.");
		snprintf(subj, sizeof(subj), "[INK-%lld] %s", (long long)p, title);
		run(ins_out, "itttt" "tiii", p, omid, "ack", from, subj, raw, (int64_t)1, t0 + 2, t0 + 5);

		if (p % WINDOW == 0 || p == np) {
			qsort(evs, nev, sizeof(*evs), ev_cmp);
			for (size_t i = 0; i < nev; i++)
				run(ins_ev, "iiittt", evs[i].project, evs[i].message, evs[i].time, evs[i].actor,
				    evs[i].kind, evs[i].text);
			nev = 0;
		}
		if (p % 100000 == 0)
			fprintf(stderr, "gen-bigdb: %lld projects\n", (long long)p);
	}
	sqlite3_finalize(ins_project);
	sqlite3_finalize(ins_msg);
	sqlite3_finalize(ins_att);
	sqlite3_finalize(ins_calc);
	sqlite3_finalize(ins_line);
	sqlite3_finalize(ins_doc);
	sqlite3_finalize(ins_task);
	sqlite3_finalize(ins_out);
	sqlite3_finalize(ins_ev);
	/* Action links live 30 days from the task (TASK_TOKEN_DAYS); a running
	 * daemon has looked at each overdue task within the last day
	 * (remind_next, schema 11 on). */
	exec("UPDATE tasks SET token_expires=created+30*86400");
	sqlite3_stmt *col = prep("SELECT 1 FROM pragma_table_info('tasks') WHERE name='remind_next'");
	if (sqlite3_step(col) == SQLITE_ROW) {
		sqlite3_stmt *up = prep("UPDATE tasks SET remind_next=?1+id*7919%86400"
		                        " WHERE status='open' AND due<?1");
		run(up, "i", now);
		sqlite3_finalize(up);
	}
	sqlite3_finalize(col);
	exec("COMMIT");
	exec("PRAGMA locking_mode=NORMAL; PRAGMA journal_mode=WAL;");
	printf("gen-bigdb: %lld projects, %lld clients, %lld messages, %lld events, %lld tasks, "
	       "%lld calculations, %lld documents\n",
	    (long long)np, (long long)nc, (long long)nmsg, (long long)np * 10, (long long)ntask,
	    (long long)ncalc, (long long)ndoc);
	free(evs);
	free(c_first);
	free(c_ncont);
	free(c_de);
	free(c_owner);
	free(c_dom);
	sqlite3_close(db);
	return 0;
}
