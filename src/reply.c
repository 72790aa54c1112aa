/*
 * reply: the new text of a reply and the command on its first line.
 *
 * DESIGN
 * reply_new_text splits the text into lines once and folds each line once
 * (ASCII lowercase, Polish/German/French letters to their base letter,
 * no-break spaces to spaces, typographic apostrophes to '), so that every
 * marker is written here in plain ASCII and matched whatever case or
 * diacritics a client or a person used.  It then walks the lines top down
 * and cuts at the first quote marker:
 *
 *   - a line starting with '>' (after indentation);
 *   - a separator "-----Original Message-----" and its translations, and
 *     forward banners ("---------- Forwarded message ---------");
 *   - an Outlook header block: a From/Od/Von/De line followed by two to
 *     four more header lines, the date among them (Sent/Wysłano/Gesendet/
 *     Date, To/Do/An, Cc/DW/UDW/Kopie, Subject/Temat/Betreff; Zimbra and
 *     Notes put To and Cc before the date), also as "*From:* X" from HTML
 *     and all on one line; a "____" rule right above it goes too; GMX and
 *     web.de put the date first ("Gesendet: …", "Von: …", "An: …");
 *   - an attribution line ("On … wrote:", "… napisał(a):", "W dniu …
 *     pisze:", "Am … schrieb …:", "Le … a écrit :", "Wiadomość napisana
 *     przez … :", Gmail's "Użytkownik … napisał w wiadomości wysłanej w
 *     dniu …:", "… napisał(a) dnia …:"), also wrapped over up to three
 *     lines as Gmail does.
 *     Attributions must contain a digit (a date), so "As you wrote:"
 *     in a person's own text is not a marker.
 *
 * Then the signature: the first "-- " / "--" line, and a mobile footer
 * ("Sent from my iPhone", …) when it is the last non-blank line (so "Wysłano
 * z magazynu" in the middle of a sentence is not cut).  Every step looks at
 * a bounded window of lines of bounded length, so the whole pass is linear.
 *
 * Commands are taken from the first non-empty line only, never searched
 * for elsewhere: a quoted "APPROVE" must never act.
 */
#include "reply.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

#define ATTR_MAX 1024   /* longest attribution we look at, all lines joined */
#define ATTR_LINES 3    /* Gmail wraps "On … wrote:" over up to this many */
#define WORD_MAX 64     /* longest command word we fold */

struct line {
	const char *s;  /* original text (foreign: points into the copy) */
	size_t n;       /* without the line break and a CR before it */
	const char *f;  /* folded and trimmed (foreign: points into fbuf) */
	size_t fn;
};

/* --- folding ----------------------------------------------------------- */

/* Base letters of U+00C0..U+00FF; '?' = no folding (copied as is),
 * 's' at U+00DF (ß) becomes "ss". */
static const char latin1_base[65] =
    "aaaaaa?ceeeeiiiidnooooo?ouuuuy?s"
    "aaaaaa?ceeeeiiiidnooooo?ouuuuy?y";

/* Fold s[0..n) into out (at most n bytes); returns the length.  See the
 * DESIGN note; unknown non-ASCII is copied unchanged. */
static size_t
fold(const char *s, size_t n, char *out)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	size_t o = 0;

	while (p < end) {
		unsigned c = *p;
		if (c < 0x80) {
			out[o++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c == '\t' ? ' ' : c);
			p++;
			continue;
		}
		if (end - p >= 2 && c == 0xc2 && p[1] == 0xa0) { /* no-break space */
			out[o++] = ' ';
			p += 2;
			continue;
		}
		if (end - p >= 2 && c == 0xc3 && p[1] >= 0x80 && p[1] <= 0xbf) {
			char b = latin1_base[p[1] - 0x80];
			if (b == 's') {
				out[o++] = 's';
				out[o++] = 's';
			} else if (b != '?') {
				out[o++] = b;
			} else {
				out[o++] = (char)p[0];
				out[o++] = (char)p[1];
			}
			p += 2;
			continue;
		}
		if (end - p >= 2 && (c == 0xc4 || c == 0xc5) && (p[1] & 0xc0) == 0x80) {
			unsigned cp = ((c & 0x1f) << 6) | (p[1] & 0x3f);
			char b = 0;
			switch (cp) {
			case 0x104: case 0x105: b = 'a'; break; /* Ą ą */
			case 0x106: case 0x107: b = 'c'; break; /* Ć ć */
			case 0x118: case 0x119: b = 'e'; break; /* Ę ę */
			case 0x141: case 0x142: b = 'l'; break; /* Ł ł */
			case 0x143: case 0x144: b = 'n'; break; /* Ń ń */
			case 0x15a: case 0x15b: b = 's'; break; /* Ś ś */
			case 0x179: case 0x17a: case 0x17b: case 0x17c: b = 'z'; break; /* Ź ź Ż ż */
			}
			if (b) {
				out[o++] = b;
				p += 2;
				continue;
			}
		}
		if (end - p >= 3 && c == 0xe2 && p[1] == 0x80) {
			char b = 0;
			switch (p[2]) {
			case 0x98: case 0x99: b = '\''; break; /* ‘ ’ */
			case 0x93: case 0x94: b = '-'; break;  /* – — */
			case 0xaf: b = ' '; break;             /* narrow no-break space */
			}
			if (b) {
				out[o++] = b;
				p += 3;
				continue;
			}
		}
		if (end - p >= 3 && c == 0xe1 && p[1] == 0xba && p[2] == 0x9e) { /* ẞ */
			out[o++] = 's';
			out[o++] = 's';
			p += 3;
			continue;
		}
		if (end - p >= 3 && c == 0xef && p[1] == 0xbb && p[2] == 0xbf) { /* BOM */
			p += 3;
			continue;
		}
		out[o++] = (char)c;
		p++;
	}
	return o;
}

/* --- small matchers on folded text ------------------------------------- */

static int
starts(const char *s, size_t n, const char *lit)
{
	size_t k = strlen(lit);
	return n >= k && memcmp(s, lit, k) == 0;
}

static int
ends(const char *s, size_t n, const char *lit)
{
	size_t k = strlen(lit);
	return n >= k && memcmp(s + n - k, lit, k) == 0;
}

static int
contains(const char *s, size_t n, const char *lit)
{
	return memmem(s, n, lit, strlen(lit)) != NULL;
}

static int
has_digit(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] >= '0' && s[i] <= '9')
			return 1;
	return 0;
}

static int
in_list(const char *s, size_t n, const char *const *list, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (strlen(list[i]) == n && memcmp(list[i], s, n) == 0)
			return 1;
	return 0;
}

/* --- quote markers ------------------------------------------------------ */

/* "-----Original Message-----" and friends, folded. */
static int
is_separator(const char *f, size_t n)
{
	static const char *const phrases[] = {
	    "original message", "reply message", "message d'origine",
	    "message original", "wiadomosc oryginalna", "oryginalna wiadomosc",
	    "ursprungliche nachricht", "originalnachricht", "original-nachricht",
	    "forwarded message", "wiadomosc przekazana dalej", "przekazana wiadomosc",
	    "weitergeleitete nachricht", "message transfere", "antwort nachricht",
	    "oorspronkelijk bericht", "oprindelig meddelelse", "ursprungligt meddelande",
	    "ursprungliche mail", "original nachricht", "oprindelig besked",
	    "messaggio originale",
	};
	static const char *const banners[] = {
	    "begin forwarded message:", "poczatek przekazywanej wiadomosci:",
	    "anfang der weitergeleiteten nachricht:",
	    "anfang der weitergeleiteten e-mail:",
	};
	if (in_list(f, n, banners, ARRAY_LEN(banners)))
		return 1;
	size_t a = 0, b = n;
	while (a < n && f[a] == '-')
		a++;
	while (b > a && f[b - 1] == '-')
		b--;
	if (a < 2 || n - b < 2)
		return 0;
	while (a < b && f[a] == ' ')
		a++;
	while (b > a && f[b - 1] == ' ')
		b--;
	/* "---- Jan Kowalski wrote ----" (Android mailers), "------On …,
	 * Jan wrote-----" */
	static const char *const wrote[] = {" wrote", " schrieb", " napisal", " napisal(a)",
	    " napisala", " pisze"};
	for (size_t i = 0; i < ARRAY_LEN(wrote); i++)
		if (ends(f + a, b - a, wrote[i]) && b - a > strlen(wrote[i]))
			return 1;
	return in_list(f + a, b - a, phrases, ARRAY_LEN(phrases));
}

enum hdr { H_NONE, H_FROM, H_SENT, H_TO, H_CC, H_SUBJECT };

static enum hdr
hdr_class(const char *k, size_t n)
{
	static const char *const from[] = {"from", "od", "von", "de", "van", "fra", "fran", "da"};
	static const char *const sent[] = {"sent", "date", "wyslano", "wyslane", "wyslany", "data",
	    "gesendet", "datum", "envoye", "verzonden", "sendt", "skickat", "dato", "inviato"};
	static const char *const to[] = {"to", "do", "an", "a", "aan", "til", "till"};
	static const char *const cc[] = {"cc", "dw", "udw", "kopia", "kopie", "bcc"};
	static const char *const subj[] = {"subject", "temat", "betreff", "objet",
	    "onderwerp", "emne", "amne", "oggetto"};
	if (in_list(k, n, from, ARRAY_LEN(from)))
		return H_FROM;
	if (in_list(k, n, sent, ARRAY_LEN(sent)))
		return H_SENT;
	if (in_list(k, n, to, ARRAY_LEN(to)))
		return H_TO;
	if (in_list(k, n, cc, ARRAY_LEN(cc)))
		return H_CC;
	if (in_list(k, n, subj, ARRAY_LEN(subj)))
		return H_SUBJECT;
	return H_NONE;
}

/* The header a folded line starts with: "From: X", "*From:* X",
 * "De : X".  *val is set past the colon (and emphasis). */
static enum hdr
hdr_line(const char *f, size_t n, size_t *val)
{
	size_t i = 0;
	while (i < n && f[i] == '*')
		i++;
	size_t k = i;
	while (i < n && f[i] >= 'a' && f[i] <= 'z' && i - k <= 12)
		i++;
	size_t kn = i - k;
	while (i < n && f[i] == ' ')
		i++;
	if (kn == 0 || i >= n || f[i] != ':')
		return H_NONE;
	i++;
	while (i < n && (f[i] == '*' || f[i] == ' '))
		i++;
	if (val)
		*val = i;
	return hdr_class(f + k, kn);
}

/* A header name other than From, as a word before a colon anywhere in f
 * after position from ("… *Sent:* Friday … *To:* …" on one line). */
static unsigned
inline_headers(const char *f, size_t n, size_t from)
{
	unsigned seen = 0;
	for (size_t i = from; i < n; i++) {
		if (f[i] != ':')
			continue;
		size_t e = i;
		while (e > from && (f[e - 1] == '*' || f[e - 1] == ' '))
			e--;
		size_t b = e;
		while (b > from && f[b - 1] >= 'a' && f[b - 1] <= 'z' && e - b <= 12)
			b--;
		if (b == e || (b > from && f[b - 1] != ' ' && f[b - 1] != '*'))
			continue;
		seen |= 1u << hdr_class(f + b, e - b);
	}
	return seen;
}

/* Index of the next non-blank line after i, at most two blank lines
 * skipped (HTML-to-text turns header rows into paragraphs); -1 if none. */
static long
next_nonblank(const struct line *l, size_t nl, size_t i)
{
	for (size_t j = i + 1; j < nl && j <= i + 3; j++)
		if (l[j].fn)
			return (long)j;
	return -1;
}

static int
is_header_block(const struct line *l, size_t nl, size_t i)
{
	size_t val;
	enum hdr h = hdr_line(l[i].f, l[i].fn, &val);
	if (h == H_SENT && val < l[i].fn) {
		/* GMX, web.de: the date, then From, then To or Subject. */
		long j = next_nonblank(l, nl, i);
		long k = j < 0 ? -1 : next_nonblank(l, nl, (size_t)j);
		if (k >= 0 && hdr_line(l[j].f, l[j].fn, NULL) == H_FROM &&
		    hdr_line(l[k].f, l[k].fn, NULL) > H_FROM)
			return 1;
		/* Outlook.com: a date, then Subject, From and To in any
		 * order, the From line with an address. */
		if (!has_digit(l[i].f + val, l[i].fn - val))
			return 0;
		unsigned seen = 0;
		j = (long)i;
		for (int m = 0; m < 3; m++) {
			j = next_nonblank(l, nl, (size_t)j);
			enum hdr hj = j < 0 ? H_NONE : hdr_line(l[j].f, l[j].fn, NULL);
			if (hj == H_NONE || (hj == H_FROM && !memchr(l[j].f, '@', l[j].fn)))
				break;
			seen |= 1u << hj;
		}
		return (seen & (1u << H_FROM)) && (seen & (1u << H_TO | 1u << H_CC | 1u << H_SUBJECT));
	}
	if (h != H_FROM || val >= l[i].fn)
		return 0;
	/* All on one line. */
	unsigned seen = inline_headers(l[i].f, l[i].fn, val);
	if ((seen & (1u << H_SENT)) && (seen & (1u << H_TO | 1u << H_SUBJECT)))
		return 1;
	/* "From: bob@x.pl Date: Thu, 24 Mar 2016 …" (HTML rows run together) */
	if ((seen & (1u << H_SENT)) && memchr(l[i].f, '@', l[i].fn) && has_digit(l[i].f, l[i].fn))
		return 1;
	/* A block: two more header lines, one of them the date.  The
	 * From line may wrap once ("bob@x.pl [mailto:" / "bob@x.pl]"). */
	long j = next_nonblank(l, nl, i);
	if (j >= 0 && hdr_line(l[j].f, l[j].fn, NULL) == H_NONE && l[j].fn <= 80 &&
	    (memchr(l[j].f, '@', l[j].fn) || memchr(l[i].f, '[', l[i].fn)))
		j = next_nonblank(l, nl, (size_t)j);
	/* The date among the next four header lines (Zimbra and Notes put
	 * To and Cc before it), at least two of them. */
	int heads = 0, sent = 0;
	for (; j >= 0 && heads < 4; j = next_nonblank(l, nl, (size_t)j)) {
		enum hdr hj = hdr_line(l[j].f, l[j].fn, NULL);
		if (hj <= H_FROM)
			break;
		heads++;
		sent |= hj == H_SENT;
	}
	return heads >= 2 && sent;
}

static int
is_rule(const char *f, size_t n)
{
	if (n < 8)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (f[i] != '_')
			return 0;
	return 1;
}

/* Attribution lines, folded and joined with single spaces. */
static int
is_attribution(const char *j, size_t n)
{
	if (!has_digit(j, n))
		return 0;
	if (starts(j, n, "on ") && ends(j, n, "wrote:"))
		return 1;
	if (ends(j, n, "wrote:") && memchr(j, '@', n))
		return 1;
	if (starts(j, n, "on ") && ends(j, n, " sent:") && memchr(j, '@', n))
		return 1;
	if (ends(j, n, "napisal(a):") || ends(j, n, "napisal:") ||
	    ends(j, n, "napisala:") || ends(j, n, "pisze:"))
		return 1;
	if (starts(j, n, "wiadomosc napisana przez ") && ends(j, n, ":"))
		return 1;
	if (starts(j, n, "uzytkownik ") && contains(j, n, " napisal w wiadomosci ") &&
	    ends(j, n, ":"))
		return 1;
	if ((contains(j, n, " napisal(a) dnia ") || contains(j, n, " napisal dnia ")) &&
	    ends(j, n, ":"))
		return 1;
	if ((contains(j, n, " schrieb ") || ends(j, n, " schrieb:")) && ends(j, n, ":"))
		return 1;
	if (starts(j, n, "le ") && (ends(j, n, "a ecrit :") || ends(j, n, "a ecrit:")))
		return 1;
	if (starts(j, n, "el ") && ends(j, n, "escribio:"))
		return 1;
	if (starts(j, n, "op ") && (ends(j, n, " geschreven:") || contains(j, n, " schreef ") ||
	        ends(j, n, " schreef:")) && ends(j, n, ":"))
		return 1;
	if (ends(j, n, " skrev:"))
		return 1;
	/* Gmail in a language it has no sentence for, Yandex: the date, the
	 * name and "<address>:" ("2014-10-17 11:28 GMT+03:00 Jan <jan@x.pl>:"). */
	if (j[0] >= '0' && j[0] <= '9' && ends(j, n, ">:") && memchr(j, '@', n))
		return 1;
	return 0;
}

/* First line of a wrapped attribution: how the known ones begin.  The
 * short openings are everyday words, so that line must also hold the
 * date; the long ones may wrap before it ("… w dniu\n27.11.2026 …"). */
static int
attribution_opening(const char *f, size_t n)
{
	static const char *const word[] = {"on ", "am ", "le ", "el "};
	static const char *const phrase[] = {"w dniu ", "dnia ",
	    "wiadomosc napisana przez ", "uzytkownik ", "pon., ", "wt., ", "sr., ", "czw., ",
	    "pt., ", "sob., ", "niedz., "};
	if (n && (f[n - 1] == '.' || f[n - 1] == '!' || f[n - 1] == '?'))
		return 0; /* a sentence of its own, not a wrapped line */
	if (n && f[0] >= '0' && f[0] <= '9' && f[n - 1] == '<')
		return 1; /* "2014-10-17 11:28 GMT+03:00 Jan <" */
	for (size_t i = 0; i < ARRAY_LEN(phrase); i++)
		if (starts(f, n, phrase[i]))
			return 1;
	for (size_t i = 0; i < ARRAY_LEN(word); i++)
		if (starts(f, n, word[i]))
			return has_digit(f, n);
	return 0;
}

static int
attribution_at(const struct line *l, size_t nl, size_t i)
{
	char buf[ATTR_MAX];
	size_t n = 0;

	for (size_t j = i; j < nl && j < i + ATTR_LINES; j++) {
		if (!l[j].fn || n + 1 + l[j].fn > sizeof(buf))
			return 0;
		if (j > i) {
			/* Wrapped: the first line opens like an attribution; a
			 * later line that is a whole attribution of its own
			 * ("On … wrote:") is left to match by itself, so the
			 * line above it stays text. */
			if (j == i + 1 && !attribution_opening(l[i].f, l[i].fn))
				return 0;
			if (attribution_opening(l[j].f, l[j].fn) &&
			    is_attribution(l[j].f, l[j].fn))
				return 0;
			buf[n++] = ' ';
		}
		memcpy(buf + n, l[j].f, l[j].fn);
		n += l[j].fn;
		if (is_attribution(buf, n))
			return 1;
	}
	return 0;
}

/* Index of the first line of the quoted part, nl if none. */
static size_t
quote_start(const struct line *l, size_t nl)
{
	for (size_t i = 0; i < nl; i++) {
		const char *f = l[i].f;
		size_t n = l[i].fn;
		if (!n)
			continue;
		if (f[0] == '>' || is_separator(f, n) || attribution_at(l, nl, i))
			return i;
		if (is_header_block(l, nl, i)) {
			size_t k = i;
			while (k > 0 && !l[k - 1].fn)
				k--;
			if (k > 0 && is_rule(l[k - 1].f, l[k - 1].fn))
				return k - 1;
			return i;
		}
	}
	return nl;
}

/* --- signatures --------------------------------------------------------- */

static int
is_mobile_footer(const char *f, size_t n)
{
	static const char *const open[] = {
	    "sent from my ", "sent from outlook", "get outlook for ",
	    "sent from mail for windows", "sent from yahoo mail",
	    "sent from samsung", "sent from proton mail", "sent with proton mail",
	    "wyslano z iphone", "wyslane z iphone", "wyslano z ipad", "wyslane z ipad",
	    "wyslano z mojego ", "wyslane z mojego ", "wyslano z aplikacji ",
	    "wyslane z aplikacji ", "wyslano z urzadzenia ", "wyslane z urzadzenia ",
	    "wyslano z telefonu", "wyslane z telefonu",
	    "pobierz outlook dla ", "pobierz aplikacje outlook ", "uzyskaj outlook ",
	    "uzyskaj program outlook ", "sent from gmail", "gesendet von meinem ",
	    "gesendet von outlook ", "gesendet mit ", "holen sie sich outlook ",
	    "envoye de mon ",
	};
	if (n > 100)
		return 0;
	for (size_t i = 0; i < ARRAY_LEN(open); i++)
		if (starts(f, n, open[i]))
			return 1;
	if (starts(f, n, "outlook fur ") && contains(f, n, "herunterladen"))
		return 1;
	return starts(f, n, "von meinem ") && contains(f, n, "gesendet");
}

/* --- reply_new_text ----------------------------------------------------- */

static int
is_blank_byte(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* The lines of text (a byte order mark skipped), each folded and trimmed
 * into *fbuf.  Caller frees the array and *fbuf. */
static struct line *
split_lines(const char *text, size_t *nlines, char **fbufp)
{
	if (!strncmp(text, "\xef\xbb\xbf", 3))
		text += 3;
	size_t len = strlen(text);
	size_t cap = 64, nl = 0;
	struct line *l = xmalloc(cap * sizeof(*l));
	char *fbuf = xmalloc(len + 1);
	size_t fo = 0;

	for (const char *p = text; *p || p == text;) {
		const char *e = p;
		while (*e && *e != '\n' && *e != '\r')
			e++;
		if (nl == cap) {
			cap *= 2;
			l = xrealloc(l, cap * sizeof(*l));
		}
		struct line *ln = &l[nl++];
		ln->s = p;
		ln->n = (size_t)(e - p);
		size_t fl = fold(p, ln->n, fbuf + fo);
		size_t a = 0;
		while (a < fl && fbuf[fo + a] == ' ')
			a++;
		while (fl > a && (fbuf[fo + fl - 1] == ' ' || fbuf[fo + fl - 1] == '\v' ||
		    fbuf[fo + fl - 1] == '\f'))
			fl--;
		ln->f = fbuf + fo + a;
		ln->fn = fl - a;
		fo += fl;
		if (!*e)
			break;
		p = e + (e[0] == '\r' && e[1] == '\n' ? 2 : 1);
		if (!*p)
			break;
	}
	*nlines = nl;
	*fbufp = fbuf;
	return l;
}

char *
reply_new_text(const char *text)
{
	if (!text)
		return xstrdup("");
	size_t nl;
	char *fbuf;
	struct line *l = split_lines(text, &nl, &fbuf);

	size_t end = quote_start(l, nl);
	for (size_t i = 0; i < end; i++)
		if (l[i].fn == 2 && l[i].f[0] == '-' && l[i].f[1] == '-') {
			end = i;
			break;
		}
	for (;;) {
		while (end > 0 && !l[end - 1].fn)
			end--;
		if (end > 0 && is_mobile_footer(l[end - 1].f, l[end - 1].fn))
			end--;
		else
			break;
	}

	struct sbuf sb = {0};
	for (size_t i = 0; i < end; i++) {
		if (i)
			sb_addc(&sb, '\n');
		sb_add(&sb, l[i].s, l[i].n);
	}
	char *out = sb_steal(&sb);
	size_t n = strlen(out);
	while (n && is_blank_byte((unsigned char)out[n - 1]))
		out[--n] = '\0';
	free(l);
	free(fbuf);
	return out;
}

/* --- commands ----------------------------------------------------------- */

static const char *const cmd_names[CMD__COUNT] = {
	[CMD_NONE] = "NONE",
	[CMD_APPROVE] = "APPROVE",
	[CMD_CORRECT] = "CORRECT",
	[CMD_REJECT] = "REJECT",
	[CMD_CONFIRM] = "CONFIRM",
	[CMD_REFUSE] = "REFUSE",
	[CMD_DONE] = "DONE",
	[CMD_ASSIGN] = "ASSIGN",
	[CMD_NOTE] = "NOTE",
	[CMD_SUBMIT] = "SUBMIT",
	[CMD_ACCEPTED] = "ACCEPTED",
	[CMD_DELIVERED] = "DELIVERED",
	[CMD_COMPLAINT] = "COMPLAINT",
	[CMD_OPINION] = "OPINION",
	[CMD_DECIDE] = "DECIDE",
};

/* Every spelling, folded (see fold): diacritics are optional by
 * construction; German umlauts also as ae/oe/ue. */
static const struct {
	const char *word;
	enum reply_cmd cmd;
} cmd_words[] = {
	{"approve", CMD_APPROVE}, {"akceptuj", CMD_APPROVE},
	{"zatwierdzam", CMD_APPROVE}, {"genehmigt", CMD_APPROVE},
	{"correct", CMD_CORRECT}, {"koryguj", CMD_CORRECT}, {"korrektur", CMD_CORRECT},
	{"reject", CMD_REJECT}, {"odrzuc", CMD_REJECT}, {"odrzucam", CMD_REJECT},
	{"ablehnen", CMD_REJECT}, {"abgelehnt", CMD_REJECT},
	{"confirm", CMD_CONFIRM}, {"potwierdzam", CMD_CONFIRM},
	{"bestatigt", CMD_CONFIRM}, {"bestaetigt", CMD_CONFIRM},
	{"refuse", CMD_REFUSE}, {"odmowa", CMD_REFUSE}, {"odmawiam", CMD_REFUSE},
	{"verweigert", CMD_REFUSE},
	{"done", CMD_DONE}, {"wykonane", CMD_DONE}, {"erledigt", CMD_DONE},
	{"assign", CMD_ASSIGN}, {"przydziel", CMD_ASSIGN}, {"zuweisen", CMD_ASSIGN},
	{"note", CMD_NOTE}, {"notatka", CMD_NOTE}, {"notiz", CMD_NOTE},
	{"submit", CMD_SUBMIT}, {"wyslij", CMD_SUBMIT}, {"einreichen", CMD_SUBMIT},
	{"accepted", CMD_ACCEPTED}, {"akceptuje oferte", CMD_ACCEPTED},
	{"zaakceptowane", CMD_ACCEPTED}, {"angenommen", CMD_ACCEPTED},
	{"delivered", CMD_DELIVERED}, {"dostarczono", CMD_DELIVERED},
	{"geliefert", CMD_DELIVERED},
	{"complaint", CMD_COMPLAINT}, {"reklamacja", CMD_COMPLAINT},
	{"reklamation", CMD_COMPLAINT},
	{"opinion", CMD_OPINION}, {"opinia", CMD_OPINION},
	{"stellungnahme", CMD_OPINION},
	{"decide", CMD_DECIDE}, {"decyzja", CMD_DECIDE}, {"entscheidung", CMD_DECIDE},
};

static enum reply_cmd
cmd_lookup(const char *w, size_t n)
{
	for (size_t i = 0; i < ARRAY_LEN(cmd_words); i++)
		if (strlen(cmd_words[i].word) == n && memcmp(cmd_words[i].word, w, n) == 0)
			return cmd_words[i].cmd;
	return CMD_NONE;
}

const char *
reply_cmd_name(enum reply_cmd c)
{
	if ((int)c < 0 || c >= CMD__COUNT)
		return cmd_names[CMD_NONE];
	return cmd_names[c];
}

static int
is_trail_punct(char c)
{
	return c == '.' || c == '!' || c == ':' || c == ',' || c == ';' || c == '*' ||
	    c == '_';
}

enum reply_cmd
reply_cmd_parse(const char *word)
{
	char f[WORD_MAX + 1], w[WORD_MAX + 1];
	size_t n, o = 0;

	if (!word || strlen(word) > WORD_MAX)
		return CMD_NONE;
	n = fold(word, strlen(word), f);
	/* Trim, collapse inner white space, drop trailing punctuation. */
	for (size_t i = 0; i < n; i++) {
		if (is_blank_byte((unsigned char)f[i])) {
			if (o && w[o - 1] != ' ')
				w[o++] = ' ';
		} else {
			w[o++] = f[i];
		}
	}
	while (o && (w[o - 1] == ' ' || is_trail_punct(w[o - 1])))
		o--;
	return cmd_lookup(w, o);
}

/* Bytes of white space at p (ASCII blank or U+00A0), 0 if none. */
static size_t
ws_at(const char *p, const char *e)
{
	if (p < e && (*p == ' ' || *p == '\t' || *p == '\r'))
		return 1;
	if (e - p >= 2 && (unsigned char)p[0] == 0xc2 && (unsigned char)p[1] == 0xa0)
		return 2;
	if (e - p >= 3 && !memcmp(p, "\xef\xbb\xbf", 3))
		return 3;
	return 0;
}

static const char *
skip_ws(const char *p, const char *e)
{
	size_t k;
	while ((k = ws_at(p, e)))
		p += k;
	return p;
}

static int
line_blank(const char *p, const char *e)
{
	return skip_ws(p, e) == e;
}

/* The next word of a command line: up to white space or ':'.  Its folded
 * form, without trailing punctuation, goes to w (WORD_MAX + 1); returns
 * the end of the word in the original, or NULL when it is too long. */
static const char *
next_word(const char *p, const char *e, char *w, size_t *wn)
{
	const char *q = p;
	while (q < e && !ws_at(q, e) && *q != ':')
		q++;
	if ((size_t)(q - p) > WORD_MAX)
		return NULL;
	size_t n = fold(p, (size_t)(q - p), w);
	while (n && is_trail_punct(w[n - 1]))
		n--;
	*wn = n;
	return q;
}

/* Leading "Re:", "Odp:", "AW:" and "[INK-12]" in any order; returns the
 * position after them. */
static const char *
skip_prefixes(const char *p, const char *e)
{
	static const char *const pre[] = {"re:", "odp:", "aw:", "antw:", "sv:",
	    "odpowiedz:"};
	for (;;) {
		p = skip_ws(p, e);
		const char *was = p;
		for (size_t i = 0; i < ARRAY_LEN(pre); i++) {
			size_t k = strlen(pre[i]);
			if ((size_t)(e - p) >= k && str_istarts(p, pre[i])) {
				p += k;
				break;
			}
		}
		if (p == was && e - p >= 6 && str_istarts(p, "[ink-") &&
		    p[5] >= '0' && p[5] <= '9') {
			const char *q = p + 5;
			while (q < e && *q >= '0' && *q <= '9')
				q++;
			if (q < e && *q == ']')
				p = q + 1;
		}
		if (p == was)
			return p;
	}
}

/* Copy of [p, e) with CRLF made LF and white space trimmed both ends. */
static char *
trimmed_copy(const char *p, const char *e)
{
	while (p < e && is_blank_byte((unsigned char)*p))
		p++;
	while (e > p && is_blank_byte((unsigned char)e[-1]))
		e--;
	char *out = xmalloc((size_t)(e - p) + 1);
	size_t o = 0;
	for (; p < e; p++)
		if (!(*p == '\r' && p + 1 < e && p[1] == '\n'))
			out[o++] = *p;
	out[o] = '\0';
	return out;
}

/* A greeting people type out of habit before the command ("Dzień dobry,",
 * "Hallo Anna,", "Hi!"): a short line that opens with a greeting and ends
 * with ',' or '!', or is at most four words.  *cont is set past the first
 * comma when more follows it on the line ("Witam, zatwierdzam"; the
 * caller passes over a form of address there), else to NULL (the command
 * is on a line below). */
#define GREETING_MAX 80

static int
is_greeting(const char *s, const char *e, const char **cont)
{
	static const char *const open[] = {"dzień dobry", "dzien dobry", "dobry wieczór",
	    "dobry wieczor", "witam", "witaj", "cześć", "czesc", "hej", "szanown", "pani ",
	    "panie ", "hallo", "hello", "hi", "hey", "guten tag", "guten morgen",
	    "guten abend", "moin", "servus", "grüß gott", "gruss gott", "grüezi",
	    "sehr geehrte", "liebe ", "lieber ", "dear ", "good morning", "good afternoon"};
	s = skip_ws(s, e);
	while (e > s && is_blank_byte((unsigned char)e[-1]))
		e--;
	size_t n = (size_t)(e - s);
	if (!n || n > GREETING_MAX)
		return 0;
	int hit = 0;
	for (size_t i = 0; i < ARRAY_LEN(open) && !hit; i++) {
		size_t k = strlen(open[i]);
		if (k > n || strncasecmp(s, open[i], k) != 0)
			continue;
		/* A whole word: "hi" is not "Hilfe", "hej" not "Hejnał". */
		unsigned char after = k < n ? (unsigned char)s[k] : ' ';
		hit = open[i][k - 1] == ' ' || after == ' ' || after == ',' || after == '!' ||
		    after == '.';
	}
	if (!hit)
		return 0;
	const char *comma = memchr(s, ',', n);
	if (comma && !line_blank(comma + 1, e)) {
		*cont = comma + 1;
		return 1;
	}
	*cont = NULL;
	if (e[-1] == ',' || e[-1] == '!')
		return 1;
	size_t words = 1;
	for (const char *p = s; p < e; p++)
		words += *p == ' ' && p + 1 < e && p[1] != ' ';
	return words <= 4;
}

/* A capital letter at p (ASCII, or a Polish or German one in UTF-8). */
static int
capital(const char *p, const char *e)
{
	static const char *const upper[] = {"Ą", "Ć", "Ę", "Ł", "Ń", "Ó", "Ś", "Ź", "Ż", "Ä",
	    "Ö", "Ü"};
	if (p < e && *p >= 'A' && *p <= 'Z')
		return 1;
	for (size_t i = 0; i < ARRAY_LEN(upper); i++)
		if (e - p >= 2 && memcmp(p, upper[i], 2) == 0)
			return 1;
	return 0;
}

/* After a greeting's comma, the person greeted ("Dzień dobry, Pani Anno,
 * zatwierdzam", "Hallo, Frau Nowak, genehmigt"): one to three words before
 * another comma with more after it on the line, each capitalised or the
 * first a form of address, none a command.  Returns the position after
 * that comma, or NULL when [p, e) does not open with one. */
static const char *
address_form(const char *p, const char *e)
{
	static const char *const forms[] = {"pani", "panie", "pan", "panstwo", "frau", "herr",
	    "liebe", "lieber", "dear", "mr", "mrs", "ms"};
	const char *comma = memchr(p, ',', (size_t)(e - p));
	if (!comma || line_blank(comma + 1, e))
		return NULL;
	size_t words = 0;
	for (const char *q = skip_ws(p, comma); q < comma; q = skip_ws(q, comma)) {
		char w[WORD_MAX + 1];
		size_t n;
		const char *we = next_word(q, comma, w, &n);
		if (!we || n == 0 || ++words > 3 || cmd_lookup(w, n) != CMD_NONE)
			return NULL;
		int form = 0;
		for (size_t i = 0; i < ARRAY_LEN(forms) && words == 1; i++)
			form |= strlen(forms[i]) == n && memcmp(forms[i], w, n) == 0;
		if (!form && !capital(q, comma))
			return NULL;
		q = we;
	}
	return words ? comma + 1 : NULL;
}

/* The first non-blank line at or after p: [*s, *e), with *line counted on
 * from its value.  0 when there is none. */
static int
nonblank_line(const char *p, const char **s, const char **e, int *line)
{
	while (*p) {
		const char *eol = strchr(p, '\n');
		if (!eol)
			eol = p + strlen(p);
		(*line)++;
		if (!line_blank(p, eol)) {
			*s = p;
			*e = eol;
			return 1;
		}
		p = *eol ? eol + 1 : eol;
	}
	return 0;
}

void
reply_parse(const char *new_text, struct reply *out)
{
	out->cmd = CMD_NONE;
	out->arg = NULL;
	out->rest = NULL;
	out->line = 0;

	const char *s, *e;
	int line = 0;
	if (!nonblank_line(new_text ? new_text : "", &s, &e, &line))
		goto none;
	/* A greeting first: the command follows it on the line, or on the
	 * next non-blank one. */
	const char *cont;
	if (is_greeting(s, e, &cont)) {
		if (cont) {
			for (const char *after; (after = address_form(cont, e));)
				cont = after;
			s = cont;
		}
		else if (!nonblank_line(*e ? e + 1 : e, &s, &e, &line))
			goto none;
	}

	char w1[WORD_MAX + 1], w2[WORD_MAX + 1], both[2 * WORD_MAX + 2];
	size_t n1, n2;
	const char *c = skip_prefixes(s, e);
	while (c < e && (*c == '*' || *c == '_'))
		c++;
	const char *we = next_word(c, e, w1, &n1);
	if (!we || n1 == 0)
		goto none;
	enum reply_cmd cmd = CMD_NONE;
	const char *argp = we;
	/* Two-word commands first ("AKCEPTUJĘ OFERTĘ"). */
	if (we < e && *we != ':') {
		const char *c2 = skip_ws(we, e);
		const char *we2 = c2 < e ? next_word(c2, e, w2, &n2) : NULL;
		if (we2 && n2) {
			memcpy(both, w1, n1);
			both[n1] = ' ';
			memcpy(both + n1 + 1, w2, n2);
			cmd = cmd_lookup(both, n1 + 1 + n2);
			if (cmd != CMD_NONE)
				argp = we2;
		}
	}
	if (cmd == CMD_NONE)
		cmd = cmd_lookup(w1, n1);
	if (cmd == CMD_NONE)
		goto none;

	/* The argument: after "REJECT:", "REJECT - ", or just a space. */
	argp = skip_ws(argp, e);
	if (argp < e && *argp == ':')
		argp = skip_ws(argp + 1, e);
	else if (argp + 1 < e && *argp == '-' && ws_at(argp + 1, e))
		argp = skip_ws(argp + 1, e);
	else if (e - argp >= 4 && (unsigned char)argp[0] == 0xe2 &&
	    (unsigned char)argp[1] == 0x80 &&
	    ((unsigned char)argp[2] == 0x93 || (unsigned char)argp[2] == 0x94) &&
	    ws_at(argp + 3, e))
		argp = skip_ws(argp + 3, e);
	const char *ae = e;
	while (ae > argp) {
		if (is_blank_byte((unsigned char)ae[-1]))
			ae--;
		else if (ae - argp >= 2 && (unsigned char)ae[-2] == 0xc2 &&
		    (unsigned char)ae[-1] == 0xa0)
			ae -= 2;
		else
			break;
	}
	const char *q = argp;
	while (q < ae && is_trail_punct(*q))
		q++;
	out->cmd = cmd;
	out->arg = q == ae ? xstrdup("") : xstrndup(argp, (size_t)(ae - argp));
	out->rest = *e ? trimmed_copy(e + 1, e + 1 + strlen(e + 1)) : xstrdup("");
	out->line = line;
	return;

none:
	out->cmd = CMD_NONE;
	out->arg = xstrdup("");
	out->rest = xstrdup("");
	out->line = 0;
}

void
reply_free(struct reply *r)
{
	if (!r)
		return;
	free(r->arg);
	free(r->rest);
	r->arg = NULL;
	r->rest = NULL;
}

/* --- the sender of a forwarded message ---------------------------------- */

#define FWD_FROM_LINES 8 /* how far below the marker the From line may be */

/* The address in a From value: <addr>, [mailto:addr] or a bare word with
 * an '@'; the display name before a bracketed address. */
static int
from_value(const char *v, size_t n, char **addr, char **name)
{
	const char *lt = memchr(v, '<', n), *br = NULL;
	for (size_t i = 0; i + 8 <= n; i++)
		if (v[i] == '[' && strncasecmp(v + i + 1, "mailto:", 7) == 0) {
			br = v + i;
			break;
		}
	const char *a = NULL, *ae = NULL, *nameend = NULL;
	if (lt) {
		a = lt + 1;
		ae = memchr(a, '>', n - (size_t)(a - v));
		nameend = lt;
	} else if (br) {
		a = br + 8;
		ae = memchr(a, ']', n - (size_t)(a - v));
		nameend = br;
	} else {
		const char *at = memchr(v, '@', n);
		if (!at)
			return 0;
		a = at;
		while (a > v && a[-1] != ' ' && a[-1] != '\t')
			a--;
		ae = at;
		while (ae < v + n && *ae != ' ' && *ae != '\t')
			ae++;
	}
	if (!ae || ae <= a || ae - a > 254)
		return 0;
	char *x = xstrndup(a, (size_t)(ae - a));
	const char *at = strchr(x, '@');
	if (!at || at == x || !strchr(at, '.') || strpbrk(x, " \t\"<>[](),;:\\")) {
		free(x);
		return 0;
	}
	*addr = str_lower(x);
	*name = NULL;
	if (nameend) {
		const char *b = v, *e = nameend;
		while (b < e && (*b == ' ' || *b == '"' || *b == '\''))
			b++;
		while (e > b && (e[-1] == ' ' || e[-1] == '"' || e[-1] == '\''))
			e--;
		if (e > b && e - b <= 200)
			*name = xstrndup(b, (size_t)(e - b));
	}
	return 1;
}

int
reply_forwarded_from(const char *text, char **addr, char **name)
{
	*addr = *name = NULL;
	if (!text)
		return 0;
	size_t nl;
	char *fbuf;
	struct line *l = split_lines(text, &nl, &fbuf);
	size_t q = quote_start(l, nl);
	int found = 0;
	for (size_t i = q, seen = 0; i < nl && seen < FWD_FROM_LINES && !found; i++) {
		if (!l[i].fn)
			continue;
		seen++;
		if (hdr_line(l[i].f, l[i].fn, NULL) != H_FROM)
			continue;
		/* The value in the original line: past the first ':' (and the
		 * emphasis of "*From:*"), up to where a one-line Outlook header
		 * goes on with "Sent:". */
		const char *s = memchr(l[i].s, ':', l[i].n);
		if (!s)
			continue;
		s++;
		while (s < l[i].s + l[i].n && (*s == '*' || *s == ' ' || *s == '\t'))
			s++;
		found = from_value(s, (size_t)(l[i].s + l[i].n - s), addr, name);
	}
	free(l);
	free(fbuf);
	return found;
}
