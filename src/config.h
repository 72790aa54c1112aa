/*
 * config: conf/inkflow.xml and the files it names (users.xml, pricelist.xml),
 * read with libxml2 with entity expansion, DTD loading and network access
 * off.  Every problem is reported as "file:line: message", all of them in one
 * pass.  Relative paths resolve against the directory of the file naming
 * them.  The loaded configuration is read-only for the rest of the program.
 */
#ifndef INKFLOW_CONFIG_H
#define INKFLOW_CONFIG_H

#include <stddef.h>
#include <stdint.h>

struct imap_conf;
struct smtp_conf;

/* Largest configuration file read, in bytes; a larger one is refused before
 * it is parsed. */
#define CONFIG_MAX_FILE (4 * 1024 * 1024)
/* Most entries read in one list (users, products, assignment rules, free-mail
 * domains); one more is an error. */
#define CONFIG_MAX_LIST 10000

/* Roles in ascending approval level where that applies. */
enum role {
	ROLE_REP,
	ROLE_SUPERVISOR,
	ROLE_SALES_DIRECTOR,
	ROLE_BOARD,
	ROLE_BOK,
	ROLE_ACCOUNTING,
	ROLE_PRODUCTION,
	ROLE_ADMIN,
	ROLE__COUNT
};
/* The name used in users.xml: "rep", "supervisor", "sales-director",
 * "board", "bok", "accounting", "production", "admin"; "?" for a value
 * outside the enum.  Static string. */
const char *role_name(enum role r);
/* Exact (case-sensitive) inverse of role_name: 0 and *out set, or -1 for
 * NULL or an unknown name (*out untouched). */
int role_parse(const char *s, enum role *out);

struct cfg_user {
	char *login;      /* unique, [a-z0-9._-]{1,32} */
	char *name;       /* UTF-8 display name */
	char *email;      /* lowercase */
	char *phone;      /* may be NULL */
	enum role role;
	char *supervisor; /* login of the direct supervisor, may be NULL */
	char *lang;       /* "pl" or "de" */
	/* CalDAV publishing (caldav= in users.xml): the user's calendar
	 * collection, an absolute http(s) URL ending in '/' without user info,
	 * query or fragment; http only for 127.0.0.1, ::1 or localhost.  NULL:
	 * tasks are not published for this user, and the three below are NULL
	 * too. */
	char *caldav_url;
	char *caldav_user;     /* Basic auth user, NULL: no authentication */
	char *caldav_password; /* from caldav-password-file (mode 0600, one
	                        * line); set exactly when caldav_user is */
	char *caldav_ca;       /* caldav-ca: absolute path of a PEM CA bundle
	                        * for the server's certificate; NULL: the
	                        * system store */
};

enum unit { UNIT_M2, UNIT_PCS, UNIT_M };  /* m², pieces, running metre */
/* "m2", "pcs", "m" as written in pricelist.xml; "?" outside the enum. */
const char *unit_name(enum unit u);
/* Exact inverse of unit_name: 0 and *out set, or -1 (*out untouched). */
int unit_parse(const char *s, enum unit *out);

struct cfg_product {
	char *sku;          /* unique, [A-Z0-9-]{1,32} */
	char *name_pl;
	char *name_de;
	enum unit unit;
	int vat_bp;         /* VAT in basis points: 2300 = 23% */
	int64_t price_pln;  /* net list price per unit in grosze, -1 if none */
	int64_t price_eur;  /* net list price per unit in cents, -1 if none */
	int min_dpi;        /* artwork below this at print size is flagged; 0 = no check */
};

/* Client assignment rule, first match wins.  domain is an exact domain
 * ("firma.pl") or a suffix pattern ("*.de" matches "x.de" and "a.x.de"). */
struct cfg_rule {
	char *domain;
	char *owner;     /* login of a rep, may be NULL (language rule only) */
	char *lang;      /* "pl"/"de", may be NULL */
	char *currency;  /* "PLN"/"EUR", may be NULL */
	int line;        /* line in inkflow.xml, for messages */
};

struct cfg_limits {
	size_t max_message;      /* bytes of one raw message */
	size_t max_header;       /* bytes of one message's header section */
	size_t max_header_line;  /* bytes of one header line, folded lines joined */
	size_t max_parts;        /* MIME parts in one message */
	size_t max_depth;        /* MIME nesting depth */
	size_t max_attachment;   /* bytes of one decoded attachment */
	int auto_replies_per_hour; /* automatic replies per sender per hour */
};

/* Approval bands (<approval> in inkflow.xml).  Amounts are net, in grosze;
 * EUR totals are converted with eur_rate (grosze per euro cent × 10000, i.e.
 * 4.3000 PLN/EUR is 43000). */
struct cfg_band {
	int64_t up_to;    /* inclusive upper limit; -1 = no limit (the last band) */
	enum role level;  /* ROLE_SUPERVISOR, ROLE_SALES_DIRECTOR or ROLE_BOARD */
};
struct cfg_approval {
	int64_t auto_approve;   /* totals up to this need no approval */
	int64_t eur_rate;       /* PLN per EUR × 10000 */
	struct cfg_band bands[8];
	size_t nbands;
};

/* The process (workflow.xml).  A closed set of actions and guards that the
 * engine (workflow.c) interprets. */
enum wf_action_kind {
	WA_ASSIGN_OWNER, /* <assign-owner/>: owner found → event "assigned", else BOK task */
	WA_TASK,         /* <task for= kind= due= actions= title-pl= title-de=/> */
	WA_MAIL,         /* <mail to= template=/> */
	WA_CLOSE_TASKS,  /* <close-tasks kind=/>: cancel open tasks of a kind */
	WA_DOCUMENT,     /* <document kind=/>: render and store a document */
	WA_OPINIONS,     /* <opinion-tasks due= title-pl= title-de=/>: a task for
	                  * everyone who worked on the project */
};

struct wf_action {
	enum wf_action_kind kind;
	char *target;    /* task/mail: "owner", "approver", "author", "client",
	                  * "role:bok" …, "user:login" */
	char *task_kind; /* task: kind name, e.g. "approve-calculation"; close-tasks */
	char *title_pl, *title_de;
	int64_t due;     /* seconds from creation, 0 = none */
	uint32_t actions;/* bit (1 << CMD_x) per allowed reply command */
	char *tmpl;      /* mail: template name */
	char *attach;    /* mail: attach the latest document of this kind */
	char *cc;        /* mail: "owner" in Cc, or NULL */
	char *doc_kind;  /* document: offer, order, ... */
	int line;
};

struct wf_transition {
	char *event;     /* "submit", "approve", … */
	char *guard;     /* NULL, "auto-approve", "needs-approval" */
	char *to;        /* target state */
	int run_enter;   /* 0 when enter="no": only this transition's actions */
	struct wf_action *actions;
	size_t nactions;
	int line;
};

struct wf_state {
	char *name;
	struct wf_action *enter;
	size_t nenter;
	struct wf_transition *on;
	size_t non;
	int line;
};

struct cfg_workflow {
	char *path;      /* as shown in messages */
	char *initial;
	struct wf_state *states;
	size_t nstates;
};

/* Reminders for overdue tasks (<reminders> in inkflow.xml): the first when
 * due, again every `every` seconds; after `escalate` seconds overdue the
 * assignee's supervisor is told, one level up per further period. */
struct cfg_reminder {
	char *kind;        /* task kind, or "*" for every other kind */
	int64_t every;     /* seconds between reminders, 0 = none */
	int64_t escalate;  /* seconds overdue before escalating, 0 = never */
};

/* The daily digest to managers (<digest> in inkflow.xml): once a day, from
 * `hour` o'clock in Europe/Warsaw on, one mail per recipient with the
 * management numbers and a PDF of charts.  nto == 0: no digest. */
struct cfg_digest {
	int hour;          /* 0..23 */
	char *lang;        /* "pl" or "de"; default: <system lang> */
	char **to;         /* logins of users.xml, each once, in the given order */
	size_t nto;
	int line;          /* of <digest> in inkflow.xml, for messages */
};

struct cfg_company {
	char *name, *address, *city, *country, *tax_id, *bank_account,
	    *phone, *email, *www, *logo; /* logo: absolute path or NULL */
};

struct config {
	char *path;        /* absolute path of inkflow.xml */
	char *dir;         /* its directory */
	char *data_dir;    /* absolute */
	char *db_path;     /* absolute; default data_dir/inkflow.db */
	char *templates_dir; /* absolute */
	char *key_path;    /* HMAC key file; default data_dir/hmac.key */

	char *source_maildir;  /* Maildir read by `run` (absolute) */
	char *outbox_maildir;  /* Maildir the sender writes to (absolute) */

	char *system_address;  /* e.g. biuro@bmt.example, lowercase */
	char *system_name;     /* display name on outgoing mail */
	char *domain;          /* part after '@' of system_address */
	char *default_lang;    /* "pl" */
	char *default_currency; /* "PLN" */

	struct cfg_company company;
	struct cfg_rule *rules;
	size_t nrules;
	char **freemail;       /* domains whose addresses are each their own client */
	size_t nfreemail;
	struct cfg_limits limits;

	struct cfg_user *users;
	size_t nusers;
	struct cfg_product *products;
	size_t nproducts;

	struct cfg_approval approval;
	struct cfg_reminder *reminders;
	size_t nreminders;
	struct cfg_workflow *workflow; /* from workflow.xml */
	struct cfg_digest digest;      /* <digest>; nto == 0 without one */

	/* Transports beyond the embedded Maildirs: NULL when not configured. */
	struct imap_conf *imap;  /* <source type="imap"> */
	struct smtp_conf *smtp;  /* <outbox type="smtp"> */
};

/* Error list collected by loaders: each entry "file:line: message".
 * Zero-initialised is valid and empty; entries are owned by the list and
 * added only with errlist_add (which sizes v from n). */
struct errlist {
	char **v;
	size_t n;
};
/* Appends "file:line: message", or "file: message" when line <= 0 (a problem
 * with the file as a whole).  Control characters in the result become
 * spaces, so each entry prints as one line. */
void errlist_add(struct errlist *e, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Frees the entries and leaves e empty and reusable; NULL is a no-op. */
void errlist_free(struct errlist *e);

/* Load path (inkflow.xml) and the users and price-list files it names.
 * Returns 0 and sets *out on success; -1 with every problem found appended
 * to errs otherwise (*out untouched), in file order (inkflow.xml, users,
 * price list) and line order within a file.  The file name in each entry is
 * path as given, or for a named file the name relative to it.
 *
 * Each file is at most CONFIG_MAX_FILE bytes and each list at most
 * CONFIG_MAX_LIST entries; a DOCTYPE, unknown elements and attributes, and
 * text where none belongs are errors.  Relative paths resolve against the
 * directory of the file naming them; all paths in the result are absolute.
 * On success every field documented above as non-NULL is set: db_path and key_path default to
 * data_dir/inkflow.db and data_dir/hmac.key, limits to the defaults shown in
 * conf/inkflow.xml, the free-mail list to a built-in one when <freemail> is
 * absent, a user's lang to default_lang.  Safe to call more than once.
 * libxml2 is opened for it (lazyxml.h) and reports its errors to the
 * loader, never to stderr. */
int config_load(const char *path, struct config **out, struct errlist *errs);
/* Frees cfg and everything it holds; NULL is a no-op. */
void config_free(struct config *cfg);

/* Lookups: pointers into cfg, valid until config_free; NULL when absent or
 * when an argument is NULL.  Logins, emails and SKUs compare ASCII
 * case-insensitively. */
const struct cfg_user *config_user(const struct config *cfg, const char *login);
const struct cfg_user *config_user_by_email(const struct config *cfg, const char *email);
const struct cfg_product *config_product(const struct config *cfg, const char *sku);
/* The workflow state named name, NULL if none. */
const struct wf_state *config_state(const struct config *cfg, const char *name);
/* First user with this role in users.xml order, NULL if none. */
const struct cfg_user *config_user_by_role(const struct config *cfg, enum role r);
/* First rule in inkflow.xml order matching domain (compared ASCII
 * case-insensitively), NULL if none. */
const struct cfg_rule *config_rule_for(const struct config *cfg, const char *domain);
/* 1 when domain is exactly one of cfg->freemail (ASCII case-insensitive; a
 * subdomain does not count), else 0. */
int config_is_freemail(const struct config *cfg, const char *domain);

#endif
