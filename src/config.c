/*
 * config: reads inkflow.xml, users.xml and pricelist.xml into one read-only
 * struct config.
 *
 * DESIGN
 * Each file is size-checked, then parsed whole by libxml2 with network access
 * off, no entity substitution and no DTD loading; a SAX hook stops the parser
 * at any DOCTYPE, before an internal subset (the only place entities can be
 * declared) is read, so entity bombs and external entities never run.  The
 * tree is then walked once, element by element, against fixed allow-lists of
 * element and attribute names.
 *
 * Errors are not returned as they are found: each is kept with its file and
 * line, and only at the end sorted (file, then line) and appended to the
 * caller's errlist, so an operator reads them top to bottom whatever order the
 * checks ran in.  Checks spanning files (rule owners, supervisors) run after
 * everything is read, and rule owners are checked only when users.xml could
 * be read, so one unreadable file does not bury the report in follow-on
 * errors.
 *
 * Only this file includes libxml2 for the configuration.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "imap.h"
#include "lazyxml.h"
#include "reply.h"
#include "smtp.h"
#include "util.h"

#define VALUE_MAX 512               /* bytes of one attribute value or text */
#define PRICE_MAX 1000000000LL      /* 10 000 000.00 in minor units */
#define VAT_MAX_BP 5000             /* 50%: no EU rate reaches it; "230" is a typo */
/* Attributes of one element.  No element here has more than a dozen;
 * libxml2 compares an element's attributes pairwise for duplicates, so one
 * start tag with 100,000 of them costs it minutes. */
#define ATTRS_MAX 64
/* Errors kept per load; beyond it they are counted, not listed. */
#define ERRORS_MAX 200
/* CONFIG_MAX_LIST: checks for duplicates compare each entry with the ones
 * before it; the cap keeps even a file at CONFIG_MAX_FILE to about a second. */
#define LIST_MAX CONFIG_MAX_LIST

#define KIB ((uint64_t)1024)
#define MIB (KIB * 1024)
#define GIB (MIB * 1024)

/* ---- names ------------------------------------------------------------ */

/* NULL-terminated, for word_list(). */
static const char *const role_names[ROLE__COUNT + 1] = {
	[ROLE_REP] = "rep",
	[ROLE_SUPERVISOR] = "supervisor",
	[ROLE_SALES_DIRECTOR] = "sales-director",
	[ROLE_BOARD] = "board",
	[ROLE_BOK] = "bok",
	[ROLE_ACCOUNTING] = "accounting",
	[ROLE_PRODUCTION] = "production",
	[ROLE_ADMIN] = "admin",
};

const char *
role_name(enum role r)
{
	return ((unsigned)r < ROLE__COUNT) ? role_names[r] : "?";
}

int
role_parse(const char *s, enum role *out)
{
	for (int i = 0; s && i < ROLE__COUNT; i++) {
		if (strcmp(s, role_names[i]) == 0) {
			*out = (enum role)i;
			return 0;
		}
	}
	return -1;
}

#define UNIT__COUNT 3
static const char *const unit_names[UNIT__COUNT + 1] = {
	[UNIT_M2] = "m2",
	[UNIT_PCS] = "pcs",
	[UNIT_M] = "m",
};

const char *
unit_name(enum unit u)
{
	return ((unsigned)u < UNIT__COUNT) ? unit_names[u] : "?";
}

int
unit_parse(const char *s, enum unit *out)
{
	for (size_t i = 0; s && i < UNIT__COUNT; i++) {
		if (strcmp(s, unit_names[i]) == 0) {
			*out = (enum unit)i;
			return 0;
		}
	}
	return -1;
}

static const char *const langs[] = {"pl", "de", NULL};
static const char *const currencies[] = {"PLN", "EUR", NULL};

/* Index of s in the NULL-terminated list, -1 when absent. */
static int
word_index(const char *const *list, const char *s)
{
	for (int i = 0; s && list[i]; i++)
		if (strcmp(list[i], s) == 0)
			return i;
	return -1;
}

/* "a, b, c" for error messages; caller frees. */
static char *
word_list(const char *const *list)
{
	struct sbuf sb = {0};
	for (size_t i = 0; list[i]; i++)
		sb_printf(&sb, "%s%s", i ? ", " : "", list[i]);
	return sb_steal(&sb);
}

/* ---- errlist ------------------------------------------------------------ */

void
errlist_add(struct errlist *e, const char *file, int line, const char *fmt, ...)
{
	struct sbuf sb = {0};
	if (line > 0)
		sb_printf(&sb, "%s:%d: ", file ? file : "(config)", line);
	else
		sb_printf(&sb, "%s: ", file ? file : "(config)");
	va_list ap;
	va_start(ap, fmt);
	sb_vprintf(&sb, fmt, ap);
	va_end(ap);
	char *raw = sb_steal(&sb);
	e->v = xgrow(e->v, e->n, sizeof(*e->v)); /* entries are only appended */
	e->v[e->n++] = str_oneline(raw);
	free(raw);
}

void
errlist_free(struct errlist *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->n; i++)
		free(e->v[i]);
	free(e->v);
	e->v = NULL;
	e->n = 0;
}

/* ---- the loader: files being read and the errors found ------------------ */

enum { F_MAIN, F_USERS, F_PRICES, F_WORKFLOW, F__COUNT };

struct loader;

/* One configuration file. */
struct rd {
	struct loader *ld;
	int idx;          /* F_*: the order its errors are listed in */
	char *shown;      /* name in messages, as the operator wrote it; owned */
	char *path;       /* absolute; owned */
	char *dir;        /* canonical directory, base for relative paths; owned */
	xmlDoc *doc;      /* owned */
	int refused;      /* the DOCTYPE hook stopped the parser */
};

struct pending {
	int file;
	int line;
	size_t seq;
	char *msg;        /* owned */
};

struct loader {
	struct rd rd[F__COUNT];
	struct pending *err;
	size_t nerr, caperr;
	size_t total;     /* errors found; the first ERRORS_MAX are in err */
	int users_read;   /* users.xml parsed and had a <users> root */
	int *user_line;   /* line of cfg->users[i] */
	int *product_line;
	/* Capacities of the arrays in struct config and the two above. */
	size_t cap_users, cap_products, cap_rules, cap_freemail;
};

/* p grown, if need be, to hold n + 1 elements of size bytes; *cap doubles. */
static void *
grow(void *p, size_t n, size_t *cap, size_t size)
{
	if (n < *cap)
		return p;
	*cap = *cap ? *cap * 2 : 16;
	return xrealloc(p, *cap * size);
}

static void
rd_verr(struct rd *r, int line, const char *fmt, va_list ap)
{
	struct loader *ld = r->ld;
	if (ld->total++ >= ERRORS_MAX)
		return; /* a generated file can hold millions; the first ones tell */
	ld->err = grow(ld->err, ld->nerr, &ld->caperr, sizeof(*ld->err));
	struct sbuf sb = {0};
	sb_vprintf(&sb, fmt, ap);
	ld->err[ld->nerr] = (struct pending){
		.file = r->idx, .line = line > 0 ? line : 0,
		.seq = ld->nerr, .msg = sb_steal(&sb),
	};
	ld->nerr++;
}

static void __attribute__((format(printf, 3, 4)))
rd_errl(struct rd *r, int line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	rd_verr(r, line, fmt, ap);
	va_end(ap);
}

static int
node_line(const xmlNode *n)
{
	long l = n ? xmlGetLineNo(n) : 0;
	return (l > 0 && l <= INT_MAX) ? (int)l : 0;
}

/* An error at node n ("<name>: " is up to the caller). */
static void __attribute__((format(printf, 3, 4)))
rd_err(struct rd *r, const xmlNode *n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	rd_verr(r, node_line(n), fmt, ap);
	va_end(ap);
}

static int
pending_cmp(const void *a, const void *b)
{
	const struct pending *x = a, *y = b;
	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : (x->seq > y->seq);
}

static void
loader_flush(struct loader *ld, struct errlist *errs)
{
	qsort(ld->err, ld->nerr, sizeof(*ld->err), pending_cmp);
	for (size_t i = 0; i < ld->nerr; i++) {
		struct pending *p = &ld->err[i];
		errlist_add(errs, ld->rd[p->file].shown, p->line, "%s", p->msg);
	}
	if (ld->total > ld->nerr)
		errlist_add(errs, ld->rd[ld->err[ld->nerr - 1].file].shown, 0,
		    "%zu more errors not listed", ld->total - ld->nerr);
}

static void
loader_free(struct loader *ld)
{
	for (int i = 0; i < F__COUNT; i++) {
		struct rd *r = &ld->rd[i];
		free(r->shown);
		free(r->path);
		free(r->dir);
		if (r->doc)
			xmlFreeDoc(r->doc);
	}
	for (size_t i = 0; i < ld->nerr; i++)
		free(ld->err[i].msg);
	free(ld->err);
	free(ld->user_line);
	free(ld->product_line);
}

/* ---- paths ---------------------------------------------------------------- */

/* Absolute form of v, named in a file whose canonical directory is dir.  "."
 * and empty components are dropped; a ".." is folded only while it pops a
 * component of dir (or the root), which has no symlinks, so the result names
 * what the kernel would open; a ".." after a component of v is kept. */
static char *
resolve_path(const char *dir, const char *v)
{
	struct sbuf sb = {0};
	int literal = 0;   /* sb holds a component of v: stop folding ".." */
	if (v[0] != '/' && strcmp(dir, "/") != 0)
		sb_adds(&sb, dir);
	const char *p = v;
	while (*p) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n == 0 || (n == 1 && p[0] == '.')) {
			/* skip */
		} else if (n == 2 && p[0] == '.' && p[1] == '.' && !literal) {
			char *slash = sb.s ? strrchr(sb.s, '/') : NULL;
			if (slash) {
				sb.len = (size_t)(slash - sb.s);
				sb.s[sb.len] = '\0';
			}
		} else {
			sb_addc(&sb, '/');
			sb_add(&sb, p, n);
			literal = 1;
		}
		p += n;
		if (*p == '/')
			p++;
	}
	if (sb.len == 0)
		sb_addc(&sb, '/');
	return sb_steal(&sb);
}

/* Sets r->path and r->dir for a file at path (relative to the working
 * directory or absolute).  -1 with errno when its directory is missing. */
static int
rd_locate(struct rd *r, const char *path)
{
	char *d = path_dirname(path);
	char *canon = realpath(d, NULL);
	free(d);
	if (!canon)
		return -1;
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	r->dir = canon;
	r->path = resolve_path(canon, base);
	return 0;
}

/* ---- reading and parsing one file ---------------------------------------- */

#if LIBXML_VERSION >= 21200
static void
xml_error(void *data, const xmlError *e)
#else
static void
xml_error(void *data, xmlErrorPtr e)
#endif
{
	struct rd *r = data;
	if (!e || !e->message)
		return;
	char *m = xstrdup(e->message);
	rd_errl(r, e->line, "XML %s: %s",
	    e->level == XML_ERR_WARNING ? "warning" : "error", str_trim(m));
	free(m);
}

/* SAX internalSubset: called at every DOCTYPE before its internal subset is
 * read.  Stopping here is what keeps entity declarations out. */
static void
refuse_doctype(void *ctx, const xmlChar *name, const xmlChar *ext_id,
    const xmlChar *sys_id)
{
	(void)name;
	(void)ext_id;
	(void)sys_id;
	xmlParserCtxtPtr p = ctx;
	struct rd *r = p->_private;
	rd_errl(r, p->input ? p->input->line : 0,
	    "DOCTYPE is not allowed in configuration files "
	    "(no DTDs, no entity declarations)");
	r->refused = 1;
	xmlStopParser(p);
}

static const char *
ename(const xmlNode *n)
{
	return (const char *)n->name;
}

/* A file that cannot be used at all.  The error goes to the element naming
 * it (from, at) when there is one, else to the file itself without a line. */
static void
read_fail(struct rd *r, struct rd *from, const xmlNode *at, const char *why)
{
	if (from)
		rd_err(from, at, "<%s>: cannot read %s: %s", ename(at), r->shown, why);
	else
		rd_errl(r, 0, "cannot read: %s", why);
}

/* 1 when s[0..len) starts with lit. */
static int
lit_at(const char *s, size_t len, const char *lit)
{
	size_t n = strlen(lit);
	return len >= n && memcmp(s, lit, n) == 0;
}

/* The line of the first start tag in s[0..len) with more than ATTRS_MAX
 * attributes (an '=' outside quotes), 0 when there is none.  Comments,
 * CDATA, processing instructions and declarations are skipped whole; what
 * is not well-formed is left for the parser to report. */
static int
too_many_attrs(const char *s, size_t len)
{
	int line = 1;
	size_t i = 0;
	while (i < len) {
		if (s[i] == '\n')
			line++;
		if (s[i] != '<') {
			i++;
			continue;
		}
		const char *end = lit_at(s + i, len - i, "<!--") ? "-->"
		                  : lit_at(s + i, len - i, "<![CDATA[") ? "]]>"
		                  : lit_at(s + i, len - i, "<?") ? "?>"
		                  : lit_at(s + i, len - i, "<!") ? ">" : NULL;
		if (end) {
			for (i += 2; i < len && !lit_at(s + i, len - i, end); i++)
				line += s[i] == '\n';
			i += strlen(end);
			continue;
		}
		int tag_line = line, n = 0;
		char quote = 0;
		for (i++; i < len && (quote || s[i] != '<'); i++) {
			char c = s[i];
			line += c == '\n';
			if (quote) {
				if (c == quote)
					quote = 0;
			} else if (c == '"' || c == '\'') {
				quote = c;
			} else if (c == '=' && ++n > ATTRS_MAX) {
				return tag_line;
			} else if (c == '>') {
				i++;
				break;
			}
		}
	}
	return 0;
}

/* Reads and parses r->path into r->doc, refusing files over CONFIG_MAX_FILE,
 * elements with more than ATTRS_MAX attributes and any DOCTYPE.  Returns 0
 * when r->doc is set. */
static int
rd_parse(struct rd *r, struct rd *from, const xmlNode *at)
{
	struct stat st;
	if (stat(r->path, &st) < 0) {
		read_fail(r, from, at, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		read_fail(r, from, at, "not a regular file");
		return -1;
	}
	char *data;
	size_t len;
	if ((uint64_t)st.st_size > CONFIG_MAX_FILE ||
	    file_read(r->path, CONFIG_MAX_FILE, &data, &len) < 0) {
		char why[80];
		if ((uint64_t)st.st_size > CONFIG_MAX_FILE || errno == EFBIG)
			bfmt(why, sizeof(why), "larger than the limit of %d bytes",
			    CONFIG_MAX_FILE);
		else
			bfmt(why, sizeof(why), "%s", strerror(errno));
		read_fail(r, from, at, why);
		return -1;
	}
	int crowded = too_many_attrs(data, len);
	if (crowded) {
		free(data);
		rd_errl(r, crowded, "an element with more than %d attributes (the file is not read)",
		    ATTRS_MAX);
		return -1;
	}

	xmlParserCtxtPtr p = xmlNewParserCtxt();
	if (!p) {
		free(data);
		read_fail(r, from, at, "cannot create an XML parser");
		return -1;
	}
	size_t nerr = r->ld->total;
	p->_private = r;
	p->sax->internalSubset = refuse_doctype;
	xmlSetStructuredErrorFunc(r, xml_error);
	/* No XML_PARSE_NOENT (entity substitution), no DTDLOAD/DTDATTR/
	 * DTDVALID, no HUGE: libxml2's own size limits stay on. */
	r->doc = xmlCtxtReadMemory(p, data, (int)len, r->path, NULL,
	    XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_BIG_LINES);
	xmlSetStructuredErrorFunc(NULL, NULL); /* nobody else uses this libxml2 */
	xmlFreeParserCtxt(p);
	free(data);
	/* A parser stopped at a DOCTYPE still hands back an (empty) doc. */
	if (r->doc && (r->refused || !xmlDocGetRootElement(r->doc))) {
		xmlFreeDoc(r->doc);
		r->doc = NULL;
	}
	if (!r->doc && r->ld->total == nerr)
		rd_errl(r, 0, "not a well-formed XML document");
	return r->doc ? 0 : -1;
}

/* ---- walking elements ------------------------------------------------------ */

/* s trimmed, inner runs of white space (wrapped lines) made one space. */
static char *
norm(const char *s)
{
	struct sbuf sb = {0};
	int space = 0;
	for (const char *p = s; *p; p++) {
		if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
			space = 1;
			continue;
		}
		if (space && sb.len)
			sb_addc(&sb, ' ');
		space = 0;
		sb_addc(&sb, *p);
	}
	return sb_steal(&sb);
}

enum { OPT, REQ };

/* Normalised value of attribute name; NULL when absent or empty (reported
 * when req), or longer than VALUE_MAX (reported).  Caller frees. */
static char *
attr(struct rd *r, xmlNode *n, const char *name, int req)
{
	xmlChar *v = xmlGetNoNsProp(n, BAD_CAST name);
	char *s = v ? norm((const char *)v) : NULL;
	xmlFree(v);
	if (s && strlen(s) > VALUE_MAX) {
		rd_err(r, n, "<%s> %s: longer than %d bytes", ename(n), name, VALUE_MAX);
		free(s);
		return NULL;
	}
	if (s && !*s) {
		free(s);
		s = NULL;
	}
	if (!s && req)
		rd_err(r, n, "<%s>: missing attribute \"%s\"", ename(n), name);
	return s;
}

/* 1 when attribute name of n is present and not blank. */
static int
has_value(xmlNode *n, const char *name)
{
	xmlChar *v = xmlGetNoNsProp(n, BAD_CAST name);
	char *s = v ? norm((const char *)v) : NULL;
	int r = s && *s;
	xmlFree(v);
	free(s);
	return r;
}

/* Reports every attribute of n not in allowed (NULL-terminated). */
static void
check_attrs(struct rd *r, xmlNode *n, const char *const *allowed)
{
	for (xmlAttr *a = n->properties; a; a = a->next) {
		if (!a->ns && word_index(allowed, (const char *)a->name) >= 0)
			continue;
		if (allowed[0]) {
			char *l = word_list(allowed);
			rd_err(r, n, "<%s>: unknown attribute \"%s\" (allowed: %s)",
			    ename(n), a->name, l);
			free(l);
		} else {
			rd_err(r, n, "<%s>: unknown attribute \"%s\" (none allowed)",
			    ename(n), a->name);
		}
	}
}

static int
is_text(const xmlNode *c)
{
	return c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE;
}

/* Line of the first non-blank character of text node c.  libxml2 gives a
 * text node the line where the parser was when it made the node: the end of
 * the text, for text shorter than its 300-byte chunks. */
static int
text_line(const xmlNode *c)
{
	const char *p = c->content ? (const char *)c->content : "";
	int all = 0, lead = 0, seen = 0;
	for (; *p; p++) {
		if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
			seen = 1;
		if (*p == '\n') {
			all++;
			lead += !seen;
		}
	}
	int line = node_line(c) - all + lead;
	return line > 0 ? line : node_line(c);
}

/* First element at or after c among parent's children whose name is in
 * names (index in *idx).  Unknown elements and text that is not white space
 * are reported on the way; comments and processing instructions are skipped. */
static xmlNode *
next_elem(struct rd *r, xmlNode *parent, xmlNode *c, const char *const *names,
    int *idx)
{
	for (; c; c = c->next) {
		if (is_text(c)) {
			const char *raw = c->content ? (const char *)c->content : "";
			char *t = norm(raw);
			if (*t) {
				/* Quote at most 40 bytes, cut between characters. */
				size_t n = strlen(t) > 40 ? 40 : strlen(t);
				while (n && ((unsigned char)t[n] & 0xc0) == 0x80)
					n--;
				t[n] = '\0';
				rd_errl(r, text_line(c), "<%s>: unexpected text \"%s\"",
				    ename(parent), t);
			}
			free(t);
			continue;
		}
		if (c->type != XML_ELEMENT_NODE)
			continue;
		int i = c->ns ? -1 : word_index(names, ename(c));
		if (i >= 0) {
			*idx = i;
			return c;
		}
		if (names[0]) {
			char *l = word_list(names);
			rd_err(r, c, "unknown element <%s> in <%s> (allowed: %s)",
			    ename(c), ename(parent), l);
			free(l);
		} else {
			rd_err(r, c, "unknown element <%s> in <%s> (none allowed)",
			    ename(c), ename(parent));
		}
	}
	return NULL;
}

static void
no_children(struct rd *r, xmlNode *n)
{
	static const char *const none[] = {NULL};
	int i;
	next_elem(r, n, n->children, none, &i);
}

/* Checks n's attributes and that it has no children. */
static void
leaf(struct rd *r, xmlNode *n, const char *const *allowed)
{
	check_attrs(r, n, allowed);
	no_children(r, n);
}

/* Normalised text content of n, which must hold text only; NULL when empty
 * (reported) or too long (reported).  Caller frees. */
static char *
text(struct rd *r, xmlNode *n)
{
	struct sbuf sb = {0};
	int bad = 0;
	for (xmlNode *c = n->children; c; c = c->next) {
		if (is_text(c)) {
			sb_adds(&sb, c->content ? (const char *)c->content : "");
		} else if (c->type == XML_ELEMENT_NODE && !bad) {
			rd_err(r, c, "unknown element <%s> in <%s> (text only)",
			    ename(c), ename(n));
			bad = 1;
		}
	}
	char *t = norm(sb_str(&sb));
	sb_free(&sb);
	if (bad) {
		/* reported */
	} else if (strlen(t) > VALUE_MAX) {
		rd_err(r, n, "<%s>: text longer than %d bytes", ename(n), VALUE_MAX);
	} else if (!*t) {
		rd_err(r, n, "<%s>: empty", ename(n));
	} else {
		return t;
	}
	free(t);
	return NULL;
}

static xmlNode *
root_elem(struct rd *r, const char *want)
{
	xmlNode *root = xmlDocGetRootElement(r->doc);
	if (root->ns || strcmp(ename(root), want) != 0) {
		rd_err(r, root, "root element is <%s>, expected <%s>", ename(root), want);
		return NULL;
	}
	return root;
}

/* 1 (reported at e) when e would be element number LIST_MAX + 1 of its
 * list; seen counts the list's elements so far, valid or not. */
static int
list_full(struct rd *r, xmlNode *e, size_t seen)
{
	if (seen < LIST_MAX)
		return 0;
	rd_err(r, e, "more than %d <%s> elements; the rest are not read",
	    LIST_MAX, ename(e));
	return 1;
}

/* ---- value checks -------------------------------------------------------- */

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
is_alnum(int c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* A host name of at least min_labels labels: letters, digits, '-' (not at a
 * label's ends), labels of 1..63 bytes, 253 bytes in all.  IDNs must be
 * written in punycode (xn--). */
static int
domain_ok(const char *s, int min_labels)
{
	size_t len = strlen(s);
	if (len == 0 || len > 253)
		return 0;
	int labels = 0;
	for (const char *p = s;;) {
		const char *e = strchr(p, '.');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n == 0 || n > 63 || p[0] == '-' || p[n - 1] == '-')
			return 0;
		for (size_t i = 0; i < n; i++)
			if (!is_alnum((unsigned char)p[i]) && p[i] != '-')
				return 0;
		labels++;
		if (!e)
			break;
		p = e + 1;
	}
	return labels >= min_labels;
}

/* local@domain: an unquoted dot-atom local part of at most 64 bytes and a
 * domain of at least two labels. */
static int
email_ok(const char *s)
{
	const char *at = strchr(s, '@');
	if (!at || at == s || strchr(at + 1, '@') || strlen(s) > 254 ||
	    at - s > 64 || s[0] == '.' || at[-1] == '.')
		return 0;
	for (const char *p = s; p < at; p++) {
		if (*p == '.' && p[1] == '.')
			return 0;
		if (!is_alnum((unsigned char)*p) && !strchr("!#$%&'*+/=?^_`{|}~.-", *p))
			return 0;
	}
	return domain_ok(at + 1, 2);
}

/* Lowercased email from attribute name of n, NULL (reported) when bad. */
static char *
attr_email(struct rd *r, xmlNode *n, const char *name, int req)
{
	char *v = attr(r, n, name, req);
	if (v && !email_ok(v)) {
		rd_err(r, n, "<%s> %s: \"%s\" is not an email address", ename(n), name, v);
		free(v);
		return NULL;
	}
	return v ? str_lower(v) : NULL;
}

static int
login_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 32)
		return 0;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || is_digit((unsigned char)*p) ||
		    *p == '.' || *p == '_' || *p == '-'))
			return 0;
	return 1;
}

static int
sku_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 32)
		return 0;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || is_digit((unsigned char)*p) || *p == '-'))
			return 0;
	return 1;
}

/* Digits, spaces and + - ( ) /, at least 6 digits, at most 32 bytes. */
static int
phone_ok(const char *s)
{
	int digits = 0;
	if (strlen(s) > 32)
		return 0;
	for (const char *p = s; *p; p++) {
		if (is_digit((unsigned char)*p))
			digits++;
		else if (!strchr(" +-()/", *p))
			return 0;
	}
	return digits >= 6;
}

/* An IBAN (spaces allowed) with a valid ISO 7064 mod-97 check, or a Polish
 * 26-digit NRB, which is an IBAN without "PL". */
static int
account_ok(const char *s)
{
	char b[40] = {0};
	size_t n = 0;
	for (const char *p = s; *p; p++) {
		if (*p == ' ')
			continue;
		if (n == 34)
			return 0;
		b[n++] = (*p >= 'a' && *p <= 'z') ? (char)(*p - 'a' + 'A') : *p;
	}
	int all_digits = n > 0;
	for (size_t i = 0; i < n; i++)
		all_digits &= is_digit((unsigned char)b[i]);
	if (n == 26 && all_digits) {
		memmove(b + 2, b, n);
		b[0] = 'P';
		b[1] = 'L';
		n += 2;
	}
	if (n < 15 || !(b[0] >= 'A' && b[0] <= 'Z') || !(b[1] >= 'A' && b[1] <= 'Z') ||
	    !is_digit((unsigned char)b[2]) || !is_digit((unsigned char)b[3]))
		return 0;
	if (b[0] == 'P' && b[1] == 'L' && n != 28)
		return 0;
	unsigned rem = 0;
	for (size_t k = 0; k < n; k++) {
		char c = b[(k + 4) % n];
		if (is_digit((unsigned char)c))
			rem = (rem * 10 + (unsigned)(c - '0')) % 97;
		else if (c >= 'A' && c <= 'Z')
			rem = (rem * 100 + (unsigned)(c - 'A' + 10)) % 97;
		else
			return 0;
	}
	return rem == 1;
}

enum { NUM_OK, NUM_SYNTAX, NUM_NEGATIVE, NUM_DECIMALS, NUM_RANGE };

/* "12", "12.5", "12,50" as hundredths (1250): digits, then optionally '.'
 * or ',' and one or two digits.  NUM_* says what is wrong. */
static int
parse_hundredths(const char *s, int64_t max, int64_t *out)
{
	const char *p = s;
	if (*p == '-' || *p == '+')
		return (*p == '-' && is_digit((unsigned char)p[1])) ? NUM_NEGATIVE : NUM_SYNTAX;
	if (!is_digit((unsigned char)*p))
		return NUM_SYNTAX;
	int64_t v = 0;
	for (; is_digit((unsigned char)*p); p++) {
		v = v * 10 + (*p - '0');
		if (v > max / 100 + 1)
			return NUM_RANGE;
	}
	v *= 100;
	if (*p == '.' || *p == ',') {
		p++;
		int nd = 0;
		for (; is_digit((unsigned char)*p); p++, nd++)
			if (nd < 2)
				v += (*p - '0') * (nd == 0 ? 10 : 1);
		if (nd == 0)
			return NUM_SYNTAX;
		if (*p)
			return NUM_SYNTAX;
		if (nd > 2)
			return NUM_DECIMALS;
	}
	if (*p)
		return NUM_SYNTAX;
	if (v > max)
		return NUM_RANGE;
	*out = v;
	return NUM_OK;
}

/* "50M", "512K", "1G", "20000" (bytes; K/M/G are powers of 1024, either
 * case).  0 ok, -1 not a size, -2 outside [min, max]. */
static int
parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	const char *p = s;
	uint64_t v = 0;
	if (!is_digit((unsigned char)*p))
		return -1;
	for (; is_digit((unsigned char)*p); p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -2;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	uint64_t mul = 1;
	switch (*p) {
	case 'K': case 'k': mul = KIB; p++; break;
	case 'M': case 'm': mul = MIB; p++; break;
	case 'G': case 'g': mul = GIB; p++; break;
	}
	if (*p)
		return -1;
	if (v > UINT64_MAX / mul)
		return -2;
	v *= mul;
	if (v < min || v > max)
		return -2;
	*out = v;
	return 0;
}

static void
size_text(uint64_t v, char *buf, size_t size)
{
	if (v && v % GIB == 0)
		bfmt(buf, size, "%lluG", (unsigned long long)(v / GIB));
	else if (v && v % MIB == 0)
		bfmt(buf, size, "%lluM", (unsigned long long)(v / MIB));
	else if (v && v % KIB == 0)
		bfmt(buf, size, "%lluK", (unsigned long long)(v / KIB));
	else
		bfmt(buf, size, "%llu", (unsigned long long)v);
}

/* Value of attribute name if it is one of words, else NULL (reported). */
static char *
attr_word(struct rd *r, xmlNode *n, const char *name, const char *const *words,
    int req)
{
	char *v = attr(r, n, name, req);
	if (v && word_index(words, v) < 0) {
		char *l = word_list(words);
		rd_err(r, n, "<%s> %s: unknown value \"%s\" (one of: %s)",
		    ename(n), name, v, l);
		free(l);
		free(v);
		return NULL;
	}
	return v;
}

/* Absolute path from attribute name, resolved against r's directory. */
static char *
attr_path(struct rd *r, xmlNode *n, const char *name, int req)
{
	char *v = attr(r, n, name, req);
	if (!v)
		return NULL;
	char *p = resolve_path(r->dir, v);
	free(v);
	return p;
}

/* ---- inkflow.xml ------------------------------------------------------------ */

static void
read_system(struct rd *r, xmlNode *n, struct config *c)
{
	static const char *const at[] = {"address", "name", "lang", "currency", NULL};
	leaf(r, n, at);
	c->system_address = attr_email(r, n, "address", REQ);
	if (c->system_address)
		c->domain = xstrdup(strchr(c->system_address, '@') + 1);
	c->system_name = attr(r, n, "name", REQ);
	char *v = attr_word(r, n, "lang", langs, OPT);
	if (v) {
		free(c->default_lang);
		c->default_lang = v;
	}
	v = attr_word(r, n, "currency", currencies, OPT);
	if (v) {
		free(c->default_currency);
		c->default_currency = v;
	}
}

static void
read_paths(struct rd *r, xmlNode *n, struct config *c)
{
	static const char *const at[] = {"data", "templates", "db", "key", NULL};
	leaf(r, n, at);
	c->data_dir = attr_path(r, n, "data", REQ);
	c->templates_dir = attr_path(r, n, "templates", REQ);
	c->db_path = attr_path(r, n, "db", OPT);
	c->key_path = attr_path(r, n, "key", OPT);
	if (!c->db_path && c->data_dir)
		c->db_path = path_join(c->data_dir, "inkflow.db");
	if (!c->key_path && c->data_dir)
		c->key_path = path_join(c->data_dir, "hmac.key");
}

/* Mail back-ends, by the type attribute of <source> and <outbox>.  A new
 * one (imap for <source>, smtp for <outbox>) is a row here, a reader, and the
 * fields it fills in struct config.  One holding a password must also refuse
 * a group- or world-readable inkflow.xml (DESIGN.md section 7). */
struct mail_type {
	const char *name;
	void (*read)(struct rd *r, xmlNode *n, struct config *c);
};

static void
read_source_maildir(struct rd *r, xmlNode *n, struct config *c)
{
	static const char *const at[] = {"type", "path", NULL};
	check_attrs(r, n, at);
	c->source_maildir = attr_path(r, n, "path", REQ);
}

static void
read_outbox_maildir(struct rd *r, xmlNode *n, struct config *c)
{
	static const char *const at[] = {"type", "path", NULL};
	check_attrs(r, n, at);
	c->outbox_maildir = attr_path(r, n, "path", REQ);
}

/* Whole number from attribute name in [min,max], def when absent. */
static int
attr_int(struct rd *r, xmlNode *n, const char *name, int64_t min, int64_t max, int def)
{
	char *v = attr(r, n, name, OPT);
	if (!v)
		return def;
	int64_t x;
	if (parse_int64(v, min, max, &x) < 0) {
		rd_err(r, n, "<%s> %s: \"%s\" is not a whole number in %lld..%lld", ename(n),
		    name, v, (long long)min, (long long)max);
		x = def;
	}
	free(v);
	return (int)x;
}

/* Host name or address for a URL: letters, digits, '.', '-', or an IPv6
 * literal in brackets.  Anything else could smuggle URL syntax. */
static int
host_ok(const char *h)
{
	size_t n = strlen(h);
	if (!n || n > 253)
		return 0;
	if (h[0] == '[')
		return h[n - 1] == ']' && strspn(h + 1, "0123456789abcdefABCDEF:.") == n - 2;
	return strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") == n;
}

/* The password of a mail account: password-file= (read here; the file must
 * not be readable by group or others) or password= inline, which requires
 * inkflow.xml itself to be private. */
static char *
read_password(struct rd *r, xmlNode *n)
{
	char *inline_pw = attr(r, n, "password", OPT);
	char *file = attr_path(r, n, "password-file", OPT);
	struct stat st;
	if (inline_pw && file) {
		rd_err(r, n, "<%s>: give password or password-file, not both", ename(n));
		free(file);
		return inline_pw;
	}
	if (inline_pw) {
		if (stat(r->path, &st) == 0 && (st.st_mode & 077))
			rd_err(r, n, "<%s>: holds a password but %s is readable by group or "
			    "others (chmod 600 it, or use password-file=)", ename(n), r->shown);
		return inline_pw;
	}
	if (!file)
		return NULL;
	char *data = NULL;
	size_t len;
	if (stat(file, &st) < 0 || file_read(file, 4096, &data, &len) < 0) {
		rd_err(r, n, "<%s> password-file: cannot read %s: %s", ename(n), file,
		    strerror(errno));
	} else if (st.st_mode & 077) {
		rd_err(r, n, "<%s> password-file: %s is readable by group or others "
		    "(chmod 600 it)", ename(n), file);
	} else {
		while (len && (data[len - 1] == '\n' || data[len - 1] == '\r'))
			data[--len] = '\0';
		if (!len || memchr(data, '\0', len) || strpbrk(data, "\r\n"))
			rd_err(r, n, "<%s> password-file: %s must hold the password on one line",
			    ename(n), file);
	}
	free(file);
	return data;
}

static const char *const tls_words[] = {"imaps", "smtps", "starttls", "none", NULL};

/* How a mail account signs in: auth="password" (password= or
 * password-file=) or auth="oauth2" (token-command=, see oauth.h).  Fills
 * *password or *token_command. */
static void
read_sign_in(struct rd *r, xmlNode *n, char **password, char **token_command)
{
	static const char *const modes[] = {"password", "oauth2", NULL};
	char *auth = attr_word(r, n, "auth", modes, OPT);
	int oauth = auth && strcmp(auth, "oauth2") == 0;
	free(auth);
	char *cmd = attr(r, n, "token-command", OPT);
	if (!oauth) {
		if (cmd)
			rd_err(r, n, "<%s> token-command: only with auth=\"oauth2\"", ename(n));
		free(cmd);
		*password = read_password(r, n);
		if (!*password)
			rd_err(r, n, "<%s>: missing attribute \"password\" or \"password-file\"",
			    ename(n));
		return;
	}
	if (has_value(n, "password") || has_value(n, "password-file"))
		rd_err(r, n, "<%s> auth=\"oauth2\": give token-command, not a password", ename(n));
	if (!cmd || !*cmd)
		rd_err(r, n, "<%s> auth=\"oauth2\" needs token-command=\"COMMAND\" (it prints an "
		    "access token)", ename(n));
	*token_command = cmd;
}

static void
read_source_imap(struct rd *r, xmlNode *n, struct config *c)
{
	static const char *const at[] = {"type", "host", "port", "tls", "user", "auth",
	    "password", "password-file", "token-command", "ca-file", "mailboxes", "after",
	    "move-to", "idle", "poll", "timeout", NULL};
	static const char *const after[] = {"seen", "move", "delete", NULL};
	static const char *const yesno[] = {"yes", "no", NULL};
	check_attrs(r, n, at);
	struct imap_conf *m = xcalloc(1, sizeof(*m));
	c->imap = m;
	m->host = attr(r, n, "host", REQ);
	if (m->host && !host_ok(m->host))
		rd_err(r, n, "<source> host: \"%s\" is not a host name or address", m->host);
	char *tls = attr_word(r, n, "tls", tls_words, OPT);
	m->tls = !tls || strcmp(tls, "imaps") == 0 ? IMAP_TLS_IMAPS
	         : strcmp(tls, "starttls") == 0   ? IMAP_TLS_STARTTLS
	         : strcmp(tls, "none") == 0       ? IMAP_TLS_NONE
	                                          : IMAP_TLS_IMAPS;
	if (tls && strcmp(tls, "smtps") == 0)
		rd_err(r, n, "<source> tls: \"smtps\" is for <outbox>; use imaps or starttls");
	free(tls);
	m->port = attr_int(r, n, "port", 1, 65535, m->tls == IMAP_TLS_IMAPS ? 993 : 143);
	m->user = attr(r, n, "user", REQ);
	read_sign_in(r, n, &m->password, &m->token_command);
	m->token_line = xmlGetLineNo(n);
	m->ca_file = attr_path(r, n, "ca-file", OPT);
	if (m->ca_file && access(m->ca_file, R_OK) < 0)
		rd_err(r, n, "<source> ca-file: cannot read %s: %s", m->ca_file, strerror(errno));
	char *boxes = attr(r, n, "mailboxes", OPT);
	for (char *save = NULL, *t = strtok_r(boxes ? boxes : "INBOX", " ,", &save); t;
	     t = strtok_r(NULL, " ,", &save)) {
		if (m->nmailboxes >= 64) {
			rd_err(r, n, "<source> mailboxes: at most 64");
			break;
		}
		m->mailboxes = xrealloc(m->mailboxes, (m->nmailboxes + 1) * sizeof(char *));
		m->mailboxes[m->nmailboxes++] = xstrdup(t);
	}
	free(boxes);
	char *a = attr_word(r, n, "after", after, OPT);
	m->dispose = !a || strcmp(a, "seen") == 0 ? IMAP_DISPOSE_SEEN
	             : strcmp(a, "move") == 0     ? IMAP_DISPOSE_MOVE
	                                          : IMAP_DISPOSE_DELETE;
	free(a);
	m->move_to = attr(r, n, "move-to", OPT);
	if (m->dispose == IMAP_DISPOSE_MOVE && !m->move_to)
		rd_err(r, n, "<source> after=\"move\" needs move-to=\"FOLDER\"");
	char *idle = attr_word(r, n, "idle", yesno, OPT);
	m->idle = !idle || strcmp(idle, "yes") == 0;
	free(idle);
	m->poll_interval = attr_int(r, n, "poll", 5, 86400, 60);
	m->timeout = attr_int(r, n, "timeout", 5, 3600, 60);
}

static void
read_outbox_smtp(struct rd *r, xmlNode *n, struct config *c)
{
	static const char *const at[] = {"type", "host", "port", "tls", "user", "auth",
	    "password", "password-file", "token-command", "ca-file", "envelope-from", "helo",
	    "timeout", NULL};
	check_attrs(r, n, at);
	struct smtp_conf *m = xcalloc(1, sizeof(*m));
	c->smtp = m;
	m->host = attr(r, n, "host", REQ);
	if (m->host && !host_ok(m->host))
		rd_err(r, n, "<outbox> host: \"%s\" is not a host name or address", m->host);
	char *tls = attr_word(r, n, "tls", tls_words, OPT);
	m->tls = !tls || strcmp(tls, "smtps") == 0 ? SMTP_TLS_SMTPS
	         : strcmp(tls, "starttls") == 0   ? SMTP_TLS_STARTTLS
	         : strcmp(tls, "none") == 0       ? SMTP_TLS_NONE
	                                          : SMTP_TLS_SMTPS;
	if (tls && strcmp(tls, "imaps") == 0)
		rd_err(r, n, "<outbox> tls: \"imaps\" is for <source>; use smtps or starttls");
	free(tls);
	m->port = attr_int(r, n, "port", 1, 65535, m->tls == SMTP_TLS_SMTPS ? 465 : 587);
	m->user = attr(r, n, "user", OPT);
	if (m->user) {
		read_sign_in(r, n, &m->password, &m->token_command);
		m->token_line = xmlGetLineNo(n);
	} else if (has_value(n, "auth") || has_value(n, "token-command"))
		rd_err(r, n, "<outbox>: auth= and token-command= need user=");
	m->ca_file = attr_path(r, n, "ca-file", OPT);
	if (m->ca_file && access(m->ca_file, R_OK) < 0)
		rd_err(r, n, "<outbox> ca-file: cannot read %s: %s", m->ca_file, strerror(errno));
	m->envelope_from = attr_email(r, n, "envelope-from", OPT);
	m->helo = attr(r, n, "helo", OPT);
	if (m->helo && !host_ok(m->helo))
		rd_err(r, n, "<outbox> helo: \"%s\" is not a host name", m->helo);
	m->timeout = attr_int(r, n, "timeout", 5, 3600, 60);
}

static const struct mail_type source_types[] = {
	{"maildir", read_source_maildir},
	{"imap", read_source_imap},
};
static const struct mail_type outbox_types[] = {
	{"maildir", read_outbox_maildir},
	{"smtp", read_outbox_smtp},
};

static void
read_mail(struct rd *r, xmlNode *n, struct config *c,
    const struct mail_type *types, size_t ntypes)
{
	no_children(r, n);
	char *type = attr(r, n, "type", REQ);
	if (!type)
		return;
	for (size_t i = 0; i < ntypes; i++) {
		if (strcmp(type, types[i].name) == 0) {
			types[i].read(r, n, c);
			free(type);
			return;
		}
	}
	struct sbuf sb = {0};
	for (size_t i = 0; i < ntypes; i++)
		sb_printf(&sb, "%s%s", i ? ", " : "", types[i].name);
	rd_err(r, n, "<%s> type: unknown value \"%s\" (supported: %s)",
	    ename(n), type, sb_str(&sb));
	sb_free(&sb);
	free(type);
}

static void
read_company(struct rd *r, xmlNode *n, struct config *c)
{
	static const char *const at[] = {"name", "address", "city", "country",
	    "tax-id", "bank-account", "phone", "email", "www", "logo", NULL};
	leaf(r, n, at);
	struct cfg_company *k = &c->company;
	k->name = attr(r, n, "name", REQ);
	k->address = attr(r, n, "address", REQ);
	k->city = attr(r, n, "city", REQ);
	k->country = attr(r, n, "country", REQ);
	k->tax_id = attr(r, n, "tax-id", REQ);
	k->bank_account = attr(r, n, "bank-account", REQ);
	if (k->bank_account && !account_ok(k->bank_account))
		rd_err(r, n, "<company> bank-account: \"%s\" is not a valid IBAN "
		    "(check digits wrong or mistyped)", k->bank_account);
	k->phone = attr(r, n, "phone", REQ);
	if (k->phone && !phone_ok(k->phone))
		rd_err(r, n, "<company> phone: \"%s\" is not a phone number", k->phone);
	k->email = attr_email(r, n, "email", REQ);
	k->www = attr(r, n, "www", REQ);
	k->logo = attr_path(r, n, "logo", OPT);
	if (k->logo && access(k->logo, R_OK) < 0)
		rd_err(r, n, "<company> logo: cannot read %s: %s", k->logo, strerror(errno));
}

static const struct limit_spec {
	const char *name;
	size_t off;       /* in struct cfg_limits */
	int is_size;      /* accepts K/M/G */
	uint64_t min, max, def;
} limit_specs[] = {
#define LIM(field) offsetof(struct cfg_limits, field)
	/* name                  field                 size min       max       default */
	{"max-message",          LIM(max_message),     1, MIB,      GIB,      50 * MIB},
	{"max-header",           LIM(max_header),      1, 4 * KIB,  16 * MIB, 256 * KIB},
	{"max-header-line",      LIM(max_header_line), 1, 1000,     MIB,      64 * KIB},
	{"max-parts",            LIM(max_parts),       0, 1,        10000,    500},
	{"max-depth",            LIM(max_depth),       0, 1,        100,      20},
	{"max-attachment",       LIM(max_attachment),  1, 64 * KIB, GIB,      40 * MIB},
	/* an int, not a size_t: handled by name */
	{"auto-replies-per-hour", (size_t)-1,          0, 0,        1000,     5},
#undef LIM
};

static void
limits_default(struct cfg_limits *l)
{
	for (size_t i = 0; i < ARRAY_LEN(limit_specs); i++) {
		const struct limit_spec *s = &limit_specs[i];
		if (s->off == (size_t)-1)
			l->auto_replies_per_hour = (int)s->def;
		else
			*(size_t *)((char *)l + s->off) = (size_t)s->def;
	}
}

static void
read_limits(struct rd *r, xmlNode *n, struct config *c)
{
	const char *names[ARRAY_LEN(limit_specs) + 1];
	for (size_t i = 0; i < ARRAY_LEN(limit_specs); i++)
		names[i] = limit_specs[i].name;
	names[ARRAY_LEN(limit_specs)] = NULL;
	leaf(r, n, names);
	for (size_t i = 0; i < ARRAY_LEN(limit_specs); i++) {
		const struct limit_spec *s = &limit_specs[i];
		char *v = attr(r, n, s->name, OPT);
		if (!v)
			continue;
		uint64_t x = 0;
		int rc;
		if (s->is_size) {
			rc = parse_size(v, s->min, s->max, &x);
		} else {
			int64_t y;
			rc = parse_int64(v, (int64_t)s->min, (int64_t)s->max, &y) == 0 ? 0 :
			    parse_int64(v, INT64_MIN, INT64_MAX, &y) == 0 ? -2 : -1;
			x = (uint64_t)y;
		}
		char lo[32], hi[32];
		size_text(s->min, lo, sizeof(lo));
		size_text(s->max, hi, sizeof(hi));
		if (rc == -1)
			rd_err(r, n, "<limits> %s: \"%s\" is not %s", s->name, v,
			    s->is_size ? "a size (e.g. 50M, 512K, 20000)" : "a whole number");
		else if (rc == -2 && s->is_size)
			rd_err(r, n, "<limits> %s: %s out of range (%s..%s)", s->name, v, lo, hi);
		else if (rc == -2)
			rd_err(r, n, "<limits> %s: %s out of range (%llu..%llu)", s->name, v,
			    (unsigned long long)s->min, (unsigned long long)s->max);
		else if (s->off == (size_t)-1)
			c->limits.auto_replies_per_hour = (int)x;
		else
			*(size_t *)((char *)&c->limits + s->off) = (size_t)x;
		free(v);
	}
	/* The defaults satisfy these whatever single value is set. */
	if (c->limits.max_header > c->limits.max_message)
		rd_err(r, n, "<limits>: max-header is larger than max-message");
	if (c->limits.max_header_line > c->limits.max_header)
		rd_err(r, n, "<limits>: max-header-line is larger than max-header");
}

static int
rule_match(const char *pattern, const char *domain)
{
	if (pattern[0] == '*' && pattern[1] == '.') {
		size_t pl = strlen(pattern + 1), dl = strlen(domain);
		return dl > pl && str_ieq(domain + dl - pl, pattern + 1);
	}
	return str_ieq(pattern, domain);
}

/* 1 when every domain rule b matches is matched by a as well. */
static int
rule_covers(const char *a, const char *b)
{
	if (b[0] == '*')
		return a[0] == '*' && (strcmp(a, b) == 0 || rule_match(a, b + 2));
	return rule_match(a, b);
}

static void
read_assignment(struct rd *r, xmlNode *n, struct config *c)
{
	static const char *const kids[] = {"rule", NULL};
	static const char *const at[] = {"domain", "owner", "lang", "currency", NULL};
	check_attrs(r, n, (const char *const[]){NULL});
	size_t seen = 0;
	int k;
	for (xmlNode *e = next_elem(r, n, n->children, kids, &k); e;
	    e = next_elem(r, n, e->next, kids, &k)) {
		if (list_full(r, e, seen++))
			break;
		leaf(r, e, at);
		char *dom = attr(r, e, "domain", REQ);
		if (dom) {
			str_lower(dom);
			const char *d = strncmp(dom, "*.", 2) == 0 ? dom + 2 : dom;
			if (!domain_ok(d, d == dom ? 2 : 1)) {
				rd_err(r, e, "<rule> domain: \"%s\" is neither a domain "
				    "(firma.pl) nor a pattern (*.de)", dom);
				free(dom);
				dom = NULL;
			}
		}
		struct cfg_rule rule = {
			.domain = dom,
			.owner = attr(r, e, "owner", OPT),
			.lang = attr_word(r, e, "lang", langs, OPT),
			.currency = attr_word(r, e, "currency", currencies, OPT),
			.line = node_line(e),
		};
		if (!has_value(e, "owner") && !has_value(e, "lang") &&
		    !has_value(e, "currency"))
			rd_err(r, e, "<rule>: sets nothing (give owner, lang or currency)");
		for (size_t i = 0; dom && i < c->nrules; i++) {
			if (c->rules[i].domain && rule_covers(c->rules[i].domain, dom)) {
				rd_err(r, e, "<rule> \"%s\" never applies: the rule \"%s\" "
				    "at line %d matches first", dom, c->rules[i].domain,
				    c->rules[i].line);
				break;
			}
		}
		c->rules = grow(c->rules, c->nrules, &r->ld->cap_rules, sizeof(*c->rules));
		c->rules[c->nrules++] = rule;
	}
}

/* Free-mail providers: mail from them names a person, not a company, so each
 * such address is its own client.  Used when <freemail> is absent. */
static const char *const default_freemail[] = {
	"gmail.com", "googlemail.com", "wp.pl", "o2.pl", "tlen.pl", "go2.pl",
	"onet.pl", "onet.eu", "op.pl", "vp.pl", "poczta.onet.pl", "interia.pl",
	"interia.eu", "poczta.fm", "gazeta.pl", "outlook.com", "hotmail.com",
	"live.com", "msn.com", "yahoo.com", "icloud.com", "me.com", "aol.com",
	"proton.me", "protonmail.com", "gmx.de", "gmx.net", "gmx.at", "web.de",
	"t-online.de", "freenet.de", "yahoo.de", "hotmail.de", "outlook.de",
	"aon.at", "bluewin.ch", NULL,
};

static void
read_freemail(struct rd *r, xmlNode *n, struct config *c)
{
	static const char *const kids[] = {"domain", NULL};
	check_attrs(r, n, (const char *const[]){NULL});
	size_t seen = 0;
	int k;
	for (xmlNode *e = next_elem(r, n, n->children, kids, &k); e;
	    e = next_elem(r, n, e->next, kids, &k)) {
		if (list_full(r, e, seen++))
			break;
		check_attrs(r, e, (const char *const[]){NULL});
		char *d = text(r, e);
		if (!d)
			continue;
		str_lower(d);
		if (!domain_ok(d, 2)) {
			rd_err(r, e, "<domain>: \"%s\" is not a domain", d);
			free(d);
			continue;
		}
		if (config_is_freemail(c, d)) {
			rd_err(r, e, "<domain>: \"%s\" listed twice", d);
			free(d);
			continue;
		}
		c->freemail = grow(c->freemail, c->nfreemail, &r->ld->cap_freemail, sizeof(char *));
		c->freemail[c->nfreemail++] = d;
	}
}

/* Prepares rd for the file named by attribute "file" of n in r.  0 when it
 * was read and parsed. */
static int
include(struct rd *r, xmlNode *n, struct rd *inc)
{
	static const char *const at[] = {"file", NULL};
	leaf(r, n, at);
	char *f = attr(r, n, "file", REQ);
	if (!f)
		return -1;
	if (f[0] == '/') {
		inc->shown = xstrdup(f);
	} else {
		char *sd = path_dirname(r->shown);
		inc->shown = strcmp(sd, ".") == 0 ? xstrdup(f) : path_join(sd, f);
		free(sd);
	}
	char *abs = resolve_path(r->dir, f);
	free(f);
	int rc = rd_locate(inc, abs);
	if (rc < 0)
		rd_err(r, n, "<%s>: cannot read %s: %s", ename(n), inc->shown, strerror(errno));
	free(abs);
	return rc < 0 ? -1 : rd_parse(inc, r, n);
}

/* ---- users.xml ---------------------------------------------------------------- */

/* Largest caldav-password-file read, in bytes. */
#define SECRET_MAX 4096

/* The collection URL of caldav=, with a '/' added when it does not end in
 * one; NULL with *why saying what is wrong otherwise.  Only what curl takes
 * at face value gets through: http(s), a host name or address with an
 * optional port, no user info (credentials come from caldav-user= and
 * caldav-password-file=, never from a URL that ends up in logs), a path of
 * unreserved characters, sub-delimiters and %-escapes, and no query or
 * fragment.  Plain http is for a server on this machine only. */
static char *
caldav_url(const char *v, const char **why)
{
	int tls = strncmp(v, "https://", 8) == 0;
	if (!tls && strncmp(v, "http://", 7) != 0) {
		*why = "is not an https:// URL";
		return NULL;
	}
	const char *p = v + (tls ? 8 : 7);
	size_t alen = strcspn(p, "/?#");
	const char *path = p + alen;
	char *host = xstrndup(p, alen);
	/* The port follows the host, or the ']' of an IPv6 literal. */
	char *end = host[0] == '[' ? strchr(host, ']') : NULL;
	char *port = strchr(end ? end : host, ':');
	if (port)
		*port++ = '\0';
	static const char hex[] = "0123456789abcdefABCDEF";
	int64_t pn;
	char *out = NULL;
	*why = NULL;
	if (strchr(host, '@') || (port && strchr(port, '@')))
		*why = "holds a user name or password (give caldav-user= and caldav-password-file=)";
	else if (!host_ok(host))
		*why = "has no valid host name or address";
	else if (port && parse_int64(port, 1, 65535, &pn) < 0)
		*why = "has a port outside 1..65535";
	else if (!tls && !str_ieq(host, "localhost") && strcmp(host, "127.0.0.1") != 0 &&
	    strcmp(host, "[::1]") != 0)
		*why = "uses http://, allowed only for 127.0.0.1, [::1] and localhost "
		       "(use https://)";
	for (const char *q = path; !*why && *q; q++) {
		if (*q == '?' || *q == '#')
			*why = "has a query or fragment (give the collection URL)";
		else if (*q == '%' && !(q[1] && strchr(hex, q[1]) && q[2] && strchr(hex, q[2])))
			*why = "has a '%' that starts no %-escape";
		else if (!is_alnum((unsigned char)*q) && !strchr("-._~!$&'()*+,;=:@/%", *q))
			*why = "has a character not allowed in a URL path (%-encode it)";
	}
	if (!*why)
		out = xasprintf("%s%s", v, *path && path[strlen(path) - 1] == '/' ? "" : "/");
	free(host);
	return out;
}

/* The password in the file named by attribute name of n: one line, in a
 * regular file that only its owner may read.  NULL when that is not so
 * (reported). */
static char *
read_secret_file(struct rd *r, xmlNode *n, const char *name)
{
	char *file = attr_path(r, n, name, OPT);
	if (!file)
		return NULL;
	char *data = NULL;
	struct stat st;
	/* Opened first, then checked: the mode seen is that of the file read. */
	int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) < 0) {
		rd_err(r, n, "<%s> %s: cannot read %s: %s", ename(n), name, file, strerror(errno));
	} else if (!S_ISREG(st.st_mode)) {
		rd_err(r, n, "<%s> %s: %s is not a regular file", ename(n), name, file);
	} else if (st.st_mode & 077) {
		rd_err(r, n, "<%s> %s: %s has mode %04o, open to group or others "
		    "(chmod 600 it)", ename(n), name, file, (unsigned)(st.st_mode & 07777));
	} else {
		data = xmalloc(SECRET_MAX + 2);
		size_t len = 0;
		ssize_t got = 0;
		while (len <= SECRET_MAX &&
		    (got = read(fd, data + len, SECRET_MAX + 1 - len)) != 0) {
			if (got < 0 && errno == EINTR)
				continue;
			if (got < 0)
				break;
			len += (size_t)got;
		}
		data[len] = '\0';
		if (got < 0) {
			rd_err(r, n, "<%s> %s: cannot read %s: %s", ename(n), name, file,
			    strerror(errno));
			len = 0;
		} else if (len > SECRET_MAX) {
			rd_err(r, n, "<%s> %s: %s is larger than %d bytes", ename(n), name, file,
			    SECRET_MAX);
			len = 0;
		} else {
			while (len && (data[len - 1] == '\n' || data[len - 1] == '\r'))
				data[--len] = '\0';
			if (!len || memchr(data, '\0', len) || strpbrk(data, "\r\n")) {
				rd_err(r, n, "<%s> %s: %s must hold the password on one line",
				    ename(n), name, file);
				len = 0;
			}
		}
		if (!len) {
			free(data);
			data = NULL;
		}
	}
	if (fd >= 0)
		close(fd);
	free(file);
	return data;
}

/* caldav=, caldav-user=, caldav-password-file= and caldav-ca= of <user> e.
 * Each is checked, and a setting that needs another says so, all in one
 * pass; u's fields stay NULL for what is wrong. */
static void
read_user_caldav(struct rd *r, xmlNode *e, struct cfg_user *u)
{
	static const char *const deps[] = {"caldav-user", "caldav-password-file", "caldav-ca"};
	if (!has_value(e, "caldav")) {
		for (size_t i = 0; i < ARRAY_LEN(deps); i++)
			if (has_value(e, deps[i]))
				rd_err(r, e, "<user> %s: needs caldav= (the calendar collection URL)",
				    deps[i]);
		return;
	}
	char *url = attr(r, e, "caldav", OPT);
	const char *why = NULL;
	if (url && !(u->caldav_url = caldav_url(url, &why)))
		rd_err(r, e, "<user> caldav: \"%s\" %s", url, why);
	int https = url && strncmp(url, "https://", 8) == 0;
	free(url);
	u->caldav_user = attr(r, e, "caldav-user", OPT);
	if (u->caldav_user && strchr(u->caldav_user, ':')) {
		rd_err(r, e, "<user> caldav-user: \"%s\" holds ':', which HTTP Basic "
		    "authentication cannot carry", u->caldav_user);
		free(u->caldav_user);
		u->caldav_user = NULL;
	}
	int have_file = has_value(e, "caldav-password-file");
	if (has_value(e, "caldav-user") && !have_file)
		rd_err(r, e, "<user>: caldav-user= needs caldav-password-file=");
	else if (have_file && !has_value(e, "caldav-user"))
		rd_err(r, e, "<user>: caldav-password-file= needs caldav-user=");
	else if (have_file)
		u->caldav_password = read_secret_file(r, e, "caldav-password-file");
	if (!u->caldav_user || !u->caldav_password) {
		/* Both or neither: never a user without a password. */
		free(u->caldav_user);
		free(u->caldav_password);
		u->caldav_user = u->caldav_password = NULL;
	}
	u->caldav_ca = attr_path(r, e, "caldav-ca", OPT);
	if (u->caldav_ca && !https && u->caldav_url)
		rd_err(r, e, "<user> caldav-ca: is for an https:// caldav= URL");
	else if (u->caldav_ca && access(u->caldav_ca, R_OK) < 0)
		rd_err(r, e, "<user> caldav-ca: cannot read %s: %s", u->caldav_ca, strerror(errno));
}

static void
cfg_user_free(struct cfg_user *u)
{
	free(u->login);
	free(u->name);
	free(u->email);
	free(u->phone);
	free(u->supervisor);
	free(u->lang);
	free(u->caldav_url);
	free(u->caldav_user);
	if (u->caldav_password)
		explicit_bzero(u->caldav_password, strlen(u->caldav_password));
	free(u->caldav_password);
	free(u->caldav_ca);
}

static void
read_user(struct loader *ld, struct rd *r, xmlNode *e, struct config *c)
{
	static const char *const at[] = {"login", "name", "email", "role",
	    "supervisor", "lang", "phone", "caldav", "caldav-user", "caldav-password-file",
	    "caldav-ca", NULL};
	leaf(r, e, at);
	struct cfg_user u = {0};
	u.login = attr(r, e, "login", REQ);
	if (u.login && !login_ok(u.login)) {
		rd_err(r, e, "<user> login: \"%s\" is not a login "
		    "(1-32 of a-z 0-9 . _ -)", u.login);
		free(u.login);
		u.login = NULL;
	}
	const struct cfg_user *dup = u.login ? config_user(c, u.login) : NULL;
	if (dup) {
		rd_err(r, e, "<user>: login \"%s\" given twice (first at line %d)",
		    u.login, ld->user_line[dup - c->users]);
		free(u.login);
		u.login = NULL;
	}
	u.name = attr(r, e, "name", REQ);
	u.email = attr_email(r, e, "email", REQ);
	dup = u.email ? config_user_by_email(c, u.email) : NULL;
	if (dup)
		rd_err(r, e, "<user>: email \"%s\" given twice (first at line %d)",
		    u.email, ld->user_line[dup - c->users]);
	char *role = attr(r, e, "role", REQ);
	if (role && role_parse(role, &u.role) < 0) {
		char *l = word_list(role_names);
		rd_err(r, e, "<user> role: unknown value \"%s\" (one of: %s)", role, l);
		free(l);
	}
	free(role);
	u.supervisor = attr(r, e, "supervisor", OPT);
	u.lang = attr_word(r, e, "lang", langs, OPT);
	if (!u.lang && !has_value(e, "lang"))
		u.lang = xstrdup(c->default_lang);
	u.phone = attr(r, e, "phone", OPT);
	if (u.phone && !phone_ok(u.phone))
		rd_err(r, e, "<user> phone: \"%s\" is not a phone number", u.phone);
	read_user_caldav(r, e, &u);
	if (!u.login) {
		/* Kept out so later checks do not trip over it; reported. */
		cfg_user_free(&u);
		return;
	}
	size_t cap = ld->cap_users;   /* user_line grows in step with users */
	c->users = grow(c->users, c->nusers, &ld->cap_users, sizeof(*c->users));
	ld->user_line = grow(ld->user_line, c->nusers, &cap, sizeof(int));
	ld->user_line[c->nusers] = node_line(e);
	c->users[c->nusers++] = u;
}

static void
check_supervisors(struct loader *ld, struct rd *r, struct config *c)
{
	size_t n = c->nusers;
	/* sup[i]: index of users[i]'s supervisor, or n for none.  Built once so
	 * the loop search below is linear, even for a long chain. */
	size_t *sup = xcalloc(n ? n : 1, sizeof(*sup));
	for (size_t i = 0; i < n; i++) {
		const struct cfg_user *u = &c->users[i];
		const struct cfg_user *s = u->supervisor ? config_user(c, u->supervisor) : NULL;
		sup[i] = s && s != u ? (size_t)(s - c->users) : n;
		if (s == u)
			rd_errl(r, ld->user_line[i], "<user> \"%s\": is its own supervisor",
			    u->login);
		else if (u->supervisor && !s)
			rd_errl(r, ld->user_line[i], "<user> \"%s\": supervisor \"%s\" "
			    "is not a user", u->login, u->supervisor);
	}
	/* A loop would make escalation walk forever.  Follow each chain once,
	 * marking users 1 (on the current walk) then 2 (done); reaching a 1
	 * closes a loop, each of whose members is reported. */
	unsigned char *state = xcalloc(n ? n : 1, 1);
	unsigned char *in_loop = xcalloc(n ? n : 1, 1);
	for (size_t i = 0; i < n; i++) {
		size_t j = i;
		while (j < n && state[j] == 0) {
			state[j] = 1;
			j = sup[j];
		}
		if (j < n && state[j] == 1) {
			size_t k = j;
			do {
				in_loop[k] = 1;
				k = sup[k];
			} while (k != j);
		}
		for (j = i; j < n && state[j] == 1; j = sup[j])
			state[j] = 2;
	}
	for (size_t i = 0; i < n; i++) {
		if (!in_loop[i])
			continue;
		struct sbuf sb = {0};
		size_t k = i, hops = 0;
		do {
			sb_printf(&sb, "%s -> ", c->users[k].login);
			k = sup[k];
		} while (k != i && ++hops < 8);
		sb_printf(&sb, "%s%s", k == i ? "" : "... -> ", c->users[i].login);
		rd_errl(r, ld->user_line[i], "<user> \"%s\": supervisors form a loop (%s)",
		    c->users[i].login, sb_str(&sb));
		sb_free(&sb);
	}
	free(in_loop);
	free(state);
	free(sup);
}

static int
read_users(struct loader *ld, struct rd *r, struct config *c)
{
	static const char *const kids[] = {"user", NULL};
	xmlNode *root = root_elem(r, "users");
	if (!root)
		return -1;
	check_attrs(r, root, (const char *const[]){NULL});
	size_t seen = 0;
	int k;
	for (xmlNode *e = next_elem(r, root, root->children, kids, &k); e;
	    e = next_elem(r, root, e->next, kids, &k)) {
		if (list_full(r, e, seen++))
			break;
		read_user(ld, r, e, c);
	}
	if (c->nusers == 0)
		rd_err(r, root, "<users>: no users");
	check_supervisors(ld, r, c);
	return 0;
}

/* ---- pricelist.xml ------------------------------------------------------------ */

static void
read_price(struct rd *r, xmlNode *e, struct cfg_product *p, int *have)
{
	static const char *const at[] = {"currency", NULL};
	check_attrs(r, e, at);
	char *cur = attr_word(r, e, "currency", currencies, REQ);
	char *v = text(r, e);
	int ci = word_index(currencies, cur);
	if (ci >= 0 && have[ci]) {
		rd_err(r, e, "<price>: %s price given twice", cur);
		ci = -1;
	}
	if (ci >= 0)
		have[ci] = 1;
	int64_t x = -1;
	int rc = v ? parse_hundredths(v, PRICE_MAX, &x) : NUM_SYNTAX;
	if (v && rc == NUM_SYNTAX)
		rd_err(r, e, "<price>: \"%s\" is not a price (e.g. 12.50 or 12,50)", v);
	else if (rc == NUM_NEGATIVE)
		rd_err(r, e, "<price>: \"%s\" is negative", v);
	else if (rc == NUM_DECIMALS)
		rd_err(r, e, "<price>: \"%s\" has more than two decimal places", v);
	else if (rc == NUM_RANGE)
		rd_err(r, e, "<price>: \"%s\" is above %lld.00", v, PRICE_MAX / 100);
	if (rc == NUM_OK && ci == 0)
		p->price_pln = x;
	else if (rc == NUM_OK && ci == 1)
		p->price_eur = x;
	free(cur);
	free(v);
}

static void
read_product(struct loader *ld, struct rd *r, xmlNode *e, struct config *c)
{
	static const char *const at[] = {"sku", "unit", "vat", "min-dpi", NULL};
	static const char *const kids[] = {"name", "price", NULL};
	check_attrs(r, e, at);
	struct cfg_product p = {.price_pln = -1, .price_eur = -1};
	p.min_dpi = attr_int(r, e, "min-dpi", 0, 2400, 0);
	/* A bad or repeated SKU still names the product in messages, but the
	 * product is not kept. */
	char *sku = attr(r, e, "sku", REQ);
	int keep = sku != NULL;
	if (sku && !sku_ok(sku)) {
		rd_err(r, e, "<product> sku: \"%s\" is not a SKU (1-32 of A-Z 0-9 -)", sku);
		keep = 0;
	}
	const struct cfg_product *dup = keep ? config_product(c, sku) : NULL;
	if (dup) {
		rd_err(r, e, "<product>: sku \"%s\" given twice (first at line %d)",
		    sku, ld->product_line[dup - c->products]);
		keep = 0;
	}
	const char *what = sku ? sku : "without sku";
	char *unit = attr(r, e, "unit", REQ);
	if (unit && unit_parse(unit, &p.unit) < 0) {
		char *l = word_list(unit_names);
		rd_err(r, e, "<product> unit: unknown value \"%s\" (one of: %s)", unit, l);
		free(l);
	}
	free(unit);
	char *vat = attr(r, e, "vat", REQ);
	if (vat) {
		size_t n = strlen(vat);
		if (n > 1 && vat[n - 1] == '%')
			vat[n - 1] = '\0';
		int64_t bp = 0;
		int rc = parse_hundredths(vat, VAT_MAX_BP, &bp);
		if (rc == NUM_NEGATIVE || rc == NUM_RANGE)
			rd_err(r, e, "<product> vat: %s%% out of range (0..%d%%)", vat,
			    VAT_MAX_BP / 100);
		else if (rc != NUM_OK)
			rd_err(r, e, "<product> vat: \"%s\" is not a percentage (e.g. 23)", vat);
		p.vat_bp = (int)bp;
		free(vat);
	}

	int have_price[2] = {0, 0};
	int nprice = 0;
	int k;
	for (xmlNode *x = next_elem(r, e, e->children, kids, &k); x;
	    x = next_elem(r, e, x->next, kids, &k)) {
		if (k == 1) {
			read_price(r, x, &p, have_price);
			nprice++;
			continue;
		}
		static const char *const nat[] = {"lang", NULL};
		check_attrs(r, x, nat);
		char *lang = attr_word(r, x, "lang", langs, REQ);
		char *name = text(r, x);
		char **slot = !lang ? NULL : strcmp(lang, "pl") == 0 ? &p.name_pl : &p.name_de;
		if (slot && *slot) {
			rd_err(r, x, "<name>: lang \"%s\" given twice", lang);
		} else if (slot) {
			*slot = name;
			name = NULL;
		}
		free(lang);
		free(name);
	}
	if (!p.name_pl)
		rd_err(r, e, "<product> %s: missing <name lang=\"pl\">", what);
	if (!p.name_de)
		rd_err(r, e, "<product> %s: missing <name lang=\"de\">", what);
	if (nprice == 0)
		rd_err(r, e, "<product> %s: no <price>", what);

	if (!keep) {
		free(sku);
		free(p.name_pl);
		free(p.name_de);
		return;
	}
	p.sku = sku;
	size_t cap = ld->cap_products;   /* product_line likewise */
	c->products = grow(c->products, c->nproducts, &ld->cap_products, sizeof(*c->products));
	ld->product_line = grow(ld->product_line, c->nproducts, &cap, sizeof(int));
	ld->product_line[c->nproducts] = node_line(e);
	c->products[c->nproducts++] = p;
}

static void
read_pricelist(struct loader *ld, struct rd *r, struct config *c)
{
	static const char *const kids[] = {"product", NULL};
	xmlNode *root = root_elem(r, "pricelist");
	if (!root)
		return;
	check_attrs(r, root, (const char *const[]){NULL});
	size_t seen = 0;
	int k;
	for (xmlNode *e = next_elem(r, root, root->children, kids, &k); e;
	    e = next_elem(r, root, e->next, kids, &k)) {
		if (list_full(r, e, seen++))
			break;
		read_product(ld, r, e, c);
	}
	if (c->nproducts == 0)
		rd_err(r, root, "<pricelist>: no products");
}

/* ---- <approval> ------------------------------------------------------------ */

static const char *const levels[] = {"supervisor", "sales-director", "board", NULL};

static void
approval_default(struct cfg_approval *a)
{
	a->auto_approve = 100000;   /* 1 000,00 zł */
	a->eur_rate = 43000;        /* 4,3000 PLN/EUR */
	a->bands[0] = (struct cfg_band){1000000, ROLE_SUPERVISOR};
	a->bands[1] = (struct cfg_band){5000000, ROLE_SALES_DIRECTOR};
	a->bands[2] = (struct cfg_band){-1, ROLE_BOARD};
	a->nbands = 3;
}

/* An amount "12 500,00" or "12500.00" in minor units; -1 when not one. */
static int64_t
amount(struct rd *r, xmlNode *n, const char *name, const char *v)
{
	int64_t whole = 0, frac = 0;
	int digits = 0, fd = -1;
	for (const char *p = v; *p; p++) {
		if (*p >= '0' && *p <= '9') {
			if (fd >= 0) {
				if (++fd > 2)
					goto bad;
				frac = frac * 10 + (*p - '0');
			} else {
				if (++digits > 12)
					goto bad;
				whole = whole * 10 + (*p - '0');
			}
		} else if ((*p == '.' || *p == ',') && fd < 0 && digits) {
			fd = 0;
		} else if (*p == ' ' && fd < 0) {
			continue;
		} else
			goto bad;
	}
	if (!digits)
		goto bad;
	if (fd == 1)
		frac *= 10;
	return whole * 100 + frac;
bad:
	rd_err(r, n, "<%s> %s: \"%s\" is not an amount (e.g. 10000.00)", ename(n), name, v);
	return -1;
}

static void
read_approval(struct rd *r, xmlNode *n, struct config *c)
{
	static const char *const at[] = {"auto-approve", "eur-rate", NULL};
	static const char *const kids[] = {"band", NULL};
	check_attrs(r, n, at);
	struct cfg_approval *a = &c->approval;
	char *v = attr(r, n, "auto-approve", OPT);
	if (v) {
		int64_t x = amount(r, n, "auto-approve", v);
		if (x >= 0)
			a->auto_approve = x;
		free(v);
	}
	v = attr(r, n, "eur-rate", OPT);
	if (v) {
		/* Four decimals: "4.3" → 43000. */
		int64_t x = amount(r, n, "eur-rate", v); /* two decimals max */
		if (x > 0 && x <= 10000)
			a->eur_rate = x * 100;
		else if (x >= 0)
			rd_err(r, n, "<approval> eur-rate: %s out of range (0.01..100.00)", v);
		free(v);
	}
	a->nbands = 0;
	int k, open_band = 0;
	int64_t prev = a->auto_approve;
	for (xmlNode *e = next_elem(r, n, n->children, kids, &k); e;
	    e = next_elem(r, n, e->next, kids, &k)) {
		static const char *const bat[] = {"up-to", "level", NULL};
		leaf(r, e, bat);
		if (a->nbands == ARRAY_LEN(a->bands)) {
			rd_err(r, e, "<approval>: at most %zu bands", ARRAY_LEN(a->bands));
			break;
		}
		if (open_band)
			rd_err(r, e, "<band>: follows a band without up-to, so it never applies");
		struct cfg_band *b = &a->bands[a->nbands];
		char *lvl = attr_word(r, e, "level", levels, REQ);
		b->level = !lvl ? ROLE_BOARD : strcmp(lvl, "supervisor") == 0 ? ROLE_SUPERVISOR
		           : strcmp(lvl, "sales-director") == 0            ? ROLE_SALES_DIRECTOR
		                                                           : ROLE_BOARD;
		free(lvl);
		char *up = attr(r, e, "up-to", OPT);
		b->up_to = -1;
		if (up) {
			b->up_to = amount(r, e, "up-to", up);
			if (b->up_to >= 0 && b->up_to <= prev)
				rd_err(r, e, "<band> up-to: %s is not above the previous limit", up);
			prev = b->up_to;
			free(up);
		} else
			open_band = 1;
		a->nbands++;
	}
	if (!a->nbands)
		rd_err(r, n, "<approval>: no <band>");
	else if (!open_band)
		rd_err(r, n, "<approval>: the last <band> must have no up-to (it takes every "
		    "larger amount)");
}

/* ---- <reminders> ------------------------------------------------------------- */

static int64_t duration(const char *v);

static void
read_reminders(struct rd *r, xmlNode *n, struct config *c)
{
	static const char *const kids[] = {"reminder", NULL};
	size_t cap = 0;
	int k, have_default = 0;
	for (xmlNode *e = n ? next_elem(r, n, n->children, kids, &k) : NULL; e;
	     e = next_elem(r, n, e->next, kids, &k)) {
		static const char *const at[] = {"kind", "every", "escalate-after", NULL};
		leaf(r, e, at);
		if (c->nreminders >= 64) {
			rd_err(r, e, "<reminders>: at most 64");
			break;
		}
		c->reminders = grow(c->reminders, c->nreminders, &cap, sizeof(*c->reminders));
		struct cfg_reminder *m = &c->reminders[c->nreminders++];
		memset(m, 0, sizeof(*m));
		m->kind = attr(r, e, "kind", REQ);
		if (m->kind && strcmp(m->kind, "*") == 0)
			have_default = 1;
		static const char *const names[] = {"every", "escalate-after"};
		int64_t *dst[] = {&m->every, &m->escalate};
		for (int i = 0; i < 2; i++) {
			char *v = attr(r, e, names[i], OPT);
			if (v && strcmp(v, "never") != 0 && (*dst[i] = duration(v)) < 0) {
				rd_err(r, e, "<reminder> %s: \"%s\" is not a duration (e.g. 24h, 2d) or never",
				    names[i], v);
				*dst[i] = 0;
			}
			free(v);
		}
	}
	if (!have_default) {
		c->reminders = grow(c->reminders, c->nreminders, &cap, sizeof(*c->reminders));
		c->reminders[c->nreminders++] = (struct cfg_reminder){xstrdup("*"), 86400, 2 * 86400};
	}
}

/* ---- <digest> -------------------------------------------------------------------- */

#define DIGEST_MAX_TO 64

/* <digest hour="7" lang="pl" to="login login ..."/>.  The logins are
 * checked against users.xml later (check_digest), once it is read. */
static void
read_digest(struct rd *r, xmlNode *n, struct config *c)
{
	static const char *const at[] = {"hour", "lang", "to", NULL};
	leaf(r, n, at);
	struct cfg_digest *d = &c->digest;
	d->line = node_line(n);
	d->hour = attr_int(r, n, "hour", 0, 23, 7);
	d->lang = attr_word(r, n, "lang", langs, OPT);
	char *to = attr(r, n, "to", REQ);
	if (!to)
		return;
	size_t cap = 0;
	for (char *save = NULL, *l = strtok_r(to, " ", &save); l; l = strtok_r(NULL, " ", &save)) {
		if (!login_ok(l)) {
			rd_err(r, n, "<digest> to: \"%.40s\" is not a login (logins from users.xml, "
			    "separated by spaces)", l);
			continue;
		}
		int dup = 0;
		for (size_t i = 0; i < d->nto; i++)
			dup |= strcmp(d->to[i], l) == 0;
		if (dup) {
			rd_err(r, n, "<digest> to: \"%s\" given twice", l);
			continue;
		}
		if (d->nto == DIGEST_MAX_TO) {
			rd_err(r, n, "<digest> to: more than %d recipients", DIGEST_MAX_TO);
			break;
		}
		d->to = grow(d->to, d->nto, &cap, sizeof(*d->to));
		d->to[d->nto++] = xstrdup(l);
	}
	free(to);
}

/* Every recipient is a user; the language defaults to the system's. */
static void
check_digest(struct loader *ld, struct rd *r, struct config *c)
{
	struct cfg_digest *d = &c->digest;
	if (!d->line)
		return;
	if (!d->lang)
		d->lang = xstrdup(c->default_lang);
	if (!ld->users_read)
		return;
	for (size_t i = 0; i < d->nto; i++)
		if (!config_user(c, d->to[i]))
			rd_errl(r, d->line, "<digest> to: \"%s\" is not a user in %s", d->to[i],
			    ld->rd[F_USERS].shown);
}

/* ---- workflow.xml -------------------------------------------------------------- */

/* Reply commands a task may allow, by their workflow.xml names. */
static const struct {
	const char *name;
	enum reply_cmd cmd;
} wf_cmds[] = {
	{"approve", CMD_APPROVE}, {"correct", CMD_CORRECT}, {"reject", CMD_REJECT},
	{"confirm", CMD_CONFIRM}, {"refuse", CMD_REFUSE}, {"done", CMD_DONE},
	{"assign", CMD_ASSIGN}, {"note", CMD_NOTE}, {"submit", CMD_SUBMIT},
	{"accepted", CMD_ACCEPTED}, {"delivered", CMD_DELIVERED},
	{"complaint", CMD_COMPLAINT}, {"opinion", CMD_OPINION}, {"decide", CMD_DECIDE},
};
/* Events the engine knows: the commands above plus internal ones. */
static const char *const wf_events[] = {"submit", "approve", "correct", "reject",
    "assigned", "accepted", "confirm", "refuse", "signed", "done", "delivered", "complaint",
    "opinions-complete", "decide", "reprint", NULL};
static const char *const wf_guards[] = {"auto-approve", "needs-approval", "checks-confirmed",
    NULL};
static const char *const wf_targets[] = {"owner", "approver", "author", "client", "supervisor",
    NULL};
static const char *const wf_action_names[] = {"assign-owner", "task", "mail", "close-tasks",
    "document", "opinion-tasks", NULL};
static const char *const doc_kinds[] = {"offer", "calculation", "order", "production",
    "delivery", "complaint", NULL};

/* "2d", "4h", "30m" → seconds; -1 when not one. */
static int64_t
duration(const char *v)
{
	int64_t n;
	size_t l = strlen(v);
	if (l < 2 || l > 8)
		return -1;
	char unit = v[l - 1];
	char num[8];
	memcpy(num, v, l - 1);
	num[l - 1] = '\0';
	if (parse_int64(num, 1, 999, &n) < 0)
		return -1;
	return unit == 'd' ? n * 86400 : unit == 'h' ? n * 3600 : unit == 'm' ? n * 60 : -1;
}

static int
target_ok(struct rd *r, xmlNode *e, const char *t, int mail)
{
	if (word_index(wf_targets, t) >= 0)
		return !(!mail && strcmp(t, "client") == 0) || (rd_err(r, e,
		    "<task> for: \"client\" cannot have tasks (clients act by plain mail)"), 0);
	if (strncmp(t, "role:", 5) == 0) {
		enum role role;
		if (role_parse(t + 5, &role) == 0)
			return 1;
		rd_err(r, e, "<%s> %s: unknown role \"%s\"", ename(e), mail ? "to" : "for", t + 5);
		return 0;
	}
	if (strncmp(t, "user:", 5) == 0)
		return 1; /* checked against users.xml afterwards */
	char *l = word_list(wf_targets);
	rd_err(r, e, "<%s> %s: unknown value \"%s\" (one of: %s, role:ROLE, user:LOGIN)",
	    ename(e), mail ? "to" : "for", t, l);
	free(l);
	return 0;
}

static void
read_wf_action(struct rd *r, xmlNode *e, int k, struct wf_action *a)
{
	a->line = node_line(e);
	switch (k) {
	case 0: {
		a->kind = WA_ASSIGN_OWNER;
		leaf(r, e, (const char *const[]){NULL});
		break;
	}
	case 1: {
		static const char *const at[] = {"for", "kind", "due", "actions", "title-pl",
		    "title-de", "attach", NULL};
		leaf(r, e, at);
		a->kind = WA_TASK;
		a->attach = attr(r, e, "attach", OPT);
		char *cp = xstrdup(a->attach ? a->attach : "");
		for (char *save = NULL, *w = strtok_r(cp, " ", &save); w; w = strtok_r(NULL, " ", &save))
			if (strcmp(w, "artwork") != 0 && strcmp(w, "message") != 0 &&
			    !(strncmp(w, "document:", 9) == 0 && word_index(doc_kinds, w + 9) >= 0))
				rd_err(r, e, "<task> attach: unknown \"%s\" (document:KIND, artwork, message)",
				    w);
		free(cp);
		a->target = attr(r, e, "for", REQ);
		if (a->target)
			target_ok(r, e, a->target, 0);
		a->task_kind = attr(r, e, "kind", REQ);
		a->title_pl = attr(r, e, "title-pl", REQ);
		a->title_de = attr(r, e, "title-de", REQ);
		char *due = attr(r, e, "due", OPT);
		if (due && (a->due = duration(due)) < 0)
			rd_err(r, e, "<task> due: \"%s\" is not a duration (e.g. 2d, 4h, 30m)", due);
		free(due);
		char *acts = attr(r, e, "actions", OPT);
		for (char *save = NULL, *t = strtok_r(acts ? acts : "", " ,", &save); t;
		     t = strtok_r(NULL, " ,", &save)) {
			size_t i;
			for (i = 0; i < ARRAY_LEN(wf_cmds); i++)
				if (strcmp(wf_cmds[i].name, t) == 0)
					break;
			if (i == ARRAY_LEN(wf_cmds))
				rd_err(r, e, "<task> actions: unknown action \"%s\"", t);
			else
				a->actions |= 1u << wf_cmds[i].cmd;
		}
		free(acts);
		break;
	}
	case 2: {
		static const char *const at[] = {"to", "template", "attach", "cc", NULL};
		static const char *const ccs[] = {"owner", NULL};
		leaf(r, e, at);
		a->kind = WA_MAIL;
		a->attach = attr_word(r, e, "attach", doc_kinds, OPT);
		a->cc = attr_word(r, e, "cc", ccs, OPT);
		a->target = attr(r, e, "to", REQ);
		if (a->target)
			target_ok(r, e, a->target, 1);
		a->tmpl = attr(r, e, "template", REQ);
		if (a->tmpl && strspn(a->tmpl, "abcdefghijklmnopqrstuvwxyz0123456789-") !=
		                   strlen(a->tmpl))
			rd_err(r, e, "<mail> template: \"%s\" is not a template name", a->tmpl);
		break;
	}
	case 3: {
		static const char *const at[] = {"kind", NULL};
		leaf(r, e, at);
		a->kind = WA_CLOSE_TASKS;
		a->task_kind = attr(r, e, "kind", REQ);
		break;
	}
	case 4: {
		static const char *const at[] = {"kind", NULL};
		leaf(r, e, at);
		a->kind = WA_DOCUMENT;
		a->doc_kind = attr_word(r, e, "kind", doc_kinds, REQ);
		break;
	}
	default: {
		static const char *const at[] = {"due", "title-pl", "title-de", NULL};
		leaf(r, e, at);
		a->kind = WA_OPINIONS;
		a->task_kind = xstrdup("complaint-opinion");
		a->title_pl = attr(r, e, "title-pl", REQ);
		a->title_de = attr(r, e, "title-de", REQ);
		a->actions = (1u << CMD_OPINION) | (1u << CMD_NOTE);
		char *due = attr(r, e, "due", OPT);
		if (due && (a->due = duration(due)) < 0)
			rd_err(r, e, "<opinion-tasks> due: \"%s\" is not a duration (e.g. 3d)", due);
		free(due);
		break;
	}
	}
}

static void
read_wf_actions(struct rd *r, xmlNode *parent, struct wf_action **v, size_t *n)
{
	int k;
	size_t cap = 0;
	for (xmlNode *e = next_elem(r, parent, parent->children, wf_action_names, &k); e;
	    e = next_elem(r, parent, e->next, wf_action_names, &k)) {
		if (*n >= 32) {
			rd_err(r, e, "<%s>: at most 32 actions", ename(parent));
			break;
		}
		*v = grow(*v, *n, &cap, sizeof(**v));
		memset(&(*v)[*n], 0, sizeof(**v));
		read_wf_action(r, e, k, &(*v)[(*n)++]);
	}
}

static void
read_wf_state(struct rd *r, xmlNode *e, struct wf_state *st)
{
	static const char *const at[] = {"name", NULL};
	static const char *const kids[] = {"enter", "on", NULL};
	check_attrs(r, e, at);
	st->line = node_line(e);
	st->name = attr(r, e, "name", REQ);
	int k, have_enter = 0;
	size_t cap = 0;
	for (xmlNode *c = next_elem(r, e, e->children, kids, &k); c;
	    c = next_elem(r, e, c->next, kids, &k)) {
		if (k == 0) {
			if (have_enter++)
				rd_err(r, c, "<enter> given twice in state \"%s\"", st->name ? st->name : "?");
			check_attrs(r, c, (const char *const[]){NULL});
			read_wf_actions(r, c, &st->enter, &st->nenter);
			continue;
		}
		static const char *const oat[] = {"event", "goto", "guard", "enter", NULL};
		static const char *const yesno[] = {"yes", "no", NULL};
		check_attrs(r, c, oat);
		if (st->non >= 32) {
			rd_err(r, c, "<state>: at most 32 transitions");
			break;
		}
		st->on = grow(st->on, st->non, &cap, sizeof(*st->on));
		struct wf_transition *t = &st->on[st->non++];
		memset(t, 0, sizeof(*t));
		t->line = node_line(c);
		t->event = attr_word(r, c, "event", wf_events, REQ);
		t->to = attr(r, c, "goto", REQ);
		t->guard = attr_word(r, c, "guard", wf_guards, OPT);
		char *en = attr_word(r, c, "enter", yesno, OPT);
		t->run_enter = !en || strcmp(en, "yes") == 0;
		free(en);
		read_wf_actions(r, c, &t->actions, &t->nactions);
	}
}

static void
check_wf_users(struct rd *r, struct config *c, const struct wf_action *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].target && strncmp(v[i].target, "user:", 5) == 0 &&
		    !config_user(c, v[i].target + 5))
			rd_errl(r, v[i].line, "\"%s\": no such user", v[i].target);
}

static void
read_workflow(struct rd *r, struct config *c)
{
	static const char *const kids[] = {"state", NULL};
	xmlNode *root = root_elem(r, "workflow");
	if (!root)
		return;
	static const char *const at[] = {"initial", NULL};
	check_attrs(r, root, at);
	struct cfg_workflow *w = xcalloc(1, sizeof(*w));
	c->workflow = w;
	w->path = xstrdup(r->shown);
	w->initial = attr(r, root, "initial", REQ);
	size_t cap = 0;
	int k;
	for (xmlNode *e = next_elem(r, root, root->children, kids, &k); e;
	    e = next_elem(r, root, e->next, kids, &k)) {
		if (w->nstates >= 64) {
			rd_err(r, e, "<workflow>: at most 64 states");
			break;
		}
		w->states = grow(w->states, w->nstates, &cap, sizeof(*w->states));
		struct wf_state *st = &w->states[w->nstates];
		memset(st, 0, sizeof(*st));
		read_wf_state(r, e, st);
		for (size_t i = 0; st->name && i < w->nstates; i++)
			if (w->states[i].name && strcmp(w->states[i].name, st->name) == 0)
				rd_err(r, e, "<state> \"%s\" given twice (first at line %d)", st->name,
				    w->states[i].line);
		w->nstates++;
	}
	if (!w->nstates) {
		rd_err(r, root, "<workflow>: no states");
		return;
	}
	/* Every goto names a state; every state is reachable from initial. */
	int *reach = xcalloc(w->nstates, sizeof(int));
	size_t init = w->nstates;
	for (size_t i = 0; i < w->nstates; i++) {
		if (w->initial && w->states[i].name && strcmp(w->states[i].name, w->initial) == 0)
			init = i;
		check_wf_users(r, c, w->states[i].enter, w->states[i].nenter);
		for (size_t j = 0; j < w->states[i].non; j++) {
			const struct wf_transition *t = &w->states[i].on[j];
			check_wf_users(r, c, t->actions, t->nactions);
			if (t->to && !config_state(c, t->to))
				rd_errl(r, t->line, "<on> goto: unknown state \"%s\"", t->to);
		}
	}
	if (w->initial && init == w->nstates)
		rd_err(r, root, "<workflow> initial: unknown state \"%s\"", w->initial);
	else if (init < w->nstates) {
		reach[init] = 1;
		for (int changed = 1; changed;) {
			changed = 0;
			for (size_t i = 0; i < w->nstates; i++) {
				if (!reach[i])
					continue;
				for (size_t j = 0; j < w->states[i].non; j++) {
					const char *to = w->states[i].on[j].to;
					for (size_t m = 0; to && m < w->nstates; m++)
						if (!reach[m] && w->states[m].name &&
						    strcmp(w->states[m].name, to) == 0)
							reach[m] = changed = 1;
				}
			}
		}
		for (size_t i = 0; i < w->nstates; i++)
			if (!reach[i] && w->states[i].name)
				rd_errl(r, w->states[i].line, "<state> \"%s\" is unreachable from \"%s\"",
				    w->states[i].name, w->initial);
	}
	free(reach);
}

static void
free_wf_actions(struct wf_action *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].target);
		free(v[i].task_kind);
		free(v[i].title_pl);
		free(v[i].title_de);
		free(v[i].tmpl);
		free(v[i].attach);
		free(v[i].cc);
		free(v[i].doc_kind);
	}
	free(v);
}

static void
free_workflow(struct cfg_workflow *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->nstates; i++) {
		struct wf_state *st = &w->states[i];
		free(st->name);
		free_wf_actions(st->enter, st->nenter);
		for (size_t j = 0; j < st->non; j++) {
			free(st->on[j].event);
			free(st->on[j].guard);
			free(st->on[j].to);
			free_wf_actions(st->on[j].actions, st->on[j].nactions);
		}
		free(st->on);
	}
	free(w->states);
	free(w->initial);
	free(w->path);
	free(w);
}

const struct wf_state *
config_state(const struct config *cfg, const char *name)
{
	const struct cfg_workflow *w = cfg ? cfg->workflow : NULL;
	for (size_t i = 0; w && name && i < w->nstates; i++)
		if (w->states[i].name && strcmp(w->states[i].name, name) == 0)
			return &w->states[i];
	return NULL;
}

/* ---- cross-file checks and the whole load ---------------------------------- */

static void
check_rule_owners(struct loader *ld, struct rd *r, struct config *c)
{
	if (!ld->users_read)
		return;
	for (size_t i = 0; i < c->nrules; i++) {
		const struct cfg_rule *rule = &c->rules[i];
		if (!rule->owner)
			continue;
		const struct cfg_user *u = config_user(c, rule->owner);
		if (!u)
			rd_errl(r, rule->line, "<rule> owner: \"%s\" is not a user in %s",
			    rule->owner, ld->rd[F_USERS].shown);
		else if (u->role != ROLE_REP && u->role != ROLE_SUPERVISOR &&
		    u->role != ROLE_SALES_DIRECTOR && u->role != ROLE_BOARD)
			rd_errl(r, rule->line, "<rule> owner: \"%s\" is %s, not a salesperson",
			    rule->owner, role_name(u->role));
	}
}

enum {
	T_SYSTEM, T_PATHS, T_SOURCE, T_OUTBOX, T_COMPANY, T_USERS, T_PRICELIST,
	T_WORKFLOW, T_LIMITS, T_ASSIGNMENT, T_FREEMAIL, T_APPROVAL, T_REMINDERS, T_DIGEST,
	T__COUNT
};
static const char *const top_names[T__COUNT + 1] = {
	"system", "paths", "source", "outbox", "company", "users", "pricelist",
	"workflow", "limits", "assignment", "freemail", "approval", "reminders",
	"digest", NULL,
};
#define T_REQUIRED T_LIMITS   /* elements before this one are required */

static void
read_main(struct loader *ld, struct config *c)
{
	struct rd *r = &ld->rd[F_MAIN];
	xmlNode *root = root_elem(r, "inkflow");
	if (!root)
		return;
	check_attrs(r, root, (const char *const[]){NULL});
	xmlNode *el[T__COUNT] = {0};
	int k;
	for (xmlNode *e = next_elem(r, root, root->children, top_names, &k); e;
	    e = next_elem(r, root, e->next, top_names, &k)) {
		if (el[k])
			rd_err(r, e, "<%s> given twice (first at line %d)", ename(e),
			    node_line(el[k]));
		else
			el[k] = e;
	}
	for (int i = 0; i < T_REQUIRED; i++)
		if (!el[i])
			rd_err(r, root, "<inkflow>: missing element <%s>", top_names[i]);

	/* system first: its lang is the users' default. */
	if (el[T_SYSTEM])
		read_system(r, el[T_SYSTEM], c);
	if (el[T_PATHS])
		read_paths(r, el[T_PATHS], c);
	if (el[T_SOURCE])
		read_mail(r, el[T_SOURCE], c, source_types, ARRAY_LEN(source_types));
	if (el[T_OUTBOX])
		read_mail(r, el[T_OUTBOX], c, outbox_types, ARRAY_LEN(outbox_types));
	/* Bounces come back to the address we read unless told otherwise. */
	if (c->smtp && !c->smtp->envelope_from && c->system_address)
		c->smtp->envelope_from = xstrdup(c->system_address);
	if (el[T_COMPANY])
		read_company(r, el[T_COMPANY], c);
	if (el[T_LIMITS])
		read_limits(r, el[T_LIMITS], c);
	if (el[T_ASSIGNMENT])
		read_assignment(r, el[T_ASSIGNMENT], c);
	if (el[T_FREEMAIL]) {
		read_freemail(r, el[T_FREEMAIL], c);
	} else {
		for (size_t i = 0; default_freemail[i]; i++) {
			c->freemail = grow(c->freemail, i, &ld->cap_freemail, sizeof(char *));
			c->freemail[i] = xstrdup(default_freemail[i]);
			c->nfreemail = i + 1;
		}
	}
	if (el[T_USERS] && include(r, el[T_USERS], &ld->rd[F_USERS]) == 0)
		ld->users_read = read_users(ld, &ld->rd[F_USERS], c) == 0;
	if (el[T_PRICELIST] && include(r, el[T_PRICELIST], &ld->rd[F_PRICES]) == 0)
		read_pricelist(ld, &ld->rd[F_PRICES], c);
	approval_default(&c->approval);
	if (el[T_APPROVAL])
		read_approval(r, el[T_APPROVAL], c);
	read_reminders(r, el[T_REMINDERS], c);
	if (el[T_DIGEST])
		read_digest(r, el[T_DIGEST], c);
	if (el[T_WORKFLOW] && include(r, el[T_WORKFLOW], &ld->rd[F_WORKFLOW]) == 0)
		read_workflow(&ld->rd[F_WORKFLOW], c);
	check_rule_owners(ld, r, c);
	check_digest(ld, r, c);
}

int
config_load(const char *path, struct config **out, struct errlist *errs)
{
	struct loader ld = {0};
	for (int i = 0; i < F__COUNT; i++) {
		ld.rd[i].ld = &ld;
		ld.rd[i].idx = i;
	}
	struct rd *m = &ld.rd[F_MAIN];
	m->shown = xstrdup(path && *path ? path : "(no configuration file)");
	struct config *c = xcalloc(1, sizeof(*c));
	c->default_lang = xstrdup("pl");
	c->default_currency = xstrdup("PLN");
	limits_default(&c->limits);

	char xerr[300];
	if (!path || !*path) {
		rd_errl(m, 0, "no configuration file given");
	} else if (lazyxml_load(xerr, sizeof xerr) < 0) {
		rd_errl(m, 0, "%s", xerr);
	} else if (rd_locate(m, path) < 0) {
		rd_errl(m, 0, "cannot read: %s", strerror(errno));
	} else {
		c->path = xstrdup(m->path);
		c->dir = xstrdup(m->dir);
		if (rd_parse(m, NULL, NULL) == 0)
			read_main(&ld, c);
	}

	int failed = ld.nerr > 0;
	if (failed) {
		loader_flush(&ld, errs);
		config_free(c);
	} else {
		*out = c;
	}
	loader_free(&ld);
	return failed ? -1 : 0;
}

void
config_free(struct config *cfg)
{
	if (!cfg)
		return;
	free(cfg->path);
	free(cfg->dir);
	free(cfg->data_dir);
	free(cfg->db_path);
	free(cfg->templates_dir);
	free(cfg->key_path);
	free(cfg->source_maildir);
	free(cfg->outbox_maildir);
	if (cfg->imap) {
		struct imap_conf *m = cfg->imap;
		free(m->host);
		free(m->user);
		free(m->password);
		free(m->token_command);
		free(m->ca_file);
		for (size_t i = 0; i < m->nmailboxes; i++)
			free(m->mailboxes[i]);
		free(m->mailboxes);
		free(m->move_to);
		free(m);
	}
	if (cfg->smtp) {
		struct smtp_conf *m = cfg->smtp;
		free(m->host);
		free(m->user);
		free(m->password);
		free(m->token_command);
		free(m->ca_file);
		free(m->envelope_from);
		free(m->helo);
		free(m);
	}
	free(cfg->system_address);
	free(cfg->system_name);
	free(cfg->domain);
	free(cfg->default_lang);
	free(cfg->default_currency);
	struct cfg_company *k = &cfg->company;
	free(k->name);
	free(k->address);
	free(k->city);
	free(k->country);
	free(k->tax_id);
	free(k->bank_account);
	free(k->phone);
	free(k->email);
	free(k->www);
	free(k->logo);
	for (size_t i = 0; i < cfg->nrules; i++) {
		free(cfg->rules[i].domain);
		free(cfg->rules[i].owner);
		free(cfg->rules[i].lang);
		free(cfg->rules[i].currency);
	}
	free(cfg->rules);
	for (size_t i = 0; i < cfg->nfreemail; i++)
		free(cfg->freemail[i]);
	free(cfg->freemail);
	for (size_t i = 0; i < cfg->nusers; i++)
		cfg_user_free(&cfg->users[i]);
	free(cfg->users);
	for (size_t i = 0; i < cfg->nproducts; i++) {
		free(cfg->products[i].sku);
		free(cfg->products[i].name_pl);
		free(cfg->products[i].name_de);
	}
	free(cfg->products);
	free_workflow(cfg->workflow);
	for (size_t i = 0; i < cfg->nreminders; i++)
		free(cfg->reminders[i].kind);
	free(cfg->reminders);
	for (size_t i = 0; i < cfg->digest.nto; i++)
		free(cfg->digest.to[i]);
	free(cfg->digest.to);
	free(cfg->digest.lang);
	free(cfg);
}

/* ---- lookups -------------------------------------------------------------------- */

const struct cfg_user *
config_user(const struct config *cfg, const char *login)
{
	for (size_t i = 0; cfg && login && i < cfg->nusers; i++)
		if (str_ieq(cfg->users[i].login, login))
			return &cfg->users[i];
	return NULL;
}

const struct cfg_user *
config_user_by_email(const struct config *cfg, const char *email)
{
	for (size_t i = 0; cfg && email && i < cfg->nusers; i++)
		if (cfg->users[i].email && str_ieq(cfg->users[i].email, email))
			return &cfg->users[i];
	return NULL;
}

const struct cfg_product *
config_product(const struct config *cfg, const char *sku)
{
	for (size_t i = 0; cfg && sku && i < cfg->nproducts; i++)
		if (str_ieq(cfg->products[i].sku, sku))
			return &cfg->products[i];
	return NULL;
}

const struct cfg_user *
config_user_by_role(const struct config *cfg, enum role r)
{
	for (size_t i = 0; cfg && i < cfg->nusers; i++)
		if (cfg->users[i].role == r)
			return &cfg->users[i];
	return NULL;
}

const struct cfg_rule *
config_rule_for(const struct config *cfg, const char *domain)
{
	for (size_t i = 0; cfg && domain && i < cfg->nrules; i++)
		if (rule_match(cfg->rules[i].domain, domain))
			return &cfg->rules[i];
	return NULL;
}

int
config_is_freemail(const struct config *cfg, const char *domain)
{
	for (size_t i = 0; cfg && domain && i < cfg->nfreemail; i++)
		if (str_ieq(cfg->freemail[i], domain))
			return 1;
	return 0;
}
