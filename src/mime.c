/*
 * mime: raw RFC 5322 message -> struct mime_msg (UTF-8 everywhere), and the
 * RFC 2047 / RFC 2231 encoders for outgoing headers.
 *
 * DESIGN
 *
 * libetpan's mailmime_parse() builds the MIME tree and mailmime_part_parse()
 * undoes transfer encodings.  Everything else is read here, from the raw
 * header bytes of each entity: header fields (lenient unfolding, 8-bit
 * guessing), Content-Type / Content-Disposition parameters (RFC 2231,
 * RFC 2047 inside quoted values), encoded words, addresses (libetpan's
 * mailimf_address_list_parse first, a lenient splitter when it does not
 * consume the whole field), dates (mailimf_date_time_parse).
 *
 * libetpan 1.9.4 (Debian 12) must not see some inputs at all, so mime_parse
 * runs cheap linear guards before calling it:
 *   - boundary="\"" makes mailmime_extract_boundary() copy (size_t)-1 bytes
 *     into a 2-byte buffer (fixed upstream after 1.9.4): a quoted boundary
 *     value starting with a backslash is refused;
 *   - comments nest by recursion (mailimf_comment_parse), a line of 200,000
 *     '(' overflows the stack: nesting above MIME_COMMENT_NEST is refused;
 *   - multipart and message/rfc822 entities nest by recursion too
 *     (mailmime_parse_with_default) and every level rescans its body, so
 *     10,000 levels take seconds and ~20,000 crash.  Nesting can only grow
 *     with a "multipart" or "rfc822" token per level, so counting those
 *     bounds the recursion; when that bound or a bound on the part count
 *     (lines starting "--") could exceed the limits, a structural scan that
 *     follows libetpan's own rules (its header parsers, our boundary search)
 *     counts parts and depth iteratively per level, stopping at the limit.
 *     Above MIME_MARKERS_HARD markers the message is refused outright, so
 *     libetpan's recursion stays bounded whatever the scan concluded;
 *   - a quoted-printable body ending in a cut escape ("=4" as its last two
 *     bytes) makes mailmime_part_parse read a byte past the body and copy
 *     it into the result: decode_cte leaves that tail to be copied by hand.
 * After parsing, the tree walk counts parts and depth again; that count is
 * the authoritative one.
 *
 * TOLERATED DEFECTS (each recorded in msg->notes when met; test in
 * tests/unit/test_mime.c):
 *   bare LF line endings ............................ test_defect_bare_lf
 *   missing MIME-Version ............................ test_defect_no_mime_version
 *   missing final boundary .......................... test_defect_missing_final_boundary
 *   (also when cut inside a nested multipart)
 *   empty part ("--b" for "--b--"), early close ..... test_defect_empty_part
 *   close delimiter one dash short ("--b-") ......... test_defect_empty_part
 *   8-bit header text, no encoded words ............. test_defect_8bit_headers
 *   unknown charset label (text guessed) ............ test_defect_unknown_charset
 *   charset labels quoted / odd case / aliases ...... test_charset_labels
 *   encoded words inside quoted strings (Outlook) ... test_defect_ew_in_quotes
 *   encoded words glued to text, spaces inside Q .... test_defect_ew_sloppy
 *   encoded word split inside a character (B, Q) .... test_rfc2047_split_char
 *   RFC 2047 in name= / filename= (Outlook, Gmail) .. test_defect_rfc2047_filename
 *   us-ascii declared, 8-bit data ................... test_defect_ascii_with_8bit
 *   iso-8859-2 declared, Windows-1250 bytes ......... test_defect_latin2_cp1250
 *   utf-8 declared, invalid bytes ................... test_defect_bad_utf8
 *   raw UTF-8 cut inside its last character ......... test_defect_utf8_cut
 *   undeclared 8-bit body text ...................... test_defect_undeclared_8bit_body
 *   multipart without (usable) boundary parameter ... test_defect_missing_boundary
 *   base64 with garbage, whitespace, no padding ..... test_defect_base64_garbage
 *   plain text after base64 data (a list's footer) .. test_defect_base64_garbage
 *   unknown Content-Transfer-Encoding ............... test_defect_unknown_cte
 *   no blank line between header and body ........... test_defect_no_blank_line
 *   mbox "From " line before the header ............. test_defect_from_line
 *   (a From field written "From :" first is no such line)
 *   unquoted parameter value with spaces ............ test_defect_unquoted_param
 *   RFC 2231 continuations out of order / with gaps . test_rfc2231_continuations
 *   RFC 2231 charset on a later segment, no lang "'" . test_rfc2231_continuations
 *   address lists with unquoted commas, no '>' ...... test_defect_address_list
 *   message/rfc822 part with base64 encoding ........ test_defect_message_base64
 *   winmail.dat (TNEF) that cannot be read .......... test_tnef_garbage
 *   text/plain alternative saying "this is HTML" .... test_defect_placeholder_plain
 *   Exchange's ATT00001.txt / .htm text parts ....... test_defect_exchange_att_text
 *   body as text/rtf, text/enriched, text/richtext .. test_defect_rich_text
 *   winmail.dat the only text (RTF, Outlook) ........ test_tnef_body
 *   decomposed Unicode (macOS names, PDF text) ...... test_nfd_composed
 *   raw 8-bit text, the message's charset elsewhere . test_unlabelled_in_message_charset
 *   addresses apart by blanks, comments inside ...... test_defect_address_list
 *   a fold after a comment ending libetpan's header . test_defect_address_list
 *   named addresses with no comma between them ...... test_defect_address_list
 *   a name before an address without brackets ...... test_defect_name_bare_addr
 *   brackets without an address (<MAILER-DAEMON>) ... test_defect_address_list
 *   an address with a stray '>' after it ............ test_defect_address_list
 *   a named text part where the text stands ........ test_defect_named_single_part
 *   (the message's one part, the first of its multipart)
 *   a part with no header, field-like first lines ... test_defect_headerless_part
 *   a UTF-8 sign in ISO-8859-1 text ................. test_unlabelled_in_message_charset
 *   Latin-1 text with letters Polish has not (ð þ) .. test_charset_real_world
 *   x-uuencode as a part's transfer encoding ........ test_uuencode
 *   uuencoded lines whose trailing spaces were cut .. test_uuencode
 *   Content-Type "text" without a subtype ......... test_defect_text_no_subtype
 *   charset labels in Python's spelling (koi8_r) .... test_defect_underscore_charset
 *   a 16/32-bit label (iso-10646) on UTF-8 text ..... test_defect_wide_label_utf8
 *   a ZIP, PDF or picture sent as a text part ....... test_attachment_types
 *   unlabelled ISO-2022-JP text (its escapes) ....... test_defect_unlabelled_jis
 *
 * Outlook's winmail.dat (application/ms-tnef) is unpacked by tnef.c, in a
 * child process; its files follow it in the attachment list.
 */
#include "mime.h"

#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lazyetpan.h"
#include "lazyxml.h"
#include "log.h"
#include "rtf.h"
#include "tnef.h"

/* Defaults (the same as conf/inkflow.xml) for a NULL limits pointer or a
 * zero field. */
#define DEF_MAX_MESSAGE     (50u * 1024 * 1024)
#define DEF_MAX_HEADER      (256u * 1024)
#define DEF_MAX_HEADER_LINE (64u * 1024)
#define DEF_MAX_PARTS       500u
#define DEF_MAX_DEPTH       20u
#define DEF_MAX_ATTACHMENT  (40u * 1024 * 1024)

#define MIME_DEPTH_CEILING  100   /* max_depth is clamped to this */
#define MIME_COMMENT_NEST   256   /* '(' nesting libetpan may recurse into */
#define MIME_MARKERS_HARD   2000  /* "multipart"/"rfc822" tokens in one message */
#define MIME_MAX_NOTES      32
#define MIME_MAX_BOUNDARY   200
#define MIME_NAME_MAX       256   /* bytes of a display name kept (UTF-8) */

/* ------------------------------------------------------------------ */
/* small helpers */

static int
lc(int ch)
{
	return (ch >= 'A' && ch <= 'Z') ? ch - 'A' + 'a' : ch;
}

static int
is_wsp(int ch)
{
	return ch == ' ' || ch == '\t';
}

static int
is_lws(int ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/* Case-insensitive compare of p[0..n) with the NUL-terminated word. */
static int
ci_eqn(const char *p, size_t n, const char *word)
{
	size_t i;
	for (i = 0; i < n && word[i]; i++)
		if (lc((unsigned char)p[i]) != lc((unsigned char)word[i]))
			return 0;
	return i == n && word[i] == '\0';
}

static int
ci_prefix(const char *p, size_t n, const char *word)
{
	size_t i;
	for (i = 0; word[i]; i++)
		if (i >= n || lc((unsigned char)p[i]) != lc((unsigned char)word[i]))
			return 0;
	return 1;
}

static char *
lower_dup(const char *p, size_t n)
{
	char *s = xstrndup(p, n);
	return str_lower(s);
}

/* Copy of p[0..n) without leading and trailing whitespace (CR/LF too). */
static char *
trim_dup(const char *p, size_t n)
{
	while (n && is_lws((unsigned char)*p)) {
		p++;
		n--;
	}
	while (n && is_lws((unsigned char)p[n - 1]))
		n--;
	return xstrndup(p, n);
}

/* In place: C0 controls, DEL and C1 controls (U+0080..U+009F, which some
 * terminals take for escape sequences) become spaces, then trim. */
static char *
oneline_inplace(char *s)
{
	unsigned char *r = (unsigned char *)s, *w = r;
	while (*r) {
		if (r[0] == 0xc2 && r[1] >= 0x80 && r[1] <= 0x9f) {
			*w++ = ' ';
			r += 2;
		} else {
			*w++ = (*r < 0x20 || *r == 0x7f) ? ' ' : *r;
			r++;
		}
	}
	*w = '\0';
	size_t n = (size_t)(w - (unsigned char *)s), i = 0;
	while (i < n && s[i] == ' ')
		i++;
	while (n > i && s[n - 1] == ' ')
		n--;
	memmove(s, s + i, n - i);
	s[n - i] = '\0';
	return s;
}

/* Appends s; the array grows to the next power of two, so a long list
 * costs linear time. */
static void
strv_push(char ***v, size_t *n, char *s)
{
	*v = xgrow(*v, *n, sizeof(**v));
	(*v)[(*n)++] = s;
}

static void
strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* ------------------------------------------------------------------ */
/* charsets */

enum {
	CV_UNKNOWN = 1,   /* label not known: guessed */
	CV_GUESSED = 2,   /* no label, 8-bit data: guessed */
	CV_ASCII8 = 4,    /* us-ascii label, 8-bit data */
	CV_BADUTF8 = 8,   /* utf-8 label, invalid bytes */
	CV_L2C1 = 16,     /* iso-8859-2 label, Windows-1250 bytes */
	CV_UTF8IN = 32,   /* single-byte or 16/32-bit label, UTF-8 text */
	CV_L1POLISH = 64, /* Latin-1 label, Polish single-byte text */
	CV_HINTED = 128,  /* no label, 8-bit data: read in the message's charset */
	CV_JIS = 256,     /* no label, ISO-2022-JP escapes: read as ISO-2022-JP */
};

static int
has_8bit(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] >= 0x80)
			return 1;
	return 0;
}

/* Converters to UTF-8, kept open: glibc loads a charset's gconv module
 * at iconv_open and unloads it again soon after iconv_close, which cost
 * a dlopen, a dlclose and their page faults for nearly every message.
 * A few charsets cover real mail; the least recently used one goes when
 * a new one needs the room.  Per thread, as iconv_t state is. */
#define ICONV_CACHE 6

struct iconv_slot {
	char from[40];
	iconv_t cd;
	unsigned long used;
};

static __thread struct iconv_slot cache[ICONV_CACHE];
static __thread unsigned long tick;

void
mime_thread_end(void)
{
	for (size_t i = 0; i < ICONV_CACHE; i++) {
		if (cache[i].from[0])
			iconv_close(cache[i].cd);
		memset(&cache[i], 0, sizeof(cache[i]));
	}
}

static iconv_t
iconv_get(const char *from)
{
	struct iconv_slot *victim = &cache[0];
	if (strlen(from) >= sizeof cache[0].from)
		return iconv_open("UTF-8", from); /* not kept: see iconv_put */
	for (size_t i = 0; i < ICONV_CACHE; i++) {
		struct iconv_slot *sl = &cache[i];
		if (sl->from[0] && strcmp(sl->from, from) == 0) {
			sl->used = ++tick;
			iconv(sl->cd, NULL, NULL, NULL, NULL); /* initial shift state */
			return sl->cd;
		}
		if (sl->used < victim->used)
			victim = sl;
	}
	iconv_t cd = iconv_open("UTF-8", from);
	if (cd == (iconv_t)-1)
		return cd;
	if (victim->from[0])
		iconv_close(victim->cd);
	snprintf(victim->from, sizeof victim->from, "%s", from);
	victim->cd = cd;
	victim->used = ++tick;
	return cd;
}

/* Gives back what iconv_get returned for from: closed only when the
 * name was too long to be kept. */
static void
iconv_put(const char *from, iconv_t cd)
{
	if (strlen(from) >= sizeof(((struct iconv_slot *)0)->from))
		iconv_close(cd);
}

/* Run iconv from 'from' to UTF-8; undecodable bytes become U+FFFD.  NULL
 * when iconv does not know the charset. */
static char *
iconv_utf8(const char *from, const char *in, size_t len)
{
	iconv_t cd = iconv_get(from);
	if (cd == (iconv_t)-1)
		return NULL;
	struct sbuf sb = {0};
	char buf[4096];
	char *ip = (char *)in;
	size_t il = len;
	sb_add(&sb, "", 0);
	while (il > 0) {
		char *op = buf;
		size_t ol = sizeof(buf);
		size_t r = iconv(cd, &ip, &il, &op, &ol);
		sb_add(&sb, buf, (size_t)(op - buf));
		if (r != (size_t)-1)
			continue;
		if (errno == E2BIG)
			continue;
		/* EILSEQ, or EINVAL (truncated sequence at the end). */
		sb_adds(&sb, "\xef\xbf\xbd");
		if (errno == EINVAL) {
			il = 0;
			break;
		}
		ip++;
		il--;
	}
	char *op = buf;
	size_t ol = sizeof(buf);
	iconv(cd, NULL, NULL, &op, &ol);
	sb_add(&sb, buf, (size_t)(op - buf));
	iconv_put(from, cd);
	char *out = utf8_sanitize(sb.s, sb.len);
	sb_free(&sb);
	return out;
}

/* Normalised charset label: lowercase, quotes/blanks/RFC 2231 language
 * dropped; "" when it holds characters no charset name has. */
static void
cs_norm(const char *cs, char *out, size_t outsz)
{
	size_t o = 0;
	out[0] = '\0';
	if (!cs)
		return;
	for (const char *p = cs; *p && *p != '*'; p++) {
		int ch = lc((unsigned char)*p);
		if (ch == '"' || ch == '\'' || is_lws(ch))
			continue;
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		    ch == '-' || ch == '_' || ch == '.' || ch == ':' || ch == '+')) {
			out[0] = '\0';
			return;
		}
		if (o + 1 >= outsz) {
			out[0] = '\0';
			return;
		}
		out[o++] = (char)ch;
	}
	out[o] = '\0';
}

static int
cs_in(const char *norm, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(norm, *list) == 0)
			return 1;
	return 0;
}

static const char *const CS_UTF8[] = {"utf-8", "utf8", "unicode-1-1-utf-8", "x-unicode20utf8", NULL};
static const char *const CS_ASCII[] = {"us-ascii", "ascii", "ansi_x3.4-1968", "iso646-us", "us", "iso-ir-6", "cp367", NULL};
static const char *const CS_LATIN1[] = {"iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1", "l1", "iso-ir-100", "cp819", "ibm819", "windows-1252", "cp1252", "x-cp1252", "win-1252", "iso_8859-1:1987", "iso-8859-1:1987", "8859-1", NULL};
static const char *const CS_LATIN2[] = {"iso-8859-2", "iso8859-2", "iso_8859-2", "latin2", "latin-2", "l2", "iso-ir-101", "iso_8859-2:1987", "iso-8859-2:1987", "8859-2", NULL};
static const char *const CS_CP1250[] = {"windows-1250", "cp1250", "x-cp1250", "win-1250", "cp-1250", "windows1250", "ms-ee", NULL};
static const char *const CS_NONE[] = {"unknown-8bit", "x-unknown", "unknown", "default", "x-user-defined", "8bit", "none", NULL};

/* Unlabelled 8-bit text that is not UTF-8: Windows-1250, the common
 * charset of Polish mail, unless it reads as ISO-8859-2 -- no byte in
 * 0x80-0x9f (control codes there) and one of ą Ą ś Ś ź Ź as ISO-8859-2
 * writes them (which Windows-1250 has as the symbols ± ˇ ¶ ¦ Ľ ¬).
 * Either way German umlauts and ß come out right. */
static const char *
cs_guess_8bit(const char *in, size_t len)
{
	int l2 = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)in[i];
		if (ch >= 0x80 && ch <= 0x9f)
			return "WINDOWS-1250";
		l2 |= ch == 0xb1 || ch == 0xa1 || ch == 0xb6 || ch == 0xa6 || ch == 0xbc || ch == 0xac;
	}
	return l2 ? "ISO-8859-2" : "WINDOWS-1250";
}

/* Whether p[0..n) is UTF-8 cut short: valid but for a last character
 * whose final bytes are missing, with 8-bit text before it (a name or a
 * subject cut at a byte count by the program that sent it, Yahoo's long
 * attachment names).  Single-byte text seldom pairs every 8-bit byte
 * into a UTF-8 sequence and ends in a lead byte as well. */
static int
utf8_cut(const char *p, size_t n)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t k = n, tail = 0;
	while (k > 0 && tail < 3 && (u[k - 1] & 0xc0) == 0x80) {
		k--;
		tail++;
	}
	if (k == 0)
		return 0;
	unsigned char lead = u[k - 1];
	size_t need = lead >= 0xf0 && lead <= 0xf4 ? 4 : lead >= 0xe0 && lead <= 0xef ? 3 :
	    lead >= 0xc2 && lead <= 0xdf ? 2 : 0;
	if (need == 0 || tail + 1 >= need)
		return 0;
	k--;
	return has_8bit(p, k) && utf8_valid(p, k);
}

/* Whether 7-bit text is ISO-2022-JP: it shifts into JIS X 0208 with
 * ESC $ B or ESC $ @, which no other text holds.  Japanese mail is
 * written so, and some senders label none of it. */
static int
jis_escaped(const char *in, size_t len)
{
	if (has_8bit(in, len))
		return 0;
	for (const char *p = in; (p = memchr(p, 0x1b, len - (size_t)(p - in))) != NULL; p++)
		if (len - (size_t)(p - in) >= 3 && p[1] == '$' && (p[2] == 'B' || p[2] == '@'))
			return 1;
	return 0;
}

static char *
cs_guess(const char *in, size_t len, unsigned *flags, unsigned flag)
{
	if (jis_escaped(in, len)) {
		char *s = iconv_utf8("ISO-2022-JP-2", in, len);
		if (s) {
			*flags |= CV_JIS;
			return s;
		}
	}
	if (has_8bit(in, len))
		*flags |= flag;
	if (utf8_valid(in, len) || utf8_cut(in, len))
		return utf8_sanitize(in, len);
	char *s = iconv_utf8(cs_guess_8bit(in, len), in, len);
	return s ? s : utf8_sanitize(in, len);
}

/* Whether valid UTF-8 text p, labelled with a single-byte charset, is
 * UTF-8 after all (web forms and some webmail label UTF-8 as ISO-8859-2
 * or Windows-1250): it has multi-byte sequences and each one is a
 * character such text holds -- Latin letters with diacritics, general
 * punctuation, the euro sign, arrows and dingbats, emoji, a byte-order
 * mark.  Single-byte text rarely forms valid UTF-8 at all, and when it
 * does ("PÓŁ" in ISO-8859-2 is the bytes of U+04E3) the character is
 * from another script. */
static int
utf8_mislabelled(const char *p, size_t n)
{
	const unsigned char *u = (const unsigned char *)p;
	int multi = 0;
	for (size_t i = 0; i < n;) {
		if (u[i] < 0x80) {
			i++;
			continue;
		}
		size_t k = u[i] >= 0xf0 ? 4 : u[i] >= 0xe0 ? 3 : 2;
		uint32_t cp = u[i] & (k == 4 ? 0x07 : k == 3 ? 0x0f : 0x1f);
		for (size_t j = 1; j < k && i + j < n; j++)
			cp = cp << 6 | (u[i + j] & 0x3f);
		i += k;
		multi = 1;
		if (!((cp >= 0xa0 && cp <= 0x24f) || (cp >= 0x1e00 && cp <= 0x1eff) ||
		        (cp >= 0x2000 && cp <= 0x206f) || cp == 0x20ac || (cp >= 0x2100 && cp <= 0x215f) ||
		        (cp >= 0x2190 && cp <= 0x27bf) || cp == 0xfeff || (cp >= 0x1f000 && cp <= 0x1faff)))
			return 0;
	}
	return multi;
}

/* Whether text labelled ISO-8859-1 or Windows-1252 is Polish text in
 * Windows-1250 or ISO-8859-2 (PHP forms and old programs that label
 * everything Latin-1): a byte that is a Polish letter there and, in
 * Latin-1, a sign that does not stand where it stands -- "£" before a
 * letter ("£ódź"), "³" or "¹" before one ("ma³y", "sš¹d"), "¿" or "Ÿ"
 * after one ("mo¿e", "£ódŸ"), "±", "¶", "¼", "¯" or "¥" touching one.
 * Latin-1 text puts these signs beside digits and blanks ("m³", "± 5",
 * "¿Qué"), and its letters (ä ö ü ß é) are the same bytes in
 * Windows-1250, so German text reads the same either way.  A UTF-8 sign
 * pasted into Latin-1 text ("±" as C2 B1) is not taken for one, and
 * letters Polish does not have outweigh them. */
static int
latin1_letter(unsigned char ch)
{
	return ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z') || (ch >= 0xc0 && ch != 0xd7 && ch != 0xf7);
}

static int
latin1_polish(const char *in, size_t len)
{
	/* Latin-1 letters that Windows-1250 reads as letters Polish does not
	 * have (à è ø å ð þ ã as ŕ č ř ĺ đ ţ ă): French, Nordic or
	 * Portuguese text, or Chinese quoted in the mail, not Polish. */
	static const unsigned char foreign[256] = {
	    [0xc0] = 1, [0xc3] = 1, [0xc5] = 1, [0xc8] = 1, [0xcc] = 1, [0xcf] = 1,
	    [0xd0] = 1, [0xd2] = 1, [0xd5] = 1, [0xd8] = 1, [0xd9] = 1, [0xdb] = 1,
	    [0xde] = 1, [0xe0] = 1, [0xe3] = 1, [0xe5] = 1, [0xe8] = 1, [0xec] = 1,
	    [0xef] = 1, [0xf0] = 1, [0xf2] = 1, [0xf5] = 1, [0xf8] = 1, [0xf9] = 1,
	    [0xfb] = 1, [0xfe] = 1,
	};
	const unsigned char *u = (const unsigned char *)in;
	size_t polish = 0, other = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = u[i];
		other += foreign[ch];
		if (ch != 0x9f && (ch < 0xa3 || ch > 0xbf))
			continue;
		/* "Â" or "Ã" before it: a UTF-8 sign pasted into the text
		 * ("±" is C2 B1), not a Polish letter beside a letter */
		if (i > 0 && (u[i - 1] == 0xc2 || u[i - 1] == 0xc3))
			continue;
		int lp = i > 0 && latin1_letter(u[i - 1]), ln = i + 1 < len && latin1_letter(u[i + 1]);
		switch (ch) {
		case 0xa3: case 0xb3: case 0xb9:
			polish += ln;
			break;
		case 0xbf: case 0x9f:
			polish += lp;
			break;
		case 0xa5: case 0xaf: case 0xb1: case 0xb6: case 0xbc:
			polish += lp || ln;
			break;
		default:
			break;
		}
	}
	return polish > other;
}

/* Labels iconv does not know, for the charsets they mean (Outlook's
 * Korean, the "implicit"/"explicit" Hebrew and Arabic of RFC 1556, old
 * Mac and Windows names); Latin-2 and Latin-1 families are handled in
 * cs_conv. */
static const char *
cs_alias(const char *norm)
{
	static const char *const map[][2] = {
	    {"ks_c_5601-1987", "CP949"}, {"ks_c_5601", "CP949"}, {"ks_c_5601-1989", "CP949"},
	    {"iso-8859-8-i", "ISO-8859-8"}, {"iso-8859-8-e", "ISO-8859-8"},
	    {"iso-8859-6-i", "ISO-8859-6"}, {"iso-8859-6-e", "ISO-8859-6"},
	    {"gb2312", "GBK"}, {"x-gbk", "GBK"}, {"x-sjis", "SHIFT_JIS"}, {"shift-jis", "SHIFT_JIS"},
	    {"x-euc-jp", "EUC-JP"}, {"x-mac-ce", "MAC-CENTRALEUROPE"},
	    {"x-mac-centraleurope", "MAC-CENTRALEUROPE"}, {"x-mac-roman", "MACINTOSH"},
	    {"x-unicode-2-0-utf-7", "UTF-7"}, {"unicode-1-1-utf-7", "UTF-7"},
	    {"csunicode11utf7", "UTF-7"}, {"windows-874", "CP874"}, {"x-cp1251", "CP1251"},
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(norm, map[i][0]) == 0)
			return map[i][1];
	return NULL;
}

/* The name iconv is given for normalised label norm: cs_alias's, or
 * norm with '-' for '_' when iconv does not know it so -- Python's codec
 * names ("koi8_r", "euc_jp", "iso8859_5"), which mail its programs send
 * and the Encoding Standard (so Thunderbird) reads for KOI8-R.  buf
 * receives a name made here. */
static const char *
cs_iconv_name(const char *norm, char *buf, size_t bufsz)
{
	const char *ic = cs_alias(norm);
	if (ic)
		return ic;
	if (!strchr(norm, '_'))
		return norm;
	iconv_t cd = iconv_get(norm);
	if (cd != (iconv_t)-1) {
		iconv_put(norm, cd);
		return norm;
	}
	snprintf(buf, bufsz, "%s", norm);
	for (char *p = buf; *p; p++)
		if (*p == '_')
			*p = '-';
	return buf;
}

/* Whether p holds at least one well-formed multi-byte UTF-8 sequence. */
static int
has_utf8_multibyte(const char *p, size_t n)
{
	const unsigned char *u = (const unsigned char *)p;
	for (size_t i = 0; i + 1 < n; i++) {
		size_t k = u[i] >= 0xf0 ? 4 : u[i] >= 0xe0 ? 3 : u[i] >= 0xc2 ? 2 : 0;
		if (k && i + k <= n && utf8_valid(p + i, k))
			return 1;
	}
	return 0;
}

/* Convert to UTF-8 (see mime_to_utf8); flags tell what was guessed. */
static char *
cs_conv(const char *charset, const char *in, size_t len, unsigned *flags)
{
	char norm[48];
	cs_norm(charset, norm, sizeof(norm));
	if (len == 0)
		return xstrdup("");
	if (!charset || !*charset || cs_in(norm, CS_NONE))
		return cs_guess(in, len, flags, CV_GUESSED);
	if (!norm[0]) {
		*flags |= CV_UNKNOWN;
		return cs_guess(in, len, flags, 0);
	}
	if (cs_in(norm, CS_UTF8)) {
		if (utf8_valid(in, len))
			return utf8_sanitize(in, len);
		*flags |= CV_BADUTF8;
		if (has_utf8_multibyte(in, len))
			return utf8_sanitize(in, len);
		return cs_guess(in, len, flags, 0);
	}
	if (cs_in(norm, CS_ASCII)) {
		if (!has_8bit(in, len))
			return utf8_sanitize(in, len);
		return cs_guess(in, len, flags, CV_ASCII8);
	}
	/* Python's codec names ("iso8859_2", "latin_1") are the same labels;
	 * every spelling with '_' in these lists has its '-' twin there too */
	char dash[48];
	memcpy(dash, norm, sizeof(dash));
	for (char *p = dash; *p; p++)
		if (*p == '_')
			*p = '-';
	int latin1 = cs_in(dash, CS_LATIN1), latin2 = cs_in(dash, CS_LATIN2),
	    cp1250 = cs_in(dash, CS_CP1250);
	if ((latin1 || latin2 || cp1250 || str_istarts(dash, "iso-8859-") ||
	        str_istarts(dash, "iso8859-") || str_istarts(dash, "windows-125") ||
	        str_istarts(dash, "cp125")) &&
	    has_8bit(in, len) && utf8_valid(in, len) && utf8_mislabelled(in, len)) {
		*flags |= CV_UTF8IN;
		return utf8_sanitize(in, len);
	}
	/* A 16- or 32-bit label on text with no NUL byte that is valid UTF-8
	 * (mailers that write "iso-10646" or "unicode" for UTF-8): read as
	 * UTF-8; iconv would make every byte pair a Chinese character. */
	if ((str_istarts(dash, "utf-16") || str_istarts(dash, "utf16") ||
	        str_istarts(dash, "utf-32") || str_istarts(dash, "utf32") ||
	        str_istarts(dash, "ucs") || str_istarts(dash, "iso-10646") ||
	        strcmp(dash, "unicode") == 0 || strcmp(dash, "csunicode") == 0) &&
	    !memchr(in, '\0', len) && utf8_valid(in, len)) {
		*flags |= CV_UTF8IN;
		return utf8_sanitize(in, len);
	}
	const char *ic = cs_alias(norm);
	if (latin1 && latin1_polish(in, len)) {
		*flags |= CV_L1POLISH;
		ic = cs_guess_8bit(in, len);
	} else if (latin1)
		ic = "WINDOWS-1252";
	else if (cp1250)
		ic = "WINDOWS-1250";
	else if (latin2) {
		ic = "ISO-8859-2";
		for (size_t i = 0; i < len; i++) {
			unsigned char ch = (unsigned char)in[i];
			if (ch >= 0x80 && ch <= 0x9f) {
				*flags |= CV_L2C1;
				ic = "WINDOWS-1250";
				break;
			}
		}
	}
	char name[48];
	char *s = iconv_utf8(ic ? ic : cs_iconv_name(norm, name, sizeof(name)), in, len);
	if (s)
		return s;
	*flags |= CV_UNKNOWN;
	return cs_guess(in, len, flags, 0);
}

char *
mime_to_utf8(const char *charset, const char *in, size_t len)
{
	unsigned flags = 0;
	if (!in)
		return xstrdup("");
	return cs_conv(charset, in, len, &flags);
}

/* Whether charset label cs says how the sender's program writes 8-bit
 * text it did not label: a charset of one or two bytes per character
 * that iconv knows.  Not UTF-8 or ASCII (they say nothing of bytes that
 * are not UTF-8), not the labels of no charset, not the 7-bit and
 * 16/32-bit encodings.  norm receives the normalised label. */
static int
cs_hint_usable(const char *cs, char *norm, size_t normsz)
{
	cs_norm(cs, norm, normsz);
	if (!norm[0] || cs_in(norm, CS_UTF8) || cs_in(norm, CS_ASCII) || cs_in(norm, CS_NONE))
		return 0;
	static const char *const seven[] = {"utf-7", "iso-2022", "utf-16", "utf-32", "ucs-", "hz",
	    "unicode-1-1-utf-7", "x-unicode-2-0-utf-7", "csunicode11utf7"};
	for (size_t i = 0; i < ARRAY_LEN(seven); i++)
		if (str_istarts(norm, seven[i]))
			return 0;
	char name[48];
	const char *ic = cs_iconv_name(norm, name, sizeof(name));
	iconv_t cd = iconv_get(ic);
	if (cd == (iconv_t)-1)
		return 0;
	iconv_put(ic, cd);
	return 1;
}

/* Whether unlabelled text in[0..len) is read in the message's charset
 * hint (a label cs_hint_usable normalised) rather than guessed.  The
 * guess reads Polish text (Windows-1250 or ISO-8859-2 by its own signs)
 * and German (the umlauts are the same bytes in Windows-1252), so a
 * Polish hint adds nothing; a Western one
 * (ISO-8859-1, Windows-1252: PHP forms label Polish text so) is taken only
 * when no byte is a letter only Polish has in Windows-1250 (ą ę ł ń ś ź ż
 * ć and their capitals), so "Verão" and "crème" come out right and
 * "wycenę" stays Polish; any other charset is taken as it is. */
static int
hint_fits(const char *hint, const char *in, size_t len)
{
	if (cs_in(hint, CS_LATIN2) || cs_in(hint, CS_CP1250))
		return 0;
	if (!cs_in(hint, CS_LATIN1))
		return 1;
	static const unsigned char pl[] = {0xb9, 0xea, 0xb3, 0xf1, 0x9c, 0x9f, 0xbf, 0xe6, 0xa5,
	    0xca, 0xa3, 0xd1, 0x8c, 0x8f, 0xaf, 0xc6};
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)in[i] >= 0x80 && memchr(pl, (unsigned char)in[i], sizeof(pl)))
			return 0;
	return 1;
}

/* Unlabelled text (a header's raw 8-bit words, an unlabelled body part):
 * in hint, the charset the message labels its other text with, when it
 * has one, the bytes are not UTF-8 and hint_fits; else guessed as
 * cs_conv does. */
static char *
cs_conv_hinted(const char *hint, const char *in, size_t len, unsigned *flags)
{
	if (hint && *hint && has_8bit(in, len) && !utf8_valid(in, len) && !utf8_cut(in, len) &&
	    hint_fits(hint, in, len)) {
		*flags |= CV_HINTED;
		return cs_conv(hint, in, len, flags);
	}
	return cs_conv(NULL, in, len, flags);
}

/* ------------------------------------------------------------------ */
/* parse context: limits, notes, failure reason */

struct pctx {
	struct mime_limits lim;
	char **notes;
	size_t nnotes;
	struct mime_att *atts;
	size_t natts;
	size_t parts;
	char *reason;
	size_t reasonlen;
	int failed;
	const char *base;    /* the top-level buffer, for mime_att.body_off */
	size_t baselen;
	int related;         /* walking the parts of a multipart/related */
	int body_slot;       /* the part walked stands where the message's text
	                      * stands: the first part of the message's
	                      * multipart, an alternative, a related's root */
	unsigned encrypted;  /* MIME_ENC_* found so far */
	char hint[48];       /* the charset the message labels its text with
	                      * (cs_hint_usable), for its unlabelled 8-bit text */
};

static void note(struct pctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
note(struct pctx *c, const char *fmt, ...)
{
	if (!c)
		return;
	struct sbuf sb = {0};
	va_list ap;
	va_start(ap, fmt);
	sb_vprintf(&sb, fmt, ap);
	va_end(ap);
	char *s = oneline_inplace(utf8_sanitize(sb.s, sb.len));
	sb_free(&sb);
	for (size_t i = 0; i < c->nnotes; i++)
		if (strcmp(c->notes[i], s) == 0) {
			free(s);
			return;
		}
	if (c->nnotes >= MIME_MAX_NOTES) {
		free(s);
		return;
	}
	strv_push(&c->notes, &c->nnotes, s);
}

static int fail(struct pctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* label becomes the message's charset hint unless it has one already or
 * the label is of no use as one (cs_hint_usable). */
static void
hint_offer(struct pctx *c, const char *label)
{
	char norm[sizeof(c->hint)];
	if (!c->hint[0] && cs_hint_usable(label, norm, sizeof(norm)))
		memcpy(c->hint, norm, sizeof(c->hint));
}

static int
fail(struct pctx *c, const char *fmt, ...)
{
	if (c->failed)
		return -1;
	c->failed = 1;
	if (c->reason && c->reasonlen) {
		struct sbuf sb = {0};
		va_list ap;
		va_start(ap, fmt);
		sb_vprintf(&sb, fmt, ap);
		va_end(ap);
		char *s = oneline_inplace(utf8_sanitize(sb.s, sb.len));
		sb_free(&sb);
		size_t n = strlen(s);
		if (n >= c->reasonlen) {
			n = c->reasonlen - 1;
			while (n && ((unsigned char)s[n] & 0xc0) == 0x80)
				n--;
		}
		memcpy(c->reason, s, n);
		c->reason[n] = '\0';
		free(s);
	}
	return -1;
}

static void
cs_notes(struct pctx *c, unsigned flags, const char *charset, const char *where)
{
	if (!c || !flags)
		return;
	char norm[48];
	cs_norm(charset, norm, sizeof(norm));
	if (flags & CV_UNKNOWN)
		note(c, "unknown charset label \"%s\" in %s, text guessed",
		    norm[0] ? norm : "?", where);
	if (flags & CV_GUESSED)
		note(c, "undeclared 8-bit text in %s, charset guessed", where);
	if (flags & CV_ASCII8)
		note(c, "us-ascii declared but 8-bit data in %s, charset guessed", where);
	if (flags & CV_BADUTF8)
		note(c, "invalid UTF-8 in %s declared utf-8", where);
	if (flags & CV_L2C1)
		note(c, "iso-8859-2 declared but Windows-1250 bytes in %s", where);
	if (flags & CV_UTF8IN)
		note(c, "%s declared but UTF-8 text in %s, read as UTF-8", norm[0] ? norm : "?", where);
	if (flags & CV_JIS)
		note(c, "undeclared ISO-2022-JP text in %s, read by its escapes", where);
	if (flags & CV_L1POLISH)
		note(c, "%s declared but Polish letters in %s, read as Windows-1250 or ISO-8859-2",
		    norm[0] ? norm : "?", where);
}

/* ------------------------------------------------------------------ */
/* RFC 2047 decoding */

static int
hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = lc(ch);
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

static int
b64val(int ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

/* Lenient base64 for encoded words: skips anything outside the alphabet,
 * stops at '=' padding, tolerates missing padding. */
static void
b64_dec(struct sbuf *out, const char *p, size_t n)
{
	unsigned acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '=')
			break;
		int v = b64val((unsigned char)p[i]);
		if (v < 0)
			continue;
		acc = ((acc << 6) | (unsigned)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			sb_addc(out, (char)((acc >> bits) & 0xff));
		}
	}
}

/* The bytes that k (< 4) sextets in acc hold at the end of a block. */
static size_t
b64_tail(uint32_t acc, int k, unsigned char *out)
{
	if (k < 2)
		return 0;
	out[0] = (unsigned char)(acc >> (6 * k - 8));
	if (k == 2)
		return 1;
	out[1] = (unsigned char)(acc >> 2);
	return 2;
}

/* Base64 characters: value + 1; 65 padding, 66 blank, 0 junk. */
static const unsigned char b64_val[256] = {
	['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6, ['G'] = 7,
	['H'] = 8, ['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14,
	['O'] = 15, ['P'] = 16, ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21,
	['V'] = 22, ['W'] = 23, ['X'] = 24, ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28,
	['c'] = 29, ['d'] = 30, ['e'] = 31, ['f'] = 32, ['g'] = 33, ['h'] = 34, ['i'] = 35,
	['j'] = 36, ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42,
	['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48, ['w'] = 49,
	['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56,
	['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['+'] = 63,
	['/'] = 64, ['='] = 65, [' '] = 66, ['\t'] = 66, ['\r'] = 66, ['\n'] = 66,
	};

int
mime_b64_char(int ch)
{
	int v = b64_val[(unsigned char)ch];
	return v > 0 && v <= 65;
}

size_t
mime_b64_feed(struct mime_b64 *st, const char *p, size_t n, unsigned char *out)
{
	size_t o = 0;
	uint32_t acc = st->acc;
	int k = st->k;
	const unsigned char *u = (const unsigned char *)p;
	for (size_t i = 0; i < n; i++) {
		/* Four alphabet characters at a quantum's start: the common case. */
		while (k == 0 && i + 4 <= n) {
			unsigned a = b64_val[u[i]] - 1u, b = b64_val[u[i + 1]] - 1u;
			unsigned c = b64_val[u[i + 2]] - 1u, d = b64_val[u[i + 3]] - 1u;
			if ((a | b | c | d) > 63u)
				break;
			uint32_t q = a << 18 | b << 12 | c << 6 | d;
			out[o++] = (unsigned char)(q >> 16);
			out[o++] = (unsigned char)(q >> 8);
			out[o++] = (unsigned char)q;
			st->alpha += st->pads ? 0 : 4;
			i += 4;
		}
		if (i >= n)
			break;
		int v = b64_val[u[i]];
		if (v > 0 && v <= 64) {
			st->alpha += st->pads ? 0 : 1;
			acc = acc << 6 | (uint32_t)(v - 1);
			if (++k == 4) {
				out[o++] = (unsigned char)(acc >> 16);
				out[o++] = (unsigned char)(acc >> 8);
				out[o++] = (unsigned char)acc;
				acc = 0;
				k = 0;
			}
		} else if (v == 65) {
			st->pads++;
			o += b64_tail(acc, k, out + o);
			acc = 0;
			k = 0;
		} else if (v == 0) {
			st->junk++;
		}
	}
	st->acc = acc;
	st->k = k;
	return o;
}

size_t
mime_b64_end(struct mime_b64 *st, unsigned char *out)
{
	size_t o = b64_tail(st->acc, st->k, out); /* missing padding */
	st->acc = 0;
	st->k = 0;
	return o;
}

/* Whether p[0..n) holds only base64 characters and padding. */
static int
b64_only(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b64_val[(unsigned char)p[i]] == 0 || b64_val[(unsigned char)p[i]] > 65)
			return 0;
	return 1;
}

/* The length of a base64 body p[0..n) up to the end of its last base64
 * line, when lines that are no base64 follow it (a list's footer, a
 * signature appended to the body), one of them with a character that is
 * in no base64 ("_", "@", "!"; an encoder that put blanks inside its
 * lines is not cut): those are not its data.  n when none follow, or
 * when no line is base64. */
static size_t
b64_data_len(const char *p, size_t n)
{
	size_t e = n;
	int after = 0;
	while (e > 0) {
		size_t le = e;
		while (le > 0 && (p[le - 1] == '\n' || p[le - 1] == '\r'))
			le--;
		size_t ls = le;
		while (ls > 0 && p[ls - 1] != '\n')
			ls--;
		size_t a = ls, z = le;
		while (a < z && is_lws((unsigned char)p[a]))
			a++;
		while (z > a && is_lws((unsigned char)p[z - 1]))
			z--;
		if (a < z && b64_only(p + a, z - a))
			return after ? le : n;
		for (size_t i = a; i < z && !after; i++)
			after = b64_val[(unsigned char)p[i]] == 0;
		e = ls;
	}
	return n;
}

/* Base64 body of a part, decoded into out (room for n / 4 * 3 + 3 bytes). */
static size_t
b64_body(const char *p, size_t n, unsigned char *out, size_t *alpha, size_t *pads,
    size_t *junk)
{
	struct mime_b64 st = {0};
	size_t o = mime_b64_feed(&st, p, n, out);
	o += mime_b64_end(&st, out + o);
	*alpha = st.alpha;
	*pads = st.pads;
	*junk = st.junk;
	return o;
}

static void
q_dec(struct sbuf *out, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '_')
			sb_addc(out, ' ');
		else if (p[i] == '=' && i + 2 < n && hexval((unsigned char)p[i + 1]) >= 0 &&
		    hexval((unsigned char)p[i + 2]) >= 0) {
			sb_addc(out, (char)(hexval((unsigned char)p[i + 1]) * 16 +
			    hexval((unsigned char)p[i + 2])));
			i += 2;
		} else
			sb_addc(out, p[i]);
	}
}

/* An encoded word at p[0..n): "=?charset?E?text?=".  On success fills the
 * charset span, encoding letter and text span and returns the length.
 * *noclose is the distance from p past which no "?=" ends a word; it is
 * lowered here, so many unterminated words cost linear time. */
static size_t
ew_match(const char *p, size_t n, const char **cs, size_t *cslen, char *enc,
    const char **txt, size_t *txtlen, size_t *noclose)
{
	if (n < 8 || p[0] != '=' || p[1] != '?')
		return 0;
	size_t i = 2;
	while (i < n && i < 2 + 64 && p[i] != '?' && !is_lws((unsigned char)p[i]))
		i++;
	if (i >= n || p[i] != '?' || i == 2)
		return 0;
	*cs = p + 2;
	*cslen = i - 2;
	if (i + 2 >= n || p[i + 2] != '?')
		return 0;
	int e = lc((unsigned char)p[i + 1]);
	if (e != 'b' && e != 'q')
		return 0;
	*enc = (char)e;
	size_t t = i + 3, j = t;
	if (t >= *noclose)
		return 0;
	while (j + 1 < n && !(p[j] == '?' && p[j + 1] == '=')) {
		if (p[j] == '\r' || p[j] == '\n')
			return 0;
		j++;
	}
	if (j + 1 >= n) {
		*noclose = t;
		return 0;
	}
	*txt = p + t;
	*txtlen = j - t;
	return j + 2;
}

/* Converts the pending encoded-word bytes in charset cs; when that needed
 * a guess, cs is remembered in lastcs for the note. */
static void
ew_flush(struct sbuf *out, struct sbuf *raw, const char *cs, unsigned *flags,
    char *lastcs, size_t lastcssz)
{
	if (!raw->len)
		return;
	unsigned before = *flags;
	char *d = cs_conv(cs, raw->s, raw->len, flags);
	if (*flags != before && lastcs)
		snprintf(lastcs, lastcssz, "%s", cs);
	sb_adds(out, d);
	free(d);
	raw->len = 0;
}

/* Decode a header value: folding removed, encoded words decoded (runs in
 * one charset joined before conversion so split characters survive),
 * whitespace between encoded words dropped, 8-bit text guessed, controls
 * to spaces, trimmed.  flags collects charset guesses; *sloppy is set
 * when encoded words were glued to text or held spaces. */
static char *
hdr_decode(const char *v, size_t n, const char *hint, unsigned *flags, char *lastcs,
    size_t lastcssz, int *sloppy)
{
	struct sbuf out = {0}, raw = {0}, plain = {0};
	char curcs[72] = "";
	size_t i = 0, noclose = (size_t)-1;
	int prev_ew = 0;
	sb_add(&out, "", 0);
	while (i < n) {
		const char *cs = NULL, *txt = NULL;
		size_t cslen = 0, txtlen = 0;
		char enc = 0;
		size_t nc = noclose == (size_t)-1 ? noclose : noclose > i ? noclose - i : 0;
		size_t m = v[i] == '=' ? ew_match(v + i, n - i, &cs, &cslen, &enc, &txt,
		    &txtlen, &nc) : 0;
		if (nc != (size_t)-1)
			noclose = i + nc;
		if (m) {
			char csbuf[72];
			size_t cl = cslen < sizeof(csbuf) - 1 ? cslen : sizeof(csbuf) - 1;
			memcpy(csbuf, cs, cl);
			csbuf[cl] = '\0';
			char *star = strchr(csbuf, '*');
			if (star)
				*star = '\0';
			/* Whitespace between two encoded words is dropped (prev_ew
			 * stays set only while nothing but whitespace followed). */
			if (prev_ew)
				plain.len = 0;
			if (plain.len) {
				if (!is_lws((unsigned char)plain.s[plain.len - 1]) && sloppy)
					*sloppy = 1;
				ew_flush(&out, &raw, curcs, flags, lastcs, lastcssz);
				char *d = cs_conv_hinted(hint, plain.s, plain.len, flags);
				sb_adds(&out, d);
				free(d);
				plain.len = 0;
			}
			if (!str_ieq(curcs, csbuf))
				ew_flush(&out, &raw, curcs, flags, lastcs, lastcssz);
			snprintf(curcs, sizeof(curcs), "%s", csbuf);
			for (size_t k = 0; k < txtlen; k++)
				if (txt[k] == ' ' && sloppy)
					*sloppy = 1;
			if (enc == 'b')
				b64_dec(&raw, txt, txtlen);
			else
				q_dec(&raw, txt, txtlen);
			i += m;
			prev_ew = 1;
			/* Glued to following text? */
			if (i < n && !is_lws((unsigned char)v[i]) && !(v[i] == '=' && i + 1 < n && v[i + 1] == '?') && sloppy)
				*sloppy = 1;
			continue;
		}
		if (v[i] == '\r' || v[i] == '\n') {
			i++;
			continue;
		}
		sb_addc(&plain, v[i]);
		if (!is_lws((unsigned char)v[i]))
			prev_ew = 0;
		i++;
	}
	ew_flush(&out, &raw, curcs, flags, lastcs, lastcssz);
	if (plain.len) {
		char *d = cs_conv_hinted(hint, plain.s, plain.len, flags);
		sb_adds(&out, d);
		free(d);
	}
	sb_free(&raw);
	sb_free(&plain);
	return oneline_inplace(sb_steal(&out));
}

char *
mime_decode_header(const char *value)
{
	unsigned flags = 0;
	if (!value)
		return xstrdup("");
	return hdr_decode(value, strlen(value), NULL, &flags, NULL, 0, NULL);
}

/* Decode with notes about what was tolerated. */
static char *
hdr_decode_c(struct pctx *c, const char *v, size_t n, const char *where)
{
	unsigned flags = 0;
	char lastcs[72] = "";
	int sloppy = 0;
	const char *hint = c ? c->hint : NULL;
	char *s = hdr_decode(v, n, hint, &flags, lastcs, sizeof(lastcs), &sloppy);
	/* Plain text runs are converted without a label (CV_GUESSED) or in
	 * the message's charset (CV_HINTED); the other flags come from
	 * encoded words, the last label names them. */
	if (flags & CV_GUESSED)
		note(c, "8-bit header text without encoding in %s, charset guessed", where);
	if (flags & CV_HINTED)
		note(c, "8-bit header text without encoding in %s, read as %s (the charset the "
		        "message declares)", where, hint);
	cs_notes(c, flags & ~(unsigned)(CV_GUESSED | CV_HINTED),
	    flags & CV_HINTED && !lastcs[0] ? hint : lastcs, where);
	if (sloppy)
		note(c, "encoded words glued to text or holding spaces in %s", where);
	return s;
}

/* ------------------------------------------------------------------ */
/* header sections */

struct hfield {
	const char *name;
	size_t nlen;
	const char *val;  /* raw, folded, up to the end of its last line */
	size_t vlen;
};

struct hdr {
	struct hfield *f;
	size_t n;
	size_t hlen;   /* bytes of the header section (without the blank line) */
	size_t body;   /* offset of the body */
	int noblank;   /* header ended at a line that is not a field */
};

static int
is_ftext(int ch)
{
	return ch >= 33 && ch <= 126 && ch != ':';
}

/* When line p[0..n) is a field "name:" (blanks allowed before the
 * colon): the offset of the colon, *nlen the name's length.  0 when not. */
static size_t
field_colon(const char *p, size_t n, size_t *nlen)
{
	size_t i = 0;
	while (i < n && is_ftext((unsigned char)p[i]))
		i++;
	*nlen = i;
	while (i < n && is_wsp((unsigned char)p[i]))
		i++;
	return *nlen && i < n && p[i] == ':' ? i : 0;
}

/* Split p[0..len) into header fields.  Linear; never fails. */
static void
hdr_scan(const char *p, size_t len, struct hdr *h)
{
	size_t pos = 0, cap = 0;
	memset(h, 0, sizeof(*h));
	while (pos < len) {
		const char *nl = memchr(p + pos, '\n', len - pos);
		size_t eol = nl ? (size_t)(nl - p) : len;
		size_t next = nl ? eol + 1 : len;
		size_t cend = eol;
		if (cend > pos && p[cend - 1] == '\r')
			cend--;
		if (cend == pos) {
			h->hlen = pos;
			h->body = next;
			return;
		}
		if (is_wsp((unsigned char)p[pos]) && h->n) {
			struct hfield *f = &h->f[h->n - 1];
			f->vlen = (size_t)(p + cend - f->val);
			pos = next;
			continue;
		}
		size_t nlen, colon = field_colon(p + pos, cend - pos, &nlen);
		if (!colon) {
			h->hlen = pos;
			h->body = pos;
			h->noblank = 1;
			return;
		}
		if (h->n == cap) {
			cap = cap ? cap * 2 : 16;
			h->f = xrealloc(h->f, cap * sizeof(*h->f));
		}
		h->f[h->n].name = p + pos;
		h->f[h->n].nlen = nlen;
		h->f[h->n].val = p + pos + colon + 1;
		h->f[h->n].vlen = cend - (pos + colon + 1);
		h->n++;
		pos = next;
	}
	h->hlen = len;
	h->body = len;
}

/* The start of the line after the one at p[i] (n when it is the last). */
static size_t
line_next(const char *p, size_t n, size_t i)
{
	const char *nl = memchr(p + i, '\n', n - i);
	return nl ? (size_t)(nl - p) + 1 : n;
}

/* A header cut short by a line that is neither a field nor folded (a
 * Received: continuation written without its indent) while From, Subject
 * and the rest follow: a copy of the message with each such line
 * indented, so it folds into the field before it, as other readers take
 * it.  NULL when the header really ends there -- no blank line within
 * the header's reach, more than 3 such lines in a row, or no field a
 * message header has after them (a body that begins without a blank
 * line is left alone). */
static char *
hdr_repair(const char *p, size_t len, const struct hdr *h, size_t max_header, size_t *outlen)
{
	static const char *const known[] = {"from", "to", "cc", "subject", "date", "message-id",
	    "mime-version", "content-type", "content-transfer-encoding", "received",
	    "return-path", "reply-to", "in-reply-to", "references", "sender", "delivered-to",
	    "x-mailer", "user-agent", "dkim-signature", "authentication-results", NULL};
	if (!h->noblank || !h->n)
		return NULL;
	size_t pos = h->body, end = 0, bad = 0, run = 0;
	int known_after = 0;
	while (pos < len && pos <= max_header) {
		const char *nl = memchr(p + pos, '\n', len - pos);
		size_t eol = nl ? (size_t)(nl - p) : len, cend = eol;
		if (cend > pos && p[cend - 1] == '\r')
			cend--;
		if (cend == pos) {
			end = pos;
			break;
		}
		size_t nl_len;
		if (field_colon(p + pos, cend - pos, &nl_len)) {
			run = 0;
			for (size_t k = 0; known[k] && !known_after; k++)
				known_after = strlen(known[k]) == nl_len &&
				              strncasecmp(p + pos, known[k], nl_len) == 0;
		} else if (!is_wsp((unsigned char)p[pos])) {
			if (++run > 3)
				return NULL;
			bad++;
		}
		pos = nl ? eol + 1 : len;
	}
	if (!end || !known_after || !bad)
		return NULL;
	char *out = xmalloc(len + bad + 1);
	size_t o = 0;
	memcpy(out, p, h->body);
	o = h->body;
	for (pos = h->body; pos < len;) {
		size_t next = line_next(p, len, pos);
		size_t nlen;
		if (pos < end && !is_wsp((unsigned char)p[pos]) && !field_colon(p + pos, next - pos, &nlen))
			out[o++] = ' ';
		memcpy(out + o, p + pos, next - pos);
		o += next - pos;
		pos = next;
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

static void
hdr_free(struct hdr *h)
{
	free(h->f);
	memset(h, 0, sizeof(*h));
}

/* Unfolded length of a field: name, colon, value without CR/LF. */
static size_t
hf_len(const struct hfield *f)
{
	size_t n = f->nlen + 1;
	for (size_t i = 0; i < f->vlen; i++)
		if (f->val[i] != '\r' && f->val[i] != '\n')
			n++;
	return n;
}

/* Unfolded, trimmed raw value (bytes as sent). */
static char *
hf_unfold(const struct hfield *f, size_t *outlen)
{
	char *s = xmalloc(f->vlen + 1);
	size_t o = 0;
	for (size_t i = 0; i < f->vlen; i++)
		if (f->val[i] != '\r' && f->val[i] != '\n')
			s[o++] = f->val[i];
	s[o] = '\0';
	size_t a = 0;
	while (a < o && is_lws((unsigned char)s[a]))
		a++;
	while (o > a && is_lws((unsigned char)s[o - 1]))
		o--;
	memmove(s, s + a, o - a);
	s[o - a] = '\0';
	if (outlen)
		*outlen = o - a;
	return s;
}

/* The field called name after skip others of that name, NULL if none. */
static const struct hfield *
hdr_get_nth(const struct hdr *h, const char *name, size_t skip)
{
	for (size_t i = 0; i < h->n; i++)
		if (ci_eqn(h->f[i].name, h->f[i].nlen, name) && skip-- == 0)
			return &h->f[i];
	return NULL;
}

static const struct hfield *
hdr_get(const struct hdr *h, const char *name)
{
	return hdr_get_nth(h, name, 0);
}

/* Checks every field of h against max_header_line. */
static int
hdr_check_lines(struct pctx *c, const struct hdr *h, const char *where)
{
	for (size_t i = 0; i < h->n; i++) {
		size_t l = hf_len(&h->f[i]);
		if (l > c->lim.max_header_line) {
			char name[41];
			size_t k = 0;
			for (; k < h->f[i].nlen && k < sizeof(name) - 1; k++)
				name[k] = h->f[i].name[k];
			name[k] = '\0';
			return fail(c, "header field length %zu exceeds limit %zu (%s field %s)",
			    l, c->lim.max_header_line, where, name);
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Content-Type / Content-Disposition parameters */

struct param {
	char *name;   /* lowercase */
	char *val;    /* unquoted raw bytes */
};

struct plist {
	char *token;  /* lowercase "type/subtype" or disposition type */
	struct param *p;
	size_t n;
};

static void
plist_free(struct plist *pl)
{
	for (size_t i = 0; i < pl->n; i++) {
		free(pl->p[i].name);
		free(pl->p[i].val);
	}
	free(pl->p);
	free(pl->token);
	memset(pl, 0, sizeof(*pl));
}

/* Lenient parameter list: token [; attr=value]*.  Values may be quoted
 * (backslash escapes only before '"' and '\\': Windows paths survive),
 * unquoted with spaces up to the next ';', unterminated quotes run to the
 * end. */
static void
plist_parse(struct pctx *c, const char *v, size_t n, struct plist *pl)
{
	size_t i = 0;
	memset(pl, 0, sizeof(*pl));
	while (i < n && v[i] != ';')
		i++;
	char *tok = trim_dup(v, i);
	/* Drop a comment after the token: "text/plain (foo)". */
	char *paren = strchr(tok, '(');
	if (paren) {
		*paren = '\0';
		char *t = trim_dup(tok, strlen(tok));
		free(tok);
		tok = t;
	}
	pl->token = str_lower(tok);
	while (i < n) {
		while (i < n && (v[i] == ';' || is_lws((unsigned char)v[i])))
			i++;
		size_t a = i;
		while (i < n && v[i] != '=' && v[i] != ';')
			i++;
		if (i >= n || v[i] != '=') {
			continue;
		}
		char *name = trim_dup(v + a, i - a);
		str_lower(name);
		i++;
		while (i < n && is_lws((unsigned char)v[i]))
			i++;
		struct sbuf val = {0};
		sb_add(&val, "", 0);
		if (i < n && v[i] == '"') {
			i++;
			int closed = 0;
			while (i < n) {
				if (v[i] == '\\' && i + 1 < n && (v[i + 1] == '"' || v[i + 1] == '\\')) {
					sb_addc(&val, v[i + 1]);
					i += 2;
					continue;
				}
				if (v[i] == '"') {
					closed = 1;
					i++;
					break;
				}
				sb_addc(&val, v[i]);
				i++;
			}
			if (!closed)
				note(c, "unterminated quoted parameter value");
			while (i < n && v[i] != ';')
				i++;
		} else {
			size_t b = i;
			while (i < n && v[i] != ';')
				i++;
			size_t e = i;
			while (e > b && is_lws((unsigned char)v[e - 1]))
				e--;
			for (size_t k = b; k < e; k++)
				if (is_wsp((unsigned char)v[k]) && !ci_prefix(name, strlen(name), "boundary")) {
					note(c, "unquoted parameter value with spaces");
					break;
				}
			sb_add(&val, v + b, e - b);
		}
		if (!*name) {
			free(name);
			sb_free(&val);
			continue;
		}
		pl->p = xgrow(pl->p, pl->n, sizeof(*pl->p));
		pl->p[pl->n].name = name;
		pl->p[pl->n].val = sb_steal(&val);
		pl->n++;
	}
}

static const char *
plist_raw(const struct plist *pl, const char *name)
{
	for (size_t i = 0; i < pl->n; i++)
		if (strcmp(pl->p[i].name, name) == 0)
			return pl->p[i].val;
	return NULL;
}

static void
pct_dec(struct sbuf *out, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '%' && i + 2 < n && hexval((unsigned char)p[i + 1]) >= 0 &&
		    hexval((unsigned char)p[i + 2]) >= 0) {
			sb_addc(out, (char)(hexval((unsigned char)p[i + 1]) * 16 +
			    hexval((unsigned char)p[i + 2])));
			i += 2;
		} else
			sb_addc(out, p[i]);
	}
}

/* Where the text of an RFC 2231 extended value v starts: after
 * "charset'lang'", or after "charset'" with the language's quote missing
 * (seen from a webmail) when iconv knows the charset, which it must too
 * on a segment after the first (some mailers label the first encoded
 * one); v itself when it has neither.  *cslen gets the charset's length. */
static const char *
ext_text(const char *v, int first, size_t *cslen)
{
	*cslen = 0;
	size_t l = 0;
	while (l < 40 && (isalnum((unsigned char)v[l]) || strchr("-_.:", v[l]) != NULL) && v[l])
		l++;
	if (l == 0 || v[l] != '\'')
		return v;
	const char *q2 = strchr(v + l + 1, '\'');
	if (q2 && first) {
		*cslen = l;
		return q2 + 1;
	}
	char label[48], norm[48];
	memcpy(label, v, l);
	label[l] = '\0';
	cs_norm(label, norm, sizeof(norm));
	iconv_t cd = norm[0] ? iconv_get(norm) : (iconv_t)-1;
	if (cd == (iconv_t)-1)
		return v;
	iconv_put(norm, cd);
	*cslen = l;
	return q2 ? q2 + 1 : v + l + 1;
}

/* RFC 2231 extended value "charset'lang'pct-text" appended (pct-decoded)
 * to out; its charset copied to cs when cs is still empty. */
static void
ext_value(const char *v, int first, struct sbuf *out, char *cs, size_t cssz)
{
	size_t l;
	const char *t = ext_text(v, first, &l);
	if (l && !cs[0]) {
		if (l >= cssz)
			l = cssz - 1;
		memcpy(cs, v, l);
		cs[l] = '\0';
	}
	pct_dec(out, t, strlen(t));
}

struct seg {
	unsigned idx;
	int ext;
	const char *val;
};

static int
seg_cmp(const void *a, const void *b)
{
	const struct seg *x = a, *y = b;
	return (x->idx > y->idx) - (x->idx < y->idx);
}

/* Decoded UTF-8 value of parameter name (RFC 2231 forms first, then the
 * plain one with RFC 2047 words and 8-bit guessing), or NULL. */
static char *
plist_get(struct pctx *c, const struct plist *pl, const char *name)
{
	size_t nl = strlen(name);
	char cs[48] = "";
	unsigned flags = 0;
	/* name*=charset'lang'value */
	for (size_t i = 0; i < pl->n; i++) {
		const char *pn = pl->p[i].name;
		if (strncmp(pn, name, nl) == 0 && strcmp(pn + nl, "*") == 0) {
			struct sbuf b = {0};
			sb_add(&b, "", 0);
			ext_value(pl->p[i].val, 1, &b, cs, sizeof(cs));
			char *s = cs_conv(cs[0] ? cs : NULL, b.s, b.len, &flags);
			sb_free(&b);
			cs_notes(c, flags, cs, "a parameter");
			return oneline_inplace(s);
		}
	}
	/* name*0, name*0*, name*1*, ... */
	struct seg *segs = NULL;
	size_t ns = 0;
	for (size_t i = 0; i < pl->n; i++) {
		const char *pn = pl->p[i].name;
		if (strncmp(pn, name, nl) != 0 || pn[nl] != '*')
			continue;
		const char *d = pn + nl + 1;
		unsigned idx = 0;
		size_t k = 0;
		while (d[k] >= '0' && d[k] <= '9' && k < 4)
			idx = idx * 10 + (unsigned)(d[k++] - '0');
		if (k == 0 || k == 4 || (d[k] != '\0' && strcmp(d + k, "*") != 0))
			continue;
		int dup = 0;
		for (size_t j = 0; j < ns; j++)
			if (segs[j].idx == idx)
				dup = 1;
		if (dup)
			continue;
		segs = xgrow(segs, ns, sizeof(*segs));
		segs[ns].idx = idx;
		segs[ns].ext = d[k] == '*';
		segs[ns].val = pl->p[i].val;
		ns++;
	}
	if (ns) {
		qsort(segs, ns, sizeof(*segs), seg_cmp);
		struct sbuf b = {0};
		sb_add(&b, "", 0);
		int inorder = 1;
		for (size_t j = 0; j < ns; j++) {
			if (segs[j].idx != j)
				inorder = 0;
			if (segs[j].ext) {
				/* the charset belongs to the first segment, but
				 * some mailers give it to the first encoded one */
				ext_value(segs[j].val, j == 0 && segs[j].idx == 0, &b, cs, sizeof(cs));
			} else
				sb_adds(&b, segs[j].val);
		}
		if (!inorder)
			note(c, "RFC 2231 continuations with gaps in parameter %s", name);
		free(segs);
		char *s;
		if (!cs[0] && strstr(b.s, "=?")) {
			s = hdr_decode_c(c, b.s, b.len, "a parameter");
			note(c, "RFC 2047 encoded words in parameter %s", name);
		} else {
			s = oneline_inplace(cs[0] ? cs_conv(cs, b.s, b.len, &flags)
			                           : cs_conv_hinted(c->hint, b.s, b.len, &flags));
			cs_notes(c, flags & ~(unsigned)CV_HINTED, cs[0] ? cs : c->hint, "a parameter");
		}
		sb_free(&b);
		return s;
	}
	const char *raw = plist_raw(pl, name);
	if (!raw)
		return NULL;
	if (strstr(raw, "=?")) {
		char *s = hdr_decode_c(c, raw, strlen(raw), "a parameter");
		note(c, "RFC 2047 encoded words in parameter %s", name);
		return s;
	}
	char *s = oneline_inplace(cs_conv_hinted(c->hint, raw, strlen(raw), &flags));
	if (flags & CV_HINTED)
		note(c, "8-bit parameter value %s, read as %s (the charset the message declares)",
		    name, c->hint);
	else if (flags)
		note(c, "8-bit parameter value %s, charset guessed", name);
	return s;
}

/* ------------------------------------------------------------------ */
/* guards run before libetpan sees the message */

/* Skips folding whitespace and comments after i; (size_t)-1 when that
 * runs on for more than 1024 bytes (never seen in real mail). */
static size_t
skip_cfws(const char *p, size_t n, size_t i)
{
	size_t start = i;
	while (i < n) {
		if (i - start > 1024)
			return (size_t)-1;
		if (is_wsp((unsigned char)p[i]))
			i++;
		else if (p[i] == '\n' && i + 1 < n && is_wsp((unsigned char)p[i + 1]))
			i++;
		else if (p[i] == '\r' && i + 2 < n && p[i + 1] == '\n' &&
		    is_wsp((unsigned char)p[i + 2]))
			i += 2;
		else if (p[i] == '(') {
			size_t d = 0;
			while (i < n && i - start <= 1024) {
				if (p[i] == '\\')
					i++;
				else if (p[i] == '(')
					d++;
				else if (p[i] == ')' && --d == 0)
					break;
				i++;
			}
			i++;
		} else
			break;
	}
	return i;
}

/* 1 if the boundary parameter name at p[i..) is followed by a quoted
 * string whose content starts with a quoted-pair: libetpan 1.9.4 may then
 * overflow a heap buffer. */
static int
bad_boundary_at(const char *p, size_t n, size_t i)
{
	size_t j = skip_cfws(p, n, i + 8);
	if (j == (size_t)-1)
		return 1;
	if (j >= n || p[j] != '=')
		return 0;
	j = skip_cfws(p, n, j + 1);
	if (j == (size_t)-1)
		return 1;
	return j + 1 < n && p[j] == '"' && p[j + 1] == '\\';
}

/* What the structure guard needs to know about a whole message, found in
 * one pass (the message is mostly attachment data, so this pass is a
 * visible share of the parsing time). */
struct guard_stats {
	size_t comment_depth; /* deepest '(' nesting on one logical (unfolded)
	                       * line; counts every '(' (also inside quoted
	                       * strings), so it never under-estimates what
	                       * libetpan's recursive comment parser tries */
	int bad_boundary;     /* see bad_boundary_at */
	size_t markers;       /* "multipart" and "rfc822", any case */
	size_t multi;         /* "multipart" alone */
	size_t dashes;        /* lines starting with "--" */
};

/* 0x80 in each byte of x that equals c, 0 elsewhere (exact: no carry
 * between bytes). */
static inline uint64_t
bytes_eq(uint64_t x, unsigned char c)
{
	const uint64_t lo7 = UINT64_C(0x7f7f7f7f7f7f7f7f);
	uint64_t y = x ^ (UINT64_C(0x0101010101010101) * c);
	return ~(((y & lo7) + lo7) | y | lo7);
}

/* Whether any of the 8 bytes at p would make guard_scan act: a line end,
 * a parenthesis, a backslash, or the first two letters of "multipart",
 * "boundary" or "rfc822" in any case.  p[8] must be readable (the
 * second letter of a pair starting at p[7]). */
static inline int
guard_word_hot(const char *p)
{
	uint64_t w, w1;
	memcpy(&w, p, 8);
	memcpy(&w1, p + 1, 8);
	/* | 0x20 folds exactly 'M' onto 'm' etc. for the letters tested. */
	const uint64_t fold = UINT64_C(0x2020202020202020);
	uint64_t l = w | fold, l1 = w1 | fold;
	uint64_t hit = bytes_eq(w, '\n') | bytes_eq(w, '\r') | bytes_eq(w, '(') |
	    bytes_eq(w, ')') | bytes_eq(w, '\\') |
	    (bytes_eq(l, 'm') & bytes_eq(l1, 'u')) | (bytes_eq(l, 'b') & bytes_eq(l1, 'o')) |
	    (bytes_eq(l, 'r') & bytes_eq(l1, 'f'));
	return hit != 0;
}

static void
guard_scan(const char *p, size_t n, struct guard_stats *gs)
{
	/* Bytes that start something worth a look. */
	static const unsigned char hot[256] = {
	    ['\n'] = 1, ['\r'] = 1, ['('] = 1, [')'] = 1, ['\\'] = 1,
	    ['b'] = 1, ['B'] = 1, ['m'] = 1, ['M'] = 1, ['r'] = 1, ['R'] = 1,
	};
	memset(gs, 0, sizeof(*gs));
	size_t depth = 0;
	for (size_t i = 0; i < n; i++) {
		/* Attachment data is most of a message: eight bytes at a time
		 * while none of them starts anything (the byte loop below would
		 * pass over each of them without effect). */
		while (i + 9 <= n && !guard_word_hot(p + i))
			i += 8;
		if (i >= n)
			break;
		unsigned char ch = (unsigned char)p[i];
		if (!hot[ch])
			continue;
		switch (ch) {
		case '\n':
			if (!(i + 1 < n && is_wsp((unsigned char)p[i + 1])))
				depth = 0;
			/* fall through */
		case '\r':
			if (i + 2 < n && p[i + 1] == '-' && p[i + 2] == '-')
				gs->dashes++;
			break;
		case '(':
			if (++depth > gs->comment_depth)
				gs->comment_depth = depth;
			break;
		case ')':
			if (depth)
				depth--;
			break;
		case '\\':
			if (i + 1 < n && p[i + 1] == ')')
				i++;
			break;
		/* The second letter is tested first: attachment data has
		 * these first letters every eleven bytes or so. */
		case 'b': case 'B':
			if (i + 1 < n && (p[i + 1] | 0x20) == 'o' && !gs->bad_boundary &&
			    ci_prefix(p + i, n - i, "boundary") && bad_boundary_at(p, n, i))
				gs->bad_boundary = 1;
			break;
		case 'm': case 'M':
			if (i + 1 < n && (p[i + 1] | 0x20) == 'u' &&
			    ci_prefix(p + i, n - i, "multipart")) {
				gs->multi++;
				gs->markers++;
				i += 8;
			}
			break;
		default: /* r, R */
			if (i + 1 < n && (p[i + 1] | 0x20) == 'f' && ci_prefix(p + i, n - i, "rfc822")) {
				gs->markers++;
				i += 5;
			}
			break;
		}
	}
}

/* ------------------------------------------------------------------ */
/* structural scan: libetpan's view of the tree, counted level by level */

struct scan {
	struct pctx *c;
	size_t parts;
	size_t max_depth;
};

/* First delimiter "--boundary" at or after from that starts a line the
 * way libetpan's body-part search sees it (after '\n'); *after is set past
 * the boundary.  Returns (size_t)-1 when none. */
static size_t
find_delim(const char *m, size_t len, size_t from, const char *b, size_t bl,
    size_t *after)
{
	size_t i = from;
	while (i < len) {
		const char *nl = memchr(m + i, '\n', len - i);
		if (!nl)
			return (size_t)-1;
		size_t d = (size_t)(nl - m) + 1;
		if (d + 2 + bl < len && m[d] == '-' && m[d + 1] == '-' &&
		    memcmp(m + d + 2, b, bl) == 0) {
			*after = d + 2 + bl;
			return d;
		}
		i = d;
	}
	return (size_t)-1;
}

static int scan_entity(struct scan *s, const char *m, size_t len, size_t idx,
    int default_msg, struct mailmime_fields *mf, size_t depth);

/* One part of a multipart: its own header, then its body. */
static int
scan_part(struct scan *s, const char *d, size_t n, int default_msg, size_t depth)
{
	size_t bp = 0;
	struct mailimf_fields *fields = NULL;
	struct mailmime_fields *mf = NULL;
	int r = mailimf_optional_fields_parse(d, n, &bp, &fields);
	if (r != MAILIMF_NO_ERROR && r != MAILIMF_ERROR_PARSE)
		return fail(s->c, "out of memory parsing MIME part header");
	mailimf_crlf_parse(d, n, &bp);
	if (fields) {
		mailmime_fields_parse(fields, &mf);
		mailimf_fields_free(fields);
	}
	r = scan_entity(s, d, n, bp, default_msg, mf, depth);
	if (mf)
		mailmime_fields_free(mf);
	return r;
}

/* Splits a multipart body the way mailmime_multipart_body_parse does and
 * scans each part. */
static int
scan_multipart(struct scan *s, const char *m, size_t len, size_t idx,
    const char *b, int digest, size_t depth)
{
	size_t bl = strlen(b), cur, after = 0;
	/* The first delimiter may also open the body. */
	if (idx + 2 + bl < len && m[idx] == '-' && m[idx + 1] == '-' &&
	    memcmp(m + idx + 2, b, bl) == 0)
		cur = idx + 2 + bl;
	else {
		size_t d = (size_t)-1;
		for (size_t i = idx; i + 2 + bl < len; i++) {
			if ((m[i] == '\n' || m[i] == '\r') && m[i + 1] == '-' &&
			    m[i + 2] == '-' && i + 3 + bl < len &&
			    memcmp(m + i + 3, b, bl) == 0) {
				d = i + 1;
				break;
			}
		}
		if (d == (size_t)-1)
			return scan_part(s, m + idx, len - idx, digest, depth);
		cur = d + 2 + bl;
	}
	/* Blank space and line ends after the delimiter line. */
	for (;;) {
		size_t k = cur;
		while (k < len && is_wsp((unsigned char)m[k]))
			k++;
		if (k < len && m[k] == '\n')
			cur = k + 1;
		else if (k + 1 < len && m[k] == '\r' && m[k + 1] == '\n')
			cur = k + 2;
		else
			break;
	}
	for (;;) {
		size_t start = cur, end, next;
		int final = 0;
		/* A delimiter followed by a line end... */
		size_t from = cur, d;
		for (;;) {
			d = find_delim(m, len, from, b, bl, &after);
			if (d == (size_t)-1)
				break;
			size_t k = after;
			while (k < len && is_wsp((unsigned char)m[k]))
				k++;
			if (k < len && m[k] == '\n') {
				next = k + 1;
				break;
			}
			if (k + 1 < len && m[k] == '\r' && m[k + 1] == '\n') {
				next = k + 2;
				break;
			}
			from = after;
		}
		if (d == (size_t)-1) {
			/* ...or else the close delimiter, or the end. */
			final = 1;
			from = cur;
			for (;;) {
				d = find_delim(m, len, from, b, bl, &after);
				if (d == (size_t)-1 || after >= len ||
				    (after + 1 < len && m[after] == '-' && m[after + 1] == '-'))
					break;
				from = after;
			}
			next = len;
		}
		end = d == (size_t)-1 ? len : d;
		if (d != (size_t)-1) {
			/* The line end before the delimiter is not content. */
			if (end > start && m[end - 1] == '\n')
				end--;
			if (end > start && m[end - 1] == '\r')
				end--;
		}
		if (end <= start)
			return 0;  /* libetpan drops the whole list here */
		if (scan_part(s, m + start, end - start, digest, depth) < 0)
			return -1;
		if (final)
			return 0;
		cur = next;
	}
}

static int
scan_entity(struct scan *s, const char *m, size_t len, size_t idx,
    int default_msg, struct mailmime_fields *mf, size_t depth)
{
	struct pctx *c = s->c;
	if (++s->parts > c->lim.max_parts)
		return fail(c, "part count at least %zu exceeds limit %zu", s->parts,
		    c->lim.max_parts);
	if (depth > s->max_depth)
		return fail(c, "nesting depth at least %zu exceeds limit %zu", depth,
		    s->max_depth);
	struct mailmime_content *ct = NULL;
	if (mf)
		for (clistiter *it = clist_begin(mf->fld_list); it; it = clist_next(it)) {
			struct mailmime_field *f = clist_content(it);
			if (f->fld_type == MAILMIME_FIELD_TYPE) {
				ct = f->fld_data.fld_content;
				break;
			}
		}
	int is_msg = 0, is_multi = 0;
	if (!ct)
		is_msg = default_msg;
	else if (ct->ct_type->tp_type == MAILMIME_TYPE_COMPOSITE_TYPE) {
		int t = ct->ct_type->tp_data.tp_composite_type->ct_type;
		if (t == MAILMIME_COMPOSITE_TYPE_MULTIPART)
			is_multi = 1;
		else if (t == MAILMIME_COMPOSITE_TYPE_MESSAGE &&
		    ct->ct_subtype && str_ieq(ct->ct_subtype, "rfc822"))
			is_msg = 1;
	}
	if (is_msg && mf) {
		int enc = mailmime_transfer_encoding_get(mf);
		if (enc == MAILMIME_MECHANISM_BASE64 ||
		    enc == MAILMIME_MECHANISM_QUOTED_PRINTABLE)
			is_msg = 0;
	}
	if (is_msg) {
		size_t cur = idx;
		struct mailimf_fields *fields = NULL;
		struct mailmime_fields *smf = NULL;
		int r = mailimf_envelope_and_optional_fields_parse(m, len, &cur, &fields);
		if (r != MAILIMF_NO_ERROR && r != MAILIMF_ERROR_PARSE)
			return fail(c, "out of memory parsing an embedded message header");
		mailimf_crlf_parse(m, len, &cur);
		if (fields) {
			mailmime_fields_parse(fields, &smf);
			mailimf_fields_free(fields);
		}
		r = scan_entity(s, m, len, cur, 0, smf, depth + 1);
		if (smf)
			mailmime_fields_free(smf);
		return r;
	}
	if (is_multi) {
		char *b = mailmime_extract_boundary(ct);
		if (!b)
			return 0;
		int digest = ct->ct_subtype && str_ieq(ct->ct_subtype, "digest");
		int r = scan_multipart(s, m, len, idx, b, digest, depth + 1);
		free(b);
		return r;
	}
	return 0;
}

/* The top of libetpan's tree: the message header, then the body entity. */
static int
scan_message(struct pctx *c, const char *m, size_t len, size_t max_depth,
    size_t parts_before)
{
	struct scan s = {c, parts_before, max_depth};
	size_t cur = 0;
	struct mailimf_fields *fields = NULL;
	struct mailmime_fields *mf = NULL;
	int r = mailimf_envelope_and_optional_fields_parse(m, len, &cur, &fields);
	if (r != MAILIMF_NO_ERROR && r != MAILIMF_ERROR_PARSE)
		return fail(c, "out of memory parsing the message header");
	mailimf_crlf_parse(m, len, &cur);
	if (fields) {
		mailmime_fields_parse(fields, &mf);
		mailimf_fields_free(fields);
	}
	r = scan_entity(&s, m, len, cur, 0, mf, 0);
	if (mf)
		mailmime_fields_free(mf);
	return r;
}

/* The charset of the first usable encoded word in the fields a mail
 * program writes for its user (From, Subject, To, Cc, Reply-To): the
 * charset that program writes text in, and so its unlabelled 8-bit
 * words too ("=?Windows-1252?...?=" in From, raw "Verão" in Subject). */
static void
hint_from_header(struct pctx *c, const struct hdr *h)
{
	static const char *const names[] = {"From", "Subject", "To", "Cc", "Reply-To"};
	for (size_t k = 0; k < ARRAY_LEN(names) && !c->hint[0]; k++) {
		const struct hfield *f = hdr_get(h, names[k]);
		if (!f)
			continue;
		const char *v = f->val, *e = f->val + f->vlen;
		for (const char *p = v; p + 2 < e && !c->hint[0]; p++) {
			if (p[0] != '=' || p[1] != '?')
				continue;
			const char *q = p + 2;
			while (q < e && q - p < 48 && *q != '?' && !is_lws((unsigned char)*q))
				q++;
			if (q + 2 >= e || *q != '?' || (lc((unsigned char)q[1]) != 'b' &&
			    lc((unsigned char)q[1]) != 'q') || q[2] != '?')
				continue;
			char label[48];
			size_t n = (size_t)(q - p - 2);
			memcpy(label, p + 2, n);
			label[n] = '\0';
			hint_offer(c, label);
		}
	}
}

/* Every check that must pass before libetpan parses m[0..len).  depth0
 * and parts0 are what the enclosing structure has used already. */
static int
guard_structure(struct pctx *c, const char *m, size_t len, size_t depth0)
{
	struct guard_stats gs;
	guard_scan(m, len, &gs);
	if (gs.comment_depth > MIME_COMMENT_NEST)
		return fail(c, "comment nesting %zu exceeds safety limit %d", gs.comment_depth,
		    MIME_COMMENT_NEST);
	if (gs.bad_boundary)
		return fail(c, "boundary parameter starting with a quoted-pair "
		    "(unsafe for the MIME parser)");
	if (gs.markers > MIME_MARKERS_HARD)
		return fail(c, "MIME structure too complex: %zu multipart/rfc822 "
		    "markers exceed safety limit %d", gs.markers, MIME_MARKERS_HARD);
	size_t multi = gs.multi, rfc822 = gs.markers - gs.multi, dashes = gs.dashes;
	size_t depth_bound = depth0 + 2 * multi + rfc822 + 1;
	size_t parts_bound = c->parts + dashes + multi + rfc822 + 2;
	if (depth_bound <= c->lim.max_depth && parts_bound <= c->lim.max_parts)
		return 0;
	if (depth0 > c->lim.max_depth)
		return fail(c, "nesting depth at least %zu exceeds limit %zu", depth0,
		    c->lim.max_depth);
	return scan_message(c, m, len, c->lim.max_depth - depth0, c->parts);
}

/* ------------------------------------------------------------------ */
/* HTML to text */

struct hout {
	struct sbuf sb;
	int pending;    /* line breaks owed before the next text */
	int space;      /* a space owed before the next text */
	int bol;        /* at the beginning of a line: quote prefix owed */
	int bq;         /* blockquote depth */
	int pre;        /* inside <pre> */
	size_t emitted; /* text bytes written so far */
};

static void
ho_break(struct hout *o, int n)
{
	if (o->pending < n)
		o->pending = n;
}

/* Owed line breaks; none before the first text. */
static void
ho_flush(struct hout *o)
{
	if (o->pending && o->sb.len) {
		for (int i = 0; i < o->pending; i++)
			sb_addc(&o->sb, '\n');
		o->bol = 1;
		o->space = 0;
	}
	o->pending = 0;
}

static void
ho_put(struct hout *o, char ch)
{
	if (o->bol) {
		for (int k = 0; k < o->bq; k++)
			sb_addc(&o->sb, '>');
		if (o->bq)
			sb_addc(&o->sb, ' ');
		o->bol = 0;
	}
	sb_addc(&o->sb, ch);
	o->emitted++;
}

static void
ho_text(struct hout *o, const char *t)
{
	for (const unsigned char *p = (const unsigned char *)t; *p; p++) {
		int nbsp = p[0] == 0xc2 && p[1] == 0xa0;
		int ws = is_lws(*p) || *p == '\f' || nbsp;
		if (nbsp)
			p++;
		if (o->pre) {
			if (*p == '\r')
				continue;
			ho_flush(o);
			if (*p == '\n') {
				sb_addc(&o->sb, '\n');
				o->bol = 1;
			} else
				ho_put(o, ws ? ' ' : (char)*p);
			continue;
		}
		if (ws) {
			o->space = 1;
			continue;
		}
		ho_flush(o);
		if (o->space && !o->bol && o->sb.len && o->sb.s[o->sb.len - 1] != ' ')
			ho_put(o, ' ');
		o->space = 0;
		ho_put(o, (char)*p);
	}
}

static int
tag_is(const xmlNode *n, const char *name)
{
	return n->name && xmlStrcasecmp(n->name, (const xmlChar *)name) == 0;
}

static int
tag_skip(const xmlNode *n)
{
	static const char *const skip[] = {"script", "style", "head", "title",
	    "noscript", "template", "svg", "object", "iframe", NULL};
	for (int i = 0; skip[i]; i++)
		if (tag_is(n, skip[i]))
			return 1;
	return 0;
}

/* Paragraph-like: 2 for real paragraphs, 1 for line-level blocks, 0 for
 * inline elements. */
static int
tag_block(const xmlNode *n)
{
	static const char *const two[] = {"h1", "h2", "h3", "h4", "h5", "h6",
	    "ul", "ol", "dl", "table", NULL};
	static const char *const one[] = {"div", "tr", "li", "dt", "dd", "pre",
	    "blockquote", "hr", "address", "center", "section", "article",
	    "header", "footer", "form", "fieldset", "caption", "body", "html",
	    "main", "nav", "aside", "figure", "figcaption", NULL};
	if (tag_is(n, "p")) {
		/* Outlook's <o:p> reaches us as a <p> inside a <p>: inline. */
		if (n->parent && n->parent->type == XML_ELEMENT_NODE && tag_is(n->parent, "p"))
			return 0;
		xmlChar *cls = xmlGetProp((xmlNode *)n, (const xmlChar *)"class");
		int mso = cls && xmlStrncasecmp(cls, (const xmlChar *)"Mso", 3) == 0;
		xmlFree(cls);
		return mso ? 1 : 2;
	}
	for (int i = 0; two[i]; i++)
		if (tag_is(n, two[i]))
			return 2;
	for (int i = 0; one[i]; i++)
		if (tag_is(n, one[i]))
			return 1;
	return 0;
}

static void
ho_enter(struct hout *o, const xmlNode *n, size_t *mark)
{
	*mark = o->emitted;
	int b = tag_block(n);
	if (b)
		ho_break(o, b);
	if (tag_is(n, "br"))
		o->pending = o->pending < 2 ? o->pending + 1 : 2;
	else if (tag_is(n, "li")) {
		ho_text(o, "-");
		o->space = 1;
	} else if (tag_is(n, "td") || tag_is(n, "th"))
		o->space = 1;
	else if (tag_is(n, "blockquote"))
		o->bq++;
	else if (tag_is(n, "pre"))
		o->pre++;
}

static void
ho_leave(struct hout *o, const xmlNode *n, size_t mark)
{
	int b = tag_block(n);
	if (tag_is(n, "blockquote") && o->bq)
		o->bq--;
	if (tag_is(n, "pre") && o->pre)
		o->pre--;
	if (b) {
		if (o->emitted == mark && (tag_is(n, "p") || tag_is(n, "div")) && o->sb.len)
			o->pending = o->pending < 2 ? o->pending + 1 : 2;
		else
			ho_break(o, b);
	}
	if (tag_is(n, "td") || tag_is(n, "th"))
		o->space = 1;
}

/* Trailing blanks on lines and runs of blank lines removed. */
static char *
text_tidy(char *s)
{
	struct sbuf sb = {0};
	sb_add(&sb, "", 0);
	size_t blank = 0;
	char *line = s;
	int started = 0;
	while (line) {
		char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line) : strlen(line);
		while (n && (line[n - 1] == ' ' || line[n - 1] == '\t'))
			n--;
		if (n == 0) {
			if (started)
				blank++;
		} else {
			if (started) {
				size_t k = blank > 1 ? 1 : blank;
				sb_addc(&sb, '\n');
				for (size_t i = 0; i < k; i++)
					sb_addc(&sb, '\n');
			}
			sb_add(&sb, line, n);
			started = 1;
			blank = 0;
		}
		line = nl ? nl + 1 : NULL;
	}
	free(s);
	return sb_steal(&sb);
}

char *
mime_html_to_text(const char *html, size_t len)
{
	if (!html || !len)
		return xstrdup("");
	if (len > INT_MAX)
		len = INT_MAX;
	char err[300];
	if (lazyxml_load(err, sizeof err) < 0) {
		log_error("event=html_unreadable error=%s", log_q(err));
		return xstrdup("");
	}
	char *u = utf8_valid(html, len) ? xstrndup(html, len) : mime_to_utf8(NULL, html, len);
	htmlDocPtr doc = htmlReadMemory(u, (int)strlen(u), NULL, "UTF-8",
	    HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
	    HTML_PARSE_RECOVER | HTML_PARSE_NOBLANKS);
	free(u);
	if (!doc)
		return xstrdup("");
	struct hout o;
	memset(&o, 0, sizeof(o));
	o.bol = 1;
	sb_add(&o.sb, "", 0);
	/* Iterative walk: a deep document cannot exhaust the stack. */
	size_t *marks = NULL, nmarks = 0, capm = 0;
	xmlNode *n = doc->children;
	while (n) {
		int descend = 0;
		if (n->type == XML_ELEMENT_NODE && !tag_skip(n)) {
			if (nmarks == capm) {
				capm = capm ? capm * 2 : 64;
				marks = xrealloc(marks, capm * sizeof(*marks));
			}
			ho_enter(&o, n, &marks[nmarks++]);
			if (n->children)
				descend = 1;
			else
				ho_leave(&o, n, marks[--nmarks]);
		} else if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
			if (n->content)
				ho_text(&o, (const char *)n->content);
		}
		if (descend) {
			n = n->children;
			continue;
		}
		while (n && !n->next) {
			n = n->parent;
			if (!n || n == (xmlNode *)doc)
				n = NULL;
			else if (n->type == XML_ELEMENT_NODE && nmarks)
				ho_leave(&o, n, marks[--nmarks]);
		}
		if (n)
			n = n->next;
	}
	free(marks);
	xmlFreeDoc(doc);
	char *s = utf8_sanitize(o.sb.s, o.sb.len);
	sb_free(&o.sb);
	return text_tidy(s);
}

/* ------------------------------------------------------------------ */
/* body text */

/* CRLF and CR to LF; NUL and C0 controls other than TAB/LF dropped. */
static char *
text_lf(const char *s)
{
	size_t n = strlen(s), o = 0;
	char *d = xmalloc(n + 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '\r') {
			d[o++] = '\n';
			if (i + 1 < n && s[i + 1] == '\n')
				i++;
		} else if ((ch < 0x20 && ch != '\t' && ch != '\n') || ch == 0x7f)
			continue;
		else
			d[o++] = (char)ch;
	}
	d[o] = '\0';
	return d;
}

/* RFC 3676 format=flowed: soft line breaks joined, space-stuffing undone. */
static char *
text_unflow(const char *s, int delsp)
{
	struct sbuf sb = {0};
	sb_add(&sb, "", 0);
	const char *line = s;
	int joining = 0;
	size_t joindepth = 0;
	while (line && *line) {
		const char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line) : strlen(line);
		size_t q = 0;
		while (q < n && line[q] == '>')
			q++;
		const char *t = line + q;
		size_t tn = n - q;
		if (tn && t[0] == ' ')
			t++, tn--;
		if (joining && q != joindepth) {
			sb_addc(&sb, '\n');
			joining = 0;
		}
		if (!joining)
			for (size_t i = 0; i < q; i++)
				sb_addc(&sb, '>');
		if (!joining && q)
			sb_addc(&sb, ' ');
		int sig = tn == 3 && memcmp(t, "-- ", 3) == 0;
		int soft = tn && t[tn - 1] == ' ' && !sig;
		if (soft && delsp)
			tn--;
		sb_add(&sb, t, tn);
		if (soft) {
			joining = 1;
			joindepth = q;
		} else {
			joining = 0;
			if (nl)
				sb_addc(&sb, '\n');
		}
		line = nl ? nl + 1 : NULL;
	}
	return sb_steal(&sb);
}

struct piece {
	char *s;
	int html;
};

struct tacc {
	struct piece *p;
	size_t n;
};

static void
tacc_add(struct tacc *a, char *s, int html)
{
	a->p = xrealloc(a->p, (a->n + 1) * sizeof(*a->p));
	a->p[a->n].s = s;
	a->p[a->n].html = html;
	a->n++;
}

static void
tacc_free(struct tacc *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->p[i].s);
	free(a->p);
	a->p = NULL;
	a->n = 0;
}

static void
tacc_move(struct tacc *dst, struct tacc *src)
{
	for (size_t i = 0; i < src->n; i++)
		tacc_add(dst, src->p[i].s, src->p[i].html);
	free(src->p);
	src->p = NULL;
	src->n = 0;
}

static int
tacc_has_plain(const struct tacc *a)
{
	for (size_t i = 0; i < a->n; i++)
		if (!a->p[i].html)
			for (const char *s = a->p[i].s; *s; s++)
				if (!is_lws((unsigned char)*s))
					return 1;
	return 0;
}

/* Plain text that only says the message is in HTML ("This is an HTML
 * message…", "Ihr E-Mail-Programm kann kein HTML…", "Wiadomość w
 * formacie HTML…"), as some senders put in the text/plain alternative:
 * short and naming HTML.  Any real text that short and naming HTML says
 * the same in the HTML alternative. */
#define PLACEHOLDER_MAX 400

static int
tacc_placeholder(const struct tacc *a)
{
	size_t len = 0;
	int html = 0;
	for (size_t i = 0; i < a->n; i++) {
		if (a->p[i].html)
			return 0;
		len += strlen(a->p[i].s);
		html |= strcasestr(a->p[i].s, "html") != NULL;
	}
	return html && len <= PLACEHOLDER_MAX;
}

/* ------------------------------------------------------------------ */
/* the tree walk */

struct einfo {
	char *type;        /* lowercase type/subtype */
	struct plist ct;
	struct plist cd;   /* token NULL when no Content-Disposition */
	char *cte;         /* lowercase, NULL when absent */
	char *cid;
};

static void
einfo_free(struct einfo *ei)
{
	free(ei->type);
	plist_free(&ei->ct);
	plist_free(&ei->cd);
	free(ei->cte);
	free(ei->cid);
}

static char *
ct_string(const struct mailmime_content *ct)
{
	const char *t = "text";
	if (!ct || !ct->ct_type)
		return xstrdup("text/plain");
	if (ct->ct_type->tp_type == MAILMIME_TYPE_DISCRETE_TYPE) {
		const struct mailmime_discrete_type *d = ct->ct_type->tp_data.tp_discrete_type;
		switch (d->dt_type) {
		case MAILMIME_DISCRETE_TYPE_TEXT: t = "text"; break;
		case MAILMIME_DISCRETE_TYPE_IMAGE: t = "image"; break;
		case MAILMIME_DISCRETE_TYPE_AUDIO: t = "audio"; break;
		case MAILMIME_DISCRETE_TYPE_VIDEO: t = "video"; break;
		case MAILMIME_DISCRETE_TYPE_APPLICATION: t = "application"; break;
		default: t = d->dt_extension ? d->dt_extension : "application"; break;
		}
	} else {
		const struct mailmime_composite_type *k = ct->ct_type->tp_data.tp_composite_type;
		if (k->ct_type == MAILMIME_COMPOSITE_TYPE_MESSAGE)
			t = "message";
		else if (k->ct_type == MAILMIME_COMPOSITE_TYPE_MULTIPART)
			t = "multipart";
		else
			t = k->ct_token ? k->ct_token : "application";
	}
	char *s = xasprintf("%s/%s", t, ct->ct_subtype ? ct->ct_subtype : "octet-stream");
	return oneline_inplace(str_lower(s));
}

static int
type_valid(const char *t)
{
	const char *slash = strchr(t, '/');
	if (!slash || slash == t || !slash[1])
		return 0;
	for (const char *p = t; *p; p++) {
		unsigned char ch = (unsigned char)*p;
		if (ch <= 32 || ch >= 127 || strchr("()<>@,;:\\\"[]?=", ch))
			return 0;
		if (ch == '/' && p != slash)
			return 0;
	}
	return 1;
}

static void
einfo_read(struct pctx *c, const struct hdr *h, const struct mailmime *e,
    struct einfo *ei)
{
	memset(ei, 0, sizeof(*ei));
	const struct hfield *f = hdr_get(h, "Content-Type");
	if (f) {
		char *v;
		size_t n;
		v = hf_unfold(f, &n);
		plist_parse(c, v, n, &ei->ct);
		free(v);
	}
	if (ei->ct.token && type_valid(ei->ct.token))
		ei->type = xstrdup(ei->ct.token);
	else if (ei->ct.token && strcmp(ei->ct.token, "text") == 0) {
		/* Bug trackers' and list servers' "text; charset=...": text
		 * without a subtype is plain text (RFC 2045's default). */
		note(c, "Content-Type \"text\" without a subtype read as text/plain");
		ei->type = xstrdup("text/plain");
	} else
		ei->type = ct_string(e ? e->mm_content_type : NULL);
	f = hdr_get(h, "Content-Disposition");
	if (f) {
		size_t n;
		char *v = hf_unfold(f, &n);
		plist_parse(c, v, n, &ei->cd);
		free(v);
	}
	f = hdr_get(h, "Content-Transfer-Encoding");
	if (f) {
		size_t n;
		char *v = hf_unfold(f, &n);
		size_t k = 0;
		while (k < n && v[k] != ';' && !is_lws((unsigned char)v[k]) && v[k] != '(')
			k++;
		ei->cte = lower_dup(v, k);
		free(v);
	}
	f = hdr_get(h, "Content-ID");
	if (f) {
		size_t n;
		char *v = hf_unfold(f, &n);
		char *a = strchr(v, '<');
		char *b = a ? strchr(a, '>') : NULL;
		char *id = (a && b) ? xstrndup(a + 1, (size_t)(b - a - 1)) : xstrdup(v);
		free(v);
		char *t = mime_to_utf8(NULL, id, strlen(id));
		free(id);
		oneline_inplace(t);
		if (*t)
			ei->cid = t;
		else
			free(t);
	}
}

/* Header region of an entity: from its start (or the start of the
 * enclosing message's body) to its body. */
static void
ent_body(const struct mailmime *e, const char **p, size_t *n)
{
	if (e && e->mm_body && e->mm_body->dt_type == MAILMIME_DATA_TEXT) {
		*p = e->mm_body->dt_data.dt_text.dt_data;
		*n = e->mm_body->dt_data.dt_text.dt_length;
	} else {
		*p = NULL;
		*n = 0;
	}
}

/* 1 when quoted-printable p[0..n) ends in a cut escape: '=' and one byte
 * that is not a line break, the escape's second digit missing.  Follows
 * how libetpan consumes escapes ("=XY", "=\n", "=\r\n", "=\r"), so an
 * "=" that is itself a digit of the escape before it does not count. */
static int
qp_cut_escape(const char *p, size_t n)
{
	for (size_t i = 0; i < n;) {
		if (p[i] != '=') {
			i++;
			continue;
		}
		if (i + 1 >= n)
			return 0;
		if (p[i + 1] == '\n') {
			i += 2;
		} else if (p[i + 1] == '\r') {
			if (i + 2 >= n)
				return 0;
			i += p[i + 2] == '\n' ? 3 : 2;
		} else {
			if (i + 2 >= n)
				return 1;
			i += 3;
		}
	}
	return 0;
}

/* Whether cte (NULL: none given) is one of MIME's own encodings. */
static int
cte_known(const char *cte)
{
	static const char *const known[] = {"7bit", "8bit", "binary", "base64", "quoted-printable",
	    ""};
	for (size_t i = 0; cte && i < ARRAY_LEN(known); i++)
		if (strcmp(cte, known[i]) == 0)
			return 1;
	return !cte;
}

static int uu_body(const char *p, size_t n, size_t max, char **out, size_t *outlen,
    size_t *used);

/* Whether line l[0..ll) opens a uuencoded file, "begin MODE NAME" with a
 * mode of three or four octal digits: the offset of the blank before the
 * name, 0 when not. */
static size_t
uu_begin(const char *l, size_t ll)
{
	size_t m = 6;
	if (ll <= 6 || memcmp(l, "begin ", 6) != 0)
		return 0;
	while (m < ll && l[m] >= '0' && l[m] <= '7')
		m++;
	return m >= 9 && m <= 10 && m < ll && l[m] == ' ' ? m : 0;
}

/* A part in the uuencoding some old mailers give as its transfer encoding
 * (x-uuencode, x-uue): the file between its "begin MODE NAME" line, among
 * the first lines, and "end".  0 with the file, -1 when the body is not
 * that. */
static int
uu_part(const char *p, size_t n, size_t max, char **out, size_t *outlen)
{
	for (size_t i = 0, lines = 0; i < n && lines < 8; lines++) {
		size_t next = line_next(p, n, i), used;
		if (next - i > 6 && memcmp(p + i, "begin ", 6) == 0)
			return uu_begin(p + i, next - i) &&
			        uu_body(p + next, n - next, max, out, outlen, &used) == 0 ? 0 : -1;
		i = next;
	}
	return -1;
}

static int
decode_cte(struct pctx *c, const struct einfo *ei, const char *p, size_t n,
    char **out, size_t *outlen)
{
	int mech;
	const char *cte = ei->cte ? ei->cte : "7bit";
	if (strcmp(cte, "base64") == 0)
		mech = MAILMIME_MECHANISM_BASE64;
	else if (strcmp(cte, "quoted-printable") == 0)
		mech = MAILMIME_MECHANISM_QUOTED_PRINTABLE;
	else if ((strcmp(cte, "x-uuencode") == 0 || strcmp(cte, "x-uue") == 0 ||
	             strcmp(cte, "uuencode") == 0) &&
	    uu_part(p, n, c->lim.max_attachment, out, outlen) == 0)
		return 0;
	else {
		if (!cte_known(cte))
			note(c, "unknown Content-Transfer-Encoding \"%.32s\" read as 8bit", cte);
		if (n > c->lim.max_attachment)
			return fail(c, "decoded part size %zu exceeds attachment limit %zu",
			    n, c->lim.max_attachment);
		*out = xmalloc(n + 1);
		if (n)
			memcpy(*out, p, n);
		(*out)[n] = '\0';
		*outlen = n;
		return 0;
	}
	if (mech == MAILMIME_MECHANISM_BASE64) {
		size_t alpha, pad, junk, data = b64_data_len(p, n);
		int text = strncmp(ei->type, "text/", 5) == 0;
		unsigned char *buf = xmalloc(n / 4 * 3 + 4 + (text ? n - data + 1 : 0));
		size_t len = b64_body(p, data, buf, &alpha, &pad, &junk);
		if (junk)
			note(c, "base64 with invalid characters (skipped)");
		if (alpha % 4 && !pad)
			note(c, "base64 without padding");
		if (data < n) {
			/* A list's footer or a signature appended as plain text:
			 * text to a text part, nothing to a file. */
			note(c, "plain text after the base64 data %s", text ? "read as text" : "dropped");
			if (text) {
				size_t t = data + (p[data] == '\r'); /* past the line end */
				t += t < n && p[t] == '\n';
				if (len && buf[len - 1] != '\n')
					buf[len++] = '\n';
				memcpy(buf + len, p + t, n - t);
				len += n - t;
			}
		}
		if (len > c->lim.max_attachment) {
			free(buf);
			return fail(c, "decoded part size %zu exceeds attachment limit %zu", len,
			    c->lim.max_attachment);
		}
		buf[len] = '\0';
		*out = (char *)buf;
		*outlen = len;
		return 0;
	}
	if (n == 0) {
		*out = xstrdup("");
		*outlen = 0;
		return 0;
	}
	size_t idx = 0, rl = 0;
	char *res = NULL;
	/* A cut escape: libetpan gets the body up to the '=' (which it keeps as
	 * it is) and the last byte is appended here, so "=4" stays "=4". */
	size_t cut = mech == MAILMIME_MECHANISM_QUOTED_PRINTABLE && qp_cut_escape(p, n);
	int r = mailmime_part_parse(p, n - cut, &idx, mech, &res, &rl);
	if (r != MAILIMF_NO_ERROR || !res) {
		*out = xstrdup("");
		*outlen = 0;
		return 0;
	}
	if (rl + cut > c->lim.max_attachment) {
		mmap_string_unref(res);
		return fail(c, "decoded part size %zu exceeds attachment limit %zu", rl + cut,
		    c->lim.max_attachment);
	}
	*out = xmalloc(rl + cut + 1);
	memcpy(*out, res, rl);
	if (cut)
		(*out)[rl++] = p[n - 1];
	(*out)[rl] = '\0';
	*outlen = rl;
	mmap_string_unref(res);
	return 0;
}

static void
att_free(struct mime_att *a)
{
	free(a->filename);
	free(a->content_type);
	free(a->content_id);
	free(a->data);
	free(a->spill);
}

static void
att_add(struct pctx *c, char *filename, const struct einfo *ei, char *data,
    size_t len, int is_message)
{
	c->atts = xrealloc(c->atts, (c->natts + 1) * sizeof(*c->atts));
	struct mime_att *a = &c->atts[c->natts++];
	memset(a, 0, sizeof(*a));
	a->filename = filename;
	a->content_type = xstrdup(ei->type);
	a->content_id = xstrdup(ei->cid);
	a->data = data;
	a->len = len;
	a->is_inline = ei->cd.token && strcmp(ei->cd.token, "inline") == 0;
	a->is_message = is_message;
	a->shown = ei->cid && *ei->cid && !is_message && (a->is_inline || c->related);
}

static char *
att_filename(struct pctx *c, const struct einfo *ei)
{
	char *fn = plist_get(c, &ei->cd, "filename");
	if (!fn || !*fn) {
		free(fn);
		fn = plist_get(c, &ei->ct, "name");
	}
	if (fn && !*fn) {
		free(fn);
		fn = NULL;
	}
	return fn;
}

/* The Subject of the message at m[0..n) + ".eml". */
static char *
eml_name(struct pctx *c, const char *m, size_t n)
{
	struct hdr h;
	hdr_scan(m, n, &h);
	const struct hfield *f = hdr_get(&h, "Subject");
	char *subj = NULL;
	if (f) {
		size_t l;
		char *v = hf_unfold(f, &l);
		subj = hdr_decode_c(c, v, l, "an embedded Subject");
		free(v);
	}
	hdr_free(&h);
	/* A Subject is no path: "Zamówienie 12/2026" keeps its date rather
	 * than losing all before the last slash to the file name cleaning. */
	for (char *p = subj; p && *p; p++)
		if (*p == '/' || *p == '\\')
			*p = '-';
	char *name = xasprintf("%s.eml", subj && *subj ? subj : "message");
	free(subj);
	return name;
}

/* Exchange turns the text Apple Mail and iOS put after an inline image
 * into attachments named "ATT00001.txt" / "ATT00002.htm": the rest of
 * the person's message, not a file they sent. */
static int
exchange_text_part(const char *fn, const char *type)
{
	if (!fn || (strcmp(type, "text/plain") != 0 && strcmp(type, "text/html") != 0))
		return 0;
	if (strncasecmp(fn, "ATT", 3) != 0)
		return 0;
	size_t d = 0;
	while (fn[3 + d] >= '0' && fn[3 + d] <= '9')
		d++;
	if (d < 4 || d > 6)
		return 0;
	const char *ext = fn + 3 + d;
	return strcasecmp(ext, ".txt") == 0 || strcasecmp(ext, ".htm") == 0 ||
	    strcasecmp(ext, ".html") == 0;
}

static int ent_walk(struct pctx *c, struct mailmime *e, const char *hs,
    const char *he, size_t depth, struct tacc *acc, int count_only,
    struct einfo *top);

static int
multi_children(struct pctx *c, struct mailmime *e, const char *subtype,
    size_t depth, struct tacc *acc, int count_only)
{
	clist *l = e->mm_data.mm_multipart.mm_mp_list;
	if (!l)
		return 0;
	int alt = subtype && strcmp(subtype, "alternative") == 0 && acc;
	int related = c->related, body_slot = c->body_slot;
	c->related = subtype && strcmp(subtype, "related") == 0;
	/* The first part of the message's multipart (mixed, a report, a
	 * signed one), or of one standing where the text stands, is where a
	 * mail program shows the text; a digest's parts are messages. */
	int first_slot = (depth == 1 || body_slot) && !(subtype && strcmp(subtype, "digest") == 0);
	struct tacc *alts = NULL;
	size_t nalts = 0;
	int r = 0;
	for (clistiter *it = clist_begin(l); it; it = clist_next(it)) {
		struct mailmime *ch = clist_content(it);
		c->body_slot = acc && (alt || ((c->related || first_slot) && it == clist_begin(l)));
		const char *bp;
		size_t bn;
		ent_body(ch, &bp, &bn);
		const char *hs = ch->mm_mime_start;
		const char *he = bp ? bp : hs;
		if (!hs || he < hs)
			hs = he;
		if (alt) {
			alts = xrealloc(alts, (nalts + 1) * sizeof(*alts));
			memset(&alts[nalts], 0, sizeof(*alts));
			r = ent_walk(c, ch, hs, he, depth, &alts[nalts], count_only, NULL);
			nalts++;
		} else
			r = ent_walk(c, ch, hs, he, depth, acc, count_only, NULL);
		if (r < 0)
			break;
	}
	if (alt && r == 0) {
		/* Prefer text/plain (unless it only points at the HTML one);
		 * else the last alternative that has text. */
		size_t pick = (size_t)-1;
		for (size_t i = 0; i < nalts && pick == (size_t)-1; i++)
			if (tacc_has_plain(&alts[i])) {
				if (nalts > 1 && tacc_placeholder(&alts[i]))
					note(c, "text/plain alternative only points at the HTML one");
				else
					pick = i;
			}
		for (size_t i = nalts; i-- > 0 && pick == (size_t)-1;)
			if (alts[i].n)
				pick = i;
		if (pick != (size_t)-1)
			tacc_move(acc, &alts[pick]);
	}
	for (size_t i = 0; i < nalts; i++)
		tacc_free(&alts[i]);
	free(alts);
	c->related = related;
	c->body_slot = body_slot;
	return r;
}

/* A body line "--X" that opens the parts of a multipart without a usable
 * boundary parameter. */
static char *
guess_boundary(const char *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		const char *nl = memchr(p + i, '\n', n - i);
		size_t e = nl ? (size_t)(nl - p) : n;
		size_t le = e;
		while (le > i && is_lws((unsigned char)p[le - 1]))
			le--;
		if (le - i >= 3 && p[i] == '-' && p[i + 1] == '-') {
			size_t bl = le - i - 2;
			int ok = bl <= MIME_MAX_BOUNDARY;
			for (size_t k = i + 2; k < le && ok; k++) {
				unsigned char ch = (unsigned char)p[k];
				if (ch <= 32 || ch >= 127 || ch == '"' || ch == '\\')
					ok = 0;
			}
			if (ok)
				return xstrndup(p + i + 2, bl);
		}
		i = e + 1;
	}
	return NULL;
}

static int
boundary_usable(const char *b)
{
	size_t n = strlen(b);
	if (n == 0 || n > MIME_MAX_BOUNDARY)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)b[i];
		if (ch < 32 || ch >= 127 || ch == '"' || ch == '\\')
			return 0;
	}
	return 1;
}

static int leaf_text(struct pctx *c, const struct einfo *ei, const char *p,
    size_t n, struct tacc *acc, int as_plain);

static int multi_reparse(struct pctx *c, const char *type, const char *b, const char *p,
    size_t n, size_t depth, struct tacc *acc, int count_only);

/* A multipart entity libetpan read as a single part (no usable boundary):
 * the boundary is taken from the parameter as we read it or from the body,
 * and the body parsed again behind a clean header. */
static int
multi_rescue(struct pctx *c, const struct einfo *ei, const char *p, size_t n,
    size_t depth, struct tacc *acc, int count_only)
{
	const char *bparam = plist_raw(&ei->ct, "boundary");
	char *b = NULL;
	if (bparam && boundary_usable(bparam))
		b = xstrdup(bparam);
	else
		b = guess_boundary(p, n);
	if (!b) {
		note(c, "multipart without boundary read as text");
		if (count_only)
			return 0;
		return leaf_text(c, ei, p, n, acc, 1);
	}
	note(c, "multipart without usable boundary parameter, boundary taken %s",
	    bparam && boundary_usable(bparam) ? "from a lenient reading" : "from the body");
	int r = multi_reparse(c, ei->type, b, p, n, depth, acc, count_only);
	free(b);
	return r;
}

/* The parts of a multipart of type (a "multipart/..." label) read again
 * from body p[0..n) behind a clean header naming boundary b. */
static int
multi_reparse(struct pctx *c, const char *type, const char *b, const char *p, size_t n,
    size_t depth, struct tacc *acc, int count_only)
{
	struct sbuf sb = {0};
	sb_printf(&sb, "Content-Type: %s; boundary=\"%s\"\r\n\r\n", type, b);
	sb_add(&sb, p, n);
	int r = guard_structure(c, sb.s, sb.len, depth);
	struct mailmime *root = NULL;
	size_t idx = 0;
	if (r == 0 && mailmime_parse(sb.s, sb.len, &idx, &root) != MAILIMF_NO_ERROR) {
		root = NULL;
		r = fail(c, "unparseable MIME structure");
	}
	if (r == 0 && root && root->mm_type == MAILMIME_MESSAGE &&
	    root->mm_data.mm_message.mm_msg_mime &&
	    root->mm_data.mm_message.mm_msg_mime->mm_type == MAILMIME_MULTIPLE) {
		struct mailmime *inner = root->mm_data.mm_message.mm_msg_mime;
		const char *sub = strchr(type, '/');
		r = multi_children(c, inner, sub ? sub + 1 : "mixed", depth + 1, acc,
		    count_only);
	}
	if (root)
		mailmime_free(root);
	sb_free(&sb);
	return r;
}

/* Files by their first bytes.  named: the type stands before the file
 * name's (a .docx is a ZIP, but a .docx). */
static const struct {
	const char *magic;
	size_t n;
	const char *type;
	int named;
} MAGIC[] = {
	{"%PDF", 4, "application/pdf", 1},
	{"\xff\xd8\xff", 3, "image/jpeg", 1},
	{"\x89PNG\r\n\x1a\n", 8, "image/png", 1},
	{"GIF8", 4, "image/gif", 1},
	{"II*\0", 4, "image/tiff", 1},
	{"MM\0*", 4, "image/tiff", 1},
	{"PK\3\4", 4, "application/zip", 0},
	{"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8, "application/x-ole-storage", 0},
	{"Rar!\x1a\x07", 6, "application/vnd.rar", 0},
	{"7z\xbc\xaf\x27\x1c", 6, "application/x-7z-compressed", 0},
	{"MZ", 2, "application/x-msdownload", 0},
	{"\x1f\x8b", 2, "application/gzip", 0},
};

/* The type data[0..len) has by its first bytes (a two-byte mark only
 * with a NUL byte in the first 4 KB), named ones alone if only_named;
 * NULL when none. */
static const char *
magic_type(const char *data, size_t len, int only_named)
{
	for (size_t i = 0; data && i < ARRAY_LEN(MAGIC); i++)
		if ((MAGIC[i].named || !only_named) && len >= MAGIC[i].n &&
		    memcmp(data, MAGIC[i].magic, MAGIC[i].n) == 0 &&
		    (MAGIC[i].n > 2 || memchr(data, '\0', len < 4096 ? len : 4096)))
			return MAGIC[i].type;
	return NULL;
}

const char *
mime_type_guess(const char *name, const char *data, size_t len)
{
	static const struct { const char *ext, *type; } ext[] = {
		{"pdf", "application/pdf"}, {"jpg", "image/jpeg"}, {"jpeg", "image/jpeg"},
		{"png", "image/png"}, {"gif", "image/gif"}, {"tif", "image/tiff"},
		{"tiff", "image/tiff"}, {"svg", "image/svg+xml"}, {"eps", "application/postscript"},
		{"ps", "application/postscript"}, {"ai", "application/postscript"},
		{"zip", "application/zip"}, {"txt", "text/plain"}, {"csv", "text/csv"},
		{"doc", "application/msword"},
		{"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
		{"xls", "application/vnd.ms-excel"},
		{"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
		{"odt", "application/vnd.oasis.opendocument.text"},
		{"ods", "application/vnd.oasis.opendocument.spreadsheet"},
	};
	const char *t = magic_type(data, len, 1);
	if (t)
		return t;
	const char *dot = name ? strrchr(name, '.') : NULL;
	for (size_t i = 0; dot && i < ARRAY_LEN(ext); i++)
		if (str_ieq(dot + 1, ext[i].ext))
			return ext[i].type;
	return "application/octet-stream";
}

/* uuencoded files in plain text (old mail programs, scanners, scripts):
 * "begin MODE NAME", lines of which the first character gives the byte
 * count, a zero-length line, "end".  Only a block that is well formed
 * throughout is taken out of the text and becomes an attachment; at most
 * UU_MAX per part. */
#define UU_MAX 20

static int
uu_val(int ch)
{
	return (ch - ' ') & 63;
}

/* Decodes the lines at p[0..n) up to and including "end"; 0 with *out,
 * *outlen and *used (bytes consumed), -1 when not a whole uuencoded body. */
static int
uu_body(const char *p, size_t n, size_t max, char **out, size_t *outlen, size_t *used)
{
	struct sbuf sb = {0};
	size_t i = 0, whole = 0, shortened = 0;
	int ended = 0;
	while (i < n) {
		const char *nl = memchr(p + i, '\n', n - i);
		size_t e = nl ? (size_t)(nl - p) : n, le = e;
		if (le > i && p[le - 1] == '\r')
			le--;
		const char *l = p + i;
		size_t ll = le - i;
		i = nl ? e + 1 : n;
		size_t words = ll; /* without trailing spaces, for "end" */
		while (words && l[words - 1] == ' ')
			words--;
		if (words == 3 && memcmp(l, "end", 3) == 0) {
			ended = 1;
			break;
		}
		if (ll == 0)
			continue; /* the empty line some encoders put before "end" */
		if (l[0] < ' ' || l[0] > '`')
			break;
		size_t cnt = (size_t)uu_val(l[0]);
		if (cnt == 0)
			continue; /* the last line before "end" */
		/* A space is a character worth zero, and transports cut trailing
		 * spaces: the missing ones are zeros (spaces past the line's
		 * length are dropped).  Such short lines are taken in a block
		 * that has whole ones; a block of short lines alone is a cut
		 * one, not uuencoding. */
		size_t want = (cnt + 2) / 3 * 4;
		while (ll - 1 > want && l[ll - 1] == ' ')
			ll--;
		if (ll - 1 > want + 2)
			break;
		if (ll - 1 < (cnt * 4 + 2) / 3)
			shortened++;
		else
			whole++;
		unsigned char q[4];
		for (size_t k = 0; k < cnt; k += 3) {
			for (size_t j = 0; j < 4; j++) {
				size_t at = 1 + k / 3 * 4 + j;
				int ch = at < ll ? (unsigned char)l[at] : ' ';
				if (ch < ' ' || ch > '`') {
					sb_free(&sb);
					return -1;
				}
				q[j] = (unsigned char)uu_val(ch);
			}
			unsigned char b[3] = {(unsigned char)(q[0] << 2 | q[1] >> 4),
			    (unsigned char)(q[1] << 4 | q[2] >> 2), (unsigned char)(q[2] << 6 | q[3])};
			sb_add(&sb, (const char *)b, cnt - k < 3 ? cnt - k : 3);
		}
		if (sb.len > max)
			break;
	}
	if (!ended || sb.len > max || (shortened && !whole)) {
		sb_free(&sb);
		return -1;
	}
	*outlen = sb.len;
	*out = sb.len ? sb_steal(&sb) : xstrdup("");
	*used = i;
	return 0;
}

/* Takes the uuencoded files out of text t (LF line ends) into attachments;
 * returns the text without them (t itself when there are none). */
static char *
uu_extract(struct pctx *c, const struct einfo *ei, char *t)
{
	struct sbuf rest = {0};
	size_t len = strlen(t), i = 0, from = 0, found = 0;
	while (i < len && found < UU_MAX) {
		const char *nl = memchr(t + i, '\n', len - i);
		size_t e = nl ? (size_t)(nl - t) : len;
		size_t next = nl ? e + 1 : len;
		const char *l = t + i;
		size_t ll = e - i, m = uu_begin(l, ll);
		if (m && m + 1 < ll) {
			char *data;
			size_t dlen, used;
			if (uu_body(t + next, len - next, c->lim.max_attachment, &data, &dlen,
			        &used) == 0) {
				char *name = xstrndup(l + m + 1, ll - m - 1);
				char *tr = name + strlen(name);
				while (tr > name && (tr[-1] == ' ' || tr[-1] == '\r'))
					*--tr = '\0';
				att_add(c, name, ei, data, dlen, 0);
				struct mime_att *a = &c->atts[c->natts - 1];
				free(a->content_type);
				a->content_type = xstrdup(mime_type_guess(name, data, dlen));
				sb_add(&rest, t + from, i - from);
				from = i = next + used;
				found++;
				continue;
			}
		}
		i = next;
	}
	if (!found)
		return t;
	sb_add(&rest, t + from, len - from);
	free(t);
	note(c, "uuencoded file in a text part");
	return rest.s ? sb_steal(&rest) : xstrdup("");
}

/* Inline PGP signing (RFC 4880 cleartext signature, Enigmail and GnuPG
 * users): the armour lines around the text and the dash escapes inside it
 * go, so a command on the first line is the first line.  Only a text that
 * starts with the armour and holds the signature's end is changed; the
 * signature is not checked. */
static char *
pgp_clear(struct pctx *c, char *t)
{
	static const char head[] = "-----BEGIN PGP SIGNED MESSAGE-----\n";
	static const char sig[] = "\n-----BEGIN PGP SIGNATURE-----\n";
	static const char end[] = "-----END PGP SIGNATURE-----";
	size_t hl = sizeof(head) - 1;
	if (strncmp(t, head, hl) != 0)
		return t;
	/* The armour header lines (Hash: ...) end with a blank line. */
	char *body = strstr(t + hl - 1, "\n\n");
	if (!body)
		return t;
	body += 2;
	char *s = strstr(body - 1, sig);
	if (!s || !strstr(s, end))
		return t;
	struct sbuf sb = {0};
	for (char *l = body; l < s + 1;) {
		char *nl = memchr(l, '\n', (size_t)(s + 1 - l));
		size_t n = nl ? (size_t)(nl - l) + 1 : (size_t)(s + 1 - l);
		if (n >= 2 && l[0] == '-' && l[1] == ' ')
			sb_add(&sb, l + 2, n - 2); /* "- -" escapes a line's leading dash */
		else
			sb_add(&sb, l, n);
		l += n;
	}
	char *after = strstr(s, end) + sizeof(end) - 1;
	while (*after == '\r' || *after == '\n')
		after++;
	if (*after) {
		sb_addc(&sb, '\n');
		sb_adds(&sb, after);
	}
	free(t);
	note(c, "inline PGP signature removed (not checked)");
	return sb.s ? sb_steal(&sb) : xstrdup("");
}

/* Encrypted mail (RFC 1847 multipart/encrypted: PGP/MIME from Thunderbird,
 * Enigmail, Mailvelope, GpgOL; or an inline "BEGIN PGP MESSAGE" block)
 * cannot be read without the recipient's key.  Its parts stay as they are
 * (the raw message is kept); the message says it is encrypted, so the
 * people who get the inquiry know why there is no text. */
static void
encrypted_multipart(struct pctx *c, const struct einfo *ei)
{
	const char *proto = plist_raw(&ei->ct, "protocol");
	if (proto && str_ieq(proto, "application/pgp-encrypted")) {
		c->encrypted |= MIME_ENC_PGP;
		note(c, "encrypted OpenPGP message (PGP/MIME) cannot be read without the "
		        "recipient's key");
	} else {
		c->encrypted |= MIME_ENC_OTHER;
		note(c, "encrypted message (multipart/encrypted, protocol %.80s) cannot be read",
		    proto && *proto ? proto : "not given");
	}
}

static void
pgp_encrypted_text(struct pctx *c, const char *t)
{
	static const char armour[] = "-----BEGIN PGP MESSAGE-----";
	for (const char *p = strstr(t, armour); p; p = strstr(p + 1, armour))
		if (p == t || p[-1] == '\n') {
			c->encrypted |= MIME_ENC_PGP;
			note(c, "encrypted OpenPGP text cannot be read without the recipient's key");
			return;
		}
}

/* Rich text some clients send as the message body: RTF (Outlook, Lotus
 * Notes), text/enriched (Eudora, old Apple Mail), text/richtext. */
enum rich { RICH_NONE, RICH_RTF, RICH_ENRICHED, RICH_RICHTEXT };

static enum rich
rich_type(const char *type)
{
	if (strcmp(type, "text/rtf") == 0)
		return RICH_RTF;
	if (strcmp(type, "text/enriched") == 0)
		return RICH_ENRICHED;
	if (strcmp(type, "text/richtext") == 0)
		return RICH_RICHTEXT;
	return RICH_NONE;
}

static void text_add(struct pctx *c, const struct einfo *ei, char *data, size_t len,
    struct tacc *acc, int as_plain);

static int
leaf_text(struct pctx *c, const struct einfo *ei, const char *p, size_t n,
    struct tacc *acc, int as_plain)
{
	char *data;
	size_t len;
	if (decode_cte(c, ei, p, n, &data, &len) < 0)
		return -1;
	text_add(c, ei, data, len, acc, as_plain);
	return 0;
}

/* The decoded text part data[0..len) (NUL-terminated, taken over) read
 * into acc as text. */
static void
text_add(struct pctx *c, const struct einfo *ei, char *data, size_t len, struct tacc *acc,
    int as_plain)
{
	/* A file sent as a text part (a ZIP or a program as "text/html" in
	 * spam, a PDF or PNG as "text/plain" from a broken mailer), by its
	 * first bytes.  NUL bytes alone do not make one: broken
	 * quoted-printable text has them too. */
	const char *bin = magic_type(data, len, 0);
	if (bin) {
		note(c, "%s part holding %s data kept as a file", ei->type, bin);
		att_add(c, NULL, ei, data, len, 0);
		free(c->atts[c->natts - 1].content_type);
		c->atts[c->natts - 1].content_type = xstrdup(bin);
		return;
	}
	enum rich rich = as_plain ? RICH_NONE : rich_type(ei->type);
	if (rich == RICH_RTF) {
		char *t = rtf_plain_text(data, len, NULL);
		if (t) { /* else not RTF after all: read as the text it is */
			free(data);
			note(c, "text read from a text/rtf part");
			tacc_add(acc, t, 0);
			return;
		}
	}
	const char *cs = plist_raw(&ei->ct, "charset");
	int html = !as_plain && strcmp(ei->type, "text/html") == 0;
	char sniff[48] = "";
	if (html && (!cs || !*cs)) {
		/* <meta charset=...> in the first 2 KB */
		size_t lim = len < 2048 ? len : 2048;
		for (size_t i = 0; i + 8 < lim; i++)
			if (ci_prefix(data + i, lim - i, "charset=")) {
				size_t k = i + 8, o = 0;
				while (k < lim && (data[k] == '"' || data[k] == '\''))
					k++;
				while (k < lim && o + 1 < sizeof(sniff) &&
				    (isalnum((unsigned char)data[k]) || data[k] == '-' ||
				    data[k] == '_' || data[k] == '.' || data[k] == ':'))
					sniff[o++] = data[k++];
				sniff[o] = '\0';
				break;
			}
		if (sniff[0])
			cs = sniff;
	}
	unsigned flags = 0;
	char *u;
	if (cs && *cs) {
		hint_offer(c, cs);
		u = cs_conv(cs, data, len, &flags);
	} else
		u = cs_conv_hinted(c->hint, data, len, &flags);
	free(data);
	/* A byte-order mark (Notepad, some webmail) is not text: it would
	 * stand before a first-line command. */
	if (strncmp(u, "\xef\xbb\xbf", 3) == 0)
		memmove(u, u + 3, strlen(u + 3) + 1);
	cs_notes(c, flags & ~(unsigned)(CV_GUESSED | CV_HINTED), cs && *cs ? cs : c->hint,
	    "a text part");
	if (flags & CV_GUESSED)
		note(c, "undeclared 8-bit text in a body part, charset guessed");
	if (flags & CV_HINTED)
		note(c, "undeclared 8-bit text in a body part, read as %s (the charset the message "
		        "declares)", c->hint);
	if (html) {
		tacc_add(acc, u, 1);
		return;
	}
	if (rich == RICH_ENRICHED || rich == RICH_RICHTEXT) {
		char *t = enriched_to_text(u, strlen(u), rich == RICH_RICHTEXT);
		free(u);
		note(c, "text read from a %s part", ei->type);
		tacc_add(acc, t, 0);
		return;
	}
	char *t = pgp_clear(c, uu_extract(c, ei, text_lf(u)));
	free(u);
	pgp_encrypted_text(c, t);
	const char *fmt = plist_raw(&ei->ct, "format");
	if (fmt && str_ieq(fmt, "flowed")) {
		const char *ds = plist_raw(&ei->ct, "delsp");
		char *f = text_unflow(t, ds && str_ieq(ds, "yes"));
		free(t);
		t = f;
	}
	tacc_add(acc, t, 0);
}

static int
leaf_walk(struct pctx *c, struct mailmime *e, const struct einfo *ei,
    size_t depth, struct tacc *acc, int count_only)
{
	const char *p;
	size_t n;
	ent_body(e, &p, &n);
	if (strncmp(ei->type, "multipart/", 10) == 0)
		return multi_rescue(c, ei, p, n, depth, acc, count_only);
	if (count_only)
		return 0;
	if (strcmp(ei->type, "message/rfc822") == 0 || strcmp(ei->type, "message/global") == 0) {
		char *data;
		size_t len;
		if (ei->cte && (strcmp(ei->cte, "base64") == 0 ||
		    strcmp(ei->cte, "quoted-printable") == 0))
			note(c, "message/rfc822 part with %s transfer encoding", ei->cte);
		if (decode_cte(c, ei, p, n, &data, &len) < 0)
			return -1;
		char *fn = att_filename(c, ei);
		if (!fn)
			fn = eml_name(c, data, len);
		att_add(c, fn, ei, data, len, 1);
		return 0;
	}
	char *fn = att_filename(c, ei);
	int marked = ei->cd.token && strcmp(ei->cd.token, "attachment") == 0;
	int text = strcmp(ei->type, "text/plain") == 0 || strcmp(ei->type, "text/html") == 0;
	int is_att = fn != NULL || marked || !text;
	if (is_att && exchange_text_part(fn, ei->type)) {
		note(c, "Exchange's %s read as the text it holds", fn);
		is_att = 0;
	}
	/* Rich text without a file name that is not marked as an
	 * attachment is the message's body in that format. */
	if (is_att && !fn && rich_type(ei->type) != RICH_NONE && !marked)
		is_att = 0;
	if (!is_att || !acc) {
		free(fn);
		if (!acc)
			return 0;
		return leaf_text(c, ei, p, n, acc, 0);
	}
	/* A named text part not marked as an attachment where the message's
	 * text stands -- the message's one part (a script's HTML sent
	 * "inline; filename=x.html"), the first part of its multipart, an
	 * alternative, or the root of a multipart/related (mailers that name
	 * their body parts) -- is shown by mail programs as the message: its
	 * text, and the file. */
	char *data;
	size_t len;
	if (decode_cte(c, ei, p, n, &data, &len) < 0) {
		free(fn);
		return -1;
	}
	if ((depth == 0 || c->body_slot) && fn && !marked && text && cte_known(ei->cte) &&
	    !magic_type(data, len, 0)) {
		if (depth == 0)
			note(c, "the message's one part, %s, named %s, read as its text too",
			    ei->type, fn);
		else
			note(c, "%s part named %s where the text stands read as its text too",
			    ei->type, fn);
		/* the text from a copy of the decoded bytes, not a second
		 * decoding; the bytes themselves are the file */
		char *copy = xmalloc(len + 1);
		memcpy(copy, data, len + 1);
		text_add(c, ei, copy, len, acc, 0);
	}
	att_add(c, fn, ei, data, len, 0);
	if (p && c->base && p >= c->base && n <= c->baselen &&
	    (size_t)(p - c->base) <= c->baselen - n) {
		struct mime_att *a = &c->atts[c->natts - 1];
		a->body_off = (size_t)(p - c->base);
		a->base64 = ei->cte && strcmp(ei->cte, "base64") == 0;
		a->body_len = a->base64 ? b64_data_len(p, n) : n;
	}
	return 0;
}

static int
message_walk(struct pctx *c, struct mailmime *e, const struct einfo *ei,
    size_t depth, int count_only)
{
	const char *p;
	size_t n;
	ent_body(e, &p, &n);
	if (!count_only) {
		if (n > c->lim.max_attachment)
			return fail(c, "embedded message size %zu exceeds attachment limit %zu",
			    n, c->lim.max_attachment);
		char *fn = att_filename(c, ei);
		if (!fn)
			fn = eml_name(c, p, n);
		char *data = xmalloc(n + 1);
		if (n)
			memcpy(data, p, n);
		data[n] = '\0';
		att_add(c, fn, ei, data, n, 1);
	}
	struct mailmime *inner = e->mm_data.mm_message.mm_msg_mime;
	if (!inner)
		return 0;
	const char *ip;
	size_t in;
	ent_body(inner, &ip, &in);
	const char *he = ip ? ip : p;
	if (!p || he < p)
		return 0;
	return ent_walk(c, inner, p, he, depth + 1, NULL, 1, NULL);
}

/* Final-boundary check for a multipart's body. */
static void
check_close(struct pctx *c, struct mailmime *e)
{
	char *b = mailmime_extract_boundary(e->mm_content_type);
	if (!b)
		return;
	const char *p;
	size_t n, bl = strlen(b), after;
	ent_body(e, &p, &n);
	int closed = 0;
	if (p) {
		size_t from = 0;
		if (n >= bl + 4 && p[0] == '-' && p[1] == '-' && memcmp(p + 2, b, bl) == 0 &&
		    p[2 + bl] == '-' && p[3 + bl] == '-')
			closed = 1;
		while (!closed) {
			size_t d = find_delim(p, n, from, b, bl, &after);
			if (d == (size_t)-1)
				break;
			if (after + 1 < n && p[after] == '-' && p[after + 1] == '-')
				closed = 1;
			from = after;
		}
	}
	if (!closed)
		note(c, "missing final boundary");
	free(b);
}

/* What a line of a multipart body is to boundary b: DL_OPEN "--b", DL_CLOSE
 * "--b--" (each with trailing blanks), DL_BLANK only blanks, DL_TEXT else. */
enum { DL_TEXT, DL_BLANK, DL_OPEN, DL_CLOSE };
enum { TIDY_EMPTY = 1, TIDY_HEADERLESS = 2, TIDY_CLOSE_DASH = 4 }; /* what multi_tidy mended */

static int
delim_line(const char *p, size_t n, const char *b, size_t bl)
{
	while (n && is_lws((unsigned char)p[n - 1]))
		n--;
	if (n == 0)
		return DL_BLANK;
	if (n < 2 + bl || p[0] != '-' || p[1] != '-' || memcmp(p + 2, b, bl) != 0)
		return DL_TEXT;
	if (n == 2 + bl)
		return DL_OPEN;
	if (n == 4 + bl && p[2 + bl] == '-' && p[3 + bl] == '-')
		return DL_CLOSE;
	return DL_TEXT;
}

/* Whether the line p[0..n) is "--b-": a close delimiter one dash short. */
static int
close_dash(const char *p, size_t n, const char *b, size_t bl)
{
	while (n && is_lws((unsigned char)p[n - 1]))
		n--;
	return n == 3 + bl && p[2 + bl] == '-' && delim_line(p, 2 + bl, b, bl) == DL_OPEN;
}

/* The start of the first line from p[j] on that is not blank (n at the
 * end of the body), its kind in *kind (DL_BLANK at the end). */
static size_t
skip_blank_lines(const char *p, size_t n, size_t j, const char *b, size_t bl, int *kind)
{
	*kind = DL_BLANK;
	while (j < n) {
		size_t e = line_next(p, n, j);
		int k = delim_line(p + j, e - j, b, bl);
		if (k != DL_BLANK) {
			*kind = k;
			break;
		}
		j = e;
	}
	return j;
}

/* Whether the line p[j..k) is empty: its line end and nothing else. */
static int
empty_line(const char *p, size_t j, size_t k)
{
	return (k - j == 1 && p[j] == '\n') || (k - j == 2 && p[j] == '\r' && p[j + 1] == '\n');
}

/* Whether p[0..n) starts with a header field name and its colon. */
static int
field_like(const char *p, size_t n)
{
	size_t k = 0;
	while (k < n && p[k] > ' ' && p[k] < 127 && p[k] != ':')
		k++;
	return k > 0 && k < n && p[k] == ':';
}

/* A part whose delimiter line is followed at once by an empty line has no
 * header: what follows is its body, of the multipart's default type.
 * libetpan skips that empty line and takes the body's first lines for
 * the part's header when they look like header fields ("From:",
 * "Subject:": a digest's messages, a forwarded header pasted in), and
 * they are lost.  The start of such a body at line e, or 0.  Outside a
 * digest a block holding MIME fields is left to libetpan's reading (a
 * mailer that put an empty line before the part's header). */
static size_t
headerless_part(const char *p, size_t n, size_t e, const char *b, size_t bl, int digest)
{
	size_t e2 = line_next(p, n, e);
	if (!empty_line(p, e, e2))
		return 0;
	if (!field_like(p + e2, n - e2))
		return 0;
	for (size_t j = e2; !digest && j < n;) {
		size_t k = line_next(p, n, j);
		if (empty_line(p, j, k) || delim_line(p + j, k - j, b, bl) != DL_TEXT)
			break;
		if ((k - j > 8 && strncasecmp(p + j, "content-", 8) == 0) ||
		    (k - j > 12 && strncasecmp(p + j, "mime-version", 12) == 0))
			return 0;
		j = k;
	}
	return e2;
}

/* Whether the part header that starts at p[j] says Content-Type multipart. */
static int
multipart_header(const char *p, size_t n, size_t j)
{
	while (j < n) {
		size_t e = line_next(p, n, j);
		if (empty_line(p, j, e))
			break;
		if (ci_prefix(p + j, e - j, "content-type:")) {
			size_t k = j + 13;
			while (k < e && is_lws((unsigned char)p[k]))
				k++;
			return ci_prefix(p + k, e - k, "multipart/");
		}
		j = e;
	}
	return 0;
}

/* A multipart body p[0..n) as a mail client reads it, for libetpan:
 * without its empty parts -- a delimiter line followed by nothing but
 * blank lines up to the next delimiter or the end of the body ("--b"
 * written where "--b--" belongs, "--b" twice) -- and with a close
 * delimiter that has parts after it read as a plain delimiter.  libetpan
 * cannot read an empty part: it drops every part of the multipart when
 * the last one is empty, and otherwise takes the next delimiter for the
 * empty part's text; it reads on after an early close and shows that
 * delimiter as text.  A "--b-" after the last delimiter is the close
 * delimiter it means, and a missing close delimiter is added when
 * libetpan read fewer than the parts there are (have).  Returns NULL when
 * the body needs none of this;
 * *parts gets the number of parts left. */
static char *
multi_tidy(const char *p, size_t n, const char *b, int digest, size_t have, size_t *outlen,
    size_t *parts, unsigned *did)
{
	size_t bl = strlen(b), i = 0, copied = 0, last_open = 0, dash = n;
	int any_open = 0, closed = 0;
	for (size_t j = 0; j < n;) {
		size_t e = line_next(p, n, j);
		int k = delim_line(p + j, e - j, b, bl);
		if (k == DL_OPEN) {
			last_open = j;
			any_open = 1;
			closed = 0;
			dash = n;
		} else if (k == DL_CLOSE)
			closed = 1;
		else if (k == DL_TEXT && dash == n && any_open && !closed &&
		         close_dash(p + j, e - j, b, bl))
			dash = j;
		j = e;
	}
	if (dash < n) {
		/* "--b-" after the last delimiter (an MMS gateway's close):
		 * libetpan drops every part before it when the part before is
		 * empty, so it is made the close delimiter it means. */
		char *fixed = xmalloc(n + 1);
		memcpy(fixed, p, dash + 3 + bl);
		fixed[dash + 3 + bl] = '-';
		memcpy(fixed + dash + 4 + bl, p + dash + 3 + bl, n - dash - 3 - bl);
		char *out = multi_tidy(fixed, n + 1, b, digest, have, outlen, parts, did);
		*did |= TIDY_CLOSE_DASH;
		if (out) {
			free(fixed);
			return out;
		}
		*outlen = n + 1;
		return fixed;
	}
	struct sbuf sb = {0};
	int changed = 0;
	*parts = 0;
	while (i < n) {
		size_t e = line_next(p, n, i);
		int k = delim_line(p + i, e - i, b, bl);
		if (k == DL_TEXT || k == DL_BLANK) {
			i = e;
			continue;
		}
		if (k == DL_CLOSE && !(any_open && last_open > i))
			break;
		int next;
		size_t j = skip_blank_lines(p, n, e, b, bl, &next);
		if (next == DL_TEXT) {
			if (k == DL_CLOSE) {
				/* "--b--" -> "--b" */
				sb_add(&sb, p + copied, i + 2 + bl - copied);
				copied = i + 4 + bl;
				changed = 1;
				*did |= TIDY_EMPTY;
			} else if (headerless_part(p, n, e, b, bl, digest)) {
				/* the default type said, so that the body is read
				 * as the body */
				sb_add(&sb, p + copied, e - copied);
				sb_adds(&sb, digest ? "Content-Type: message/rfc822" : "Content-Type: text/plain");
				sb_adds(&sb, e >= 2 && p[e - 2] == '\r' ? "\r\n" : "\n");
				copied = e;
				changed = 1;
				*did |= TIDY_HEADERLESS;
			}
			(*parts)++;
			i = e;
			continue;
		}
		sb_add(&sb, p + copied, i - copied);
		copied = j;
		changed = 1;
		*did |= TIDY_EMPTY;
		i = j;
	}
	/* No close delimiter after the last part (a message cut short):
	 * libetpan reads fewer parts than there are, or drops the last part
	 * of a multipart inside that last part, and with it a cut message's
	 * text. */
	int close = any_open && !closed &&
	            (have < *parts || multipart_header(p, n, line_next(p, n, last_open)));
	if (!changed && !close) {
		sb_free(&sb);
		return NULL;
	}
	sb_add(&sb, p + copied, n - copied);
	if (close) {
		const char *nl = memchr(p, '\n', n);
		nl = nl && nl > p && nl[-1] == '\r' ? "\r\n" : "\n";
		if (sb.len && sb.s[sb.len - 1] != '\n')
			sb_adds(&sb, nl);
		/* The line break before a delimiter is the delimiter's: one
		 * more, so that the last part keeps its own (and a header cut
		 * off at its empty line still ends). */
		sb_printf(&sb, "%s--%s--%s", nl, b, nl);
	}
	*outlen = sb.len;
	return sb_steal(&sb);
}

static int
ent_walk(struct pctx *c, struct mailmime *e, const char *hs, const char *he,
    size_t depth, struct tacc *acc, int count_only, struct einfo *top)
{
	if (c->failed)
		return -1;
	if (++c->parts > c->lim.max_parts)
		return fail(c, "part count at least %zu exceeds limit %zu", c->parts,
		    c->lim.max_parts);
	if (depth > c->lim.max_depth)
		return fail(c, "nesting depth at least %zu exceeds limit %zu", depth,
		    c->lim.max_depth);
	struct hdr h;
	hdr_scan(hs, (size_t)(he - hs), &h);
	if (!top && hdr_check_lines(c, &h, "part") < 0) {
		hdr_free(&h);
		return -1;
	}
	struct einfo ei;
	einfo_read(c, &h, e, &ei);
	hdr_free(&h);
	int r;
	if (e->mm_type == MAILMIME_MULTIPLE) {
		const char *st = e->mm_content_type ? e->mm_content_type->ct_subtype : NULL;
		if (!st) {
			const char *sl = strchr(ei.type, '/');
			st = sl ? sl + 1 : "mixed";
		}
		char *subtype = lower_dup(st, strlen(st));
		if (!count_only) {
			check_close(c, e);
			if (strcmp(subtype, "encrypted") == 0)
				encrypted_multipart(c, &ei);
		}
		char *b = mailmime_extract_boundary(e->mm_content_type);
		const char *p;
		size_t n, cn = 0, parts = 0;
		unsigned did = 0;
		ent_body(e, &p, &n);
		clist *kids = e->mm_data.mm_multipart.mm_mp_list;
		char *clean = b && p && boundary_usable(b) ?
		    multi_tidy(p, n, b, strcmp(subtype, "digest") == 0, kids ? (size_t)clist_count(kids) : 0,
		        &cn, &parts, &did) : NULL;
		if (clean) {
			if (!count_only && (did & TIDY_EMPTY))
				note(c, "empty MIME part dropped or early close delimiter read as a delimiter");
			if (!count_only && (did & TIDY_HEADERLESS))
				note(c, "MIME part without a header: its first lines read as its text, not as its header");
			if (!count_only && (did & TIDY_CLOSE_DASH))
				note(c, "close delimiter one dash short read as the close delimiter");
			char *type = xasprintf("multipart/%s", subtype);
			r = parts ? multi_reparse(c, type, b, clean, cn, depth, acc, count_only) : 0;
			free(type);
			free(clean);
		} else
			r = multi_children(c, e, subtype, depth + 1, acc, count_only);
		free(b);
		free(subtype);
	} else if (e->mm_type == MAILMIME_MESSAGE)
		r = message_walk(c, e, &ei, depth, count_only);
	else
		r = leaf_walk(c, e, &ei, depth, acc, count_only);
	if (top)
		*top = ei;
	else
		einfo_free(&ei);
	return r;
}

/* ------------------------------------------------------------------ */
/* addresses, message ids, dates */

struct addr {
	char *name;  /* raw display name (may be quoted / encoded) or NULL */
	char *addr;  /* raw addr-spec */
};

static void
addrs_free(struct addr *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(a[i].name);
		free(a[i].addr);
	}
	free(a);
}

static void
addrs_push(struct addr **a, size_t *n, char *name, char *addr)
{
	*a = xgrow(*a, *n, sizeof(**a));
	(*a)[*n].name = name;
	(*a)[*n].addr = addr;
	(*n)++;
}

/* Lowercase addr-spec if it looks like local@domain, else NULL. */
static char *
addr_norm(const char *s)
{
	if (!s)
		return NULL;
	char *t = trim_dup(s, strlen(s));
	size_t n = strlen(t);
	/* 'a@b' and <a@b> wrappers seen in the wild */
	while (n >= 2 && ((t[0] == '\'' && t[n - 1] == '\'') ||
	    (t[0] == '<' && t[n - 1] == '>') || (t[0] == '"' && t[n - 1] == '"'))) {
		memmove(t, t + 1, n - 2);
		n -= 2;
		t[n] = '\0';
	}
	const char *at = strrchr(t, '@');
	int ok = at && at != t && at[1] && n <= 320 && utf8_valid(t, n);
	for (size_t i = 0; ok && i < n; i++) {
		unsigned char ch = (unsigned char)t[i];
		if (ch <= 32 || ch == 127 || strchr("<>()[],;\\", ch))
			ok = 0;
	}
	if (!ok) {
		free(t);
		return NULL;
	}
	return str_lower(t);
}

/* RFC 5322 comments ("pete(his account)@silly.test(his host)", a name's
 * "(Vertrieb)"), nested and with quoted pairs, taken out of s in place;
 * quoted strings are left as they are.  Blanks inside an address left
 * behind make it no address. */
static void
comments_drop(char *s)
{
	size_t o = 0;
	int depth = 0, q = 0;
	for (size_t i = 0; s[i]; i++) {
		char ch = s[i];
		if (depth) {
			if (ch == '\\' && s[i + 1])
				i++;
			else if (ch == '(')
				depth++;
			else if (ch == ')')
				depth--;
			continue;
		}
		if (q) {
			if (ch == '\\' && s[i + 1]) {
				s[o++] = ch;
				ch = s[++i];
			} else if (ch == '"')
				q = 0;
		} else if (ch == '"')
			q = 1;
		else if (ch == '(') {
			depth = 1;
			continue;
		}
		s[o++] = ch;
	}
	s[o] = '\0';
}

/* "a@b.pl c@d.pl": addresses separated by blanks alone (scripts and
 * web forms that forget the commas).  Pushes each and returns 1 when
 * piece holds two or more words and every one is an address; else 0. */
static int
addrs_bare_words(const char *piece, struct addr **out, size_t *nout)
{
	if (strpbrk(piece, "<>()\"") || !strpbrk(piece, " \t"))
		return 0;
	char *copy = xstrdup(piece), *save = NULL;
	char **words = NULL;
	size_t nw = 0;
	int ok = 1;
	for (char *w = strtok_r(copy, " \t", &save); w && ok; w = strtok_r(NULL, " \t", &save)) {
		char *a = addr_norm(w);
		if (!a || strchr(a, '@') != strrchr(a, '@'))
			ok = 0;
		free(a);
		strv_push(&words, &nw, xstrdup(w));
	}
	ok = ok && nw >= 2;
	for (size_t i = 0; i < nw; i++) {
		if (ok)
			addrs_push(out, nout, NULL, words[i]);
		else
			free(words[i]);
	}
	free(words);
	free(copy);
	return ok;
}

/* "Jan Kowalski jan@wp.pl" or "\"Jan K.\" jan@wp.pl": the words of a name
 * (or a quoted one), then an address with no angle brackets (forms and
 * scripts writing "$name $email").  Returns the offset of the address in
 * piece; 0 when piece is one word or has brackets, comments, separators,
 * quotes in or around the address, or another word with an '@'. */
static size_t
name_bare_addr(const char *piece)
{
	size_t n = strlen(piece), k;
	int inq = 0;
	for (size_t i = 0; i < n; i++) {
		if (inq && piece[i] == '\\' && i + 1 < n)
			i++;
		else if (piece[i] == '"')
			inq = !inq;
		else if (!inq && strchr("<>(),;", piece[i]))
			return 0;
	}
	while (n > 0 && is_lws((unsigned char)piece[n - 1]))
		n--;
	for (k = n; k > 0 && !is_lws((unsigned char)piece[k - 1]); k--)
		;
	const char *w = piece + k, *at = memchr(w, '@', n - k);
	if (k == 0 || !at || at == w || at + 1 == piece + n || inq ||
	    memchr(w, '"', n - k) || memchr(at + 1, '@', (size_t)(piece + n - at - 1)) ||
	    memchr(piece, '@', k))
		return 0;
	return k;
}

/* Whether v[j..n), after an angle address ("Jan <a@x.pl> Ola <b@x.pl>")
 * or a comment behind one, starts the next address: text that is not a
 * separator or a comment (which stays with the address before it). */
static int
addr_follows(const char *v, size_t n, size_t j)
{
	while (j < n && is_lws((unsigned char)v[j]))
		j++;
	return j < n && v[j] != ',' && v[j] != ';' && v[j] != '(';
}

/* Lenient address-list split for what libetpan rejects. */
static void
addrs_lenient(const char *v, size_t n, struct addr **out, size_t *nout)
{
	size_t i = 0;
	struct sbuf pending = {0};   /* words seen before an address */
	while (i <= n) {
		size_t a = i;
		int inq = 0, ina = 0, inc = 0, glued = 0, closed = 0;
		while (i < n) {
			char ch = v[i];
			if (inq) {
				if (ch == '\\' && i + 1 < n)
					i++;
				else if (ch == '"')
					inq = 0;
			} else if (inc) {
				if (ch == ')' && --inc == 0 && closed &&
				    addr_follows(v, n, i + 1)) {
					i++;
					glued = 1;
					break;
				} else if (ch == '(')
					inc++;
			} else if (ch == '"')
				inq = 1;
			else if (ch == '(')
				inc = 1;
			else if (ch == '<')
				ina = 1;
			else if (ch == '>' && ina) {
				ina = 0;
				closed = 1;
				if (addr_follows(v, n, i + 1)) {
					i++;
					glued = 1;
					break;
				}
			} else if ((ch == ',' || ch == ';') && !ina)
				break;
			i++;
		}
		char *piece = trim_dup(v + a, i - a);
		if (!glued)
			i++;
		/* group "name:" prefix */
		char *colon = NULL;
		int q = 0;
		for (char *p = piece; *p; p++) {
			if (*p == '"')
				q = !q;
			else if (!q && (*p == '<' || *p == '@'))
				break;
			else if (!q && *p == ':') {
				colon = p;
				break;
			}
		}
		if (colon) {
			char *rest = trim_dup(colon + 1, strlen(colon + 1));
			free(piece);
			piece = rest;
		}
		if (!*piece) {
			free(piece);
			continue;
		}
		if (addrs_bare_words(piece, out, nout)) {
			free(piece);
			continue;
		}
		char *name = NULL, *addr = NULL;
		char *lt = NULL;
		q = 0;
		for (char *p = piece; *p; p++) {
			if (*p == '"')
				q = !q;
			else if (!q && *p == '<')
				lt = p;
		}
		size_t bare = name_bare_addr(piece);
		if (bare) {
			name = trim_dup(piece, bare);
			addr = trim_dup(piece + bare, strlen(piece + bare));
		} else if (lt) {
			char *gt = strchr(lt, '>');
			addr = gt ? xstrndup(lt + 1, (size_t)(gt - lt - 1)) : xstrdup(lt + 1);
			name = trim_dup(piece, (size_t)(lt - piece));
			comments_drop(addr);
			comments_drop(name);
			char *t = trim_dup(name, strlen(name));
			free(name);
			name = t;
		} else {
			/* addr (comment) */
			struct sbuf a2 = {0}, cm = {0};
			int d = 0;
			for (char *p = piece; *p; p++) {
				if (*p == '(') {
					if (d++)
						sb_addc(&cm, *p);
				} else if (*p == ')' && d) {
					if (--d)
						sb_addc(&cm, *p);
				} else if (d)
					sb_addc(&cm, *p);
				else
					sb_addc(&a2, *p);
			}
			char *as = sb_steal(&a2);
			addr = trim_dup(as, strlen(as));
			free(as);
			/* "test1@local>": a '>' with no '<' */
			size_t al = strlen(addr);
			if (al > 1 && addr[al - 1] == '>' && !strchr(addr, '<'))
				addr[al - 1] = '\0';
			char *cs = sb_steal(&cm);
			name = trim_dup(cs, strlen(cs));
			free(cs);
		}
		free(piece);
		char *norm = addr_norm(addr);
		if (!norm) {
			/* "Kowalski, Jan <a@b>": keep the bit before the comma;
			 * a name before brackets without an address in them
			 * ("Mail Delivery System" <MAILER-DAEMON>) is the name */
			if (pending.len)
				sb_adds(&pending, ", ");
			sb_adds(&pending, name);
			if (lt && *name)
				*addr = '\0';
			if (*name && *addr)
				sb_addc(&pending, ' ');
			sb_adds(&pending, addr);
			free(name);
			free(addr);
			continue;
		}
		free(norm);
		if (pending.len) {
			sb_adds(&pending, ", ");
			sb_adds(&pending, name);
			free(name);
			name = sb_steal(&pending);
		}
		if (name && !*name) {
			free(name);
			name = NULL;
		}
		addrs_push(out, nout, name, addr);
	}
	/* Words without any address ("From: Biuro BMT"): a name alone. */
	if (pending.len)
		addrs_push(out, nout, sb_steal(&pending), xstrdup(""));
	sb_free(&pending);
}

static void
addrs_from_mailbox(const struct mailimf_mailbox *mb, struct addr **out, size_t *n)
{
	addrs_push(out, n, xstrdup(mb->mb_display_name), xstrdup(mb->mb_addr_spec));
}

/* Where address a stands as written (case aside) in field v[0..vn), from
 * *at on: 1 with *at moved past it, 0 when it does not.  The addresses of
 * a list stand in its order, so each is looked for after the one before
 * and a whole list costs one pass over the field. */
static int
addr_in_field(const char *v, size_t vn, const char *a, size_t *at)
{
	size_t an = strlen(a);
	for (size_t i = *at; an && i + an <= vn; i++)
		if (strncasecmp(v + i, a, an) == 0) {
			*at = i + an;
			return 1;
		}
	return 0;
}

/* Whether libetpan's reading has an address without a name that is not in
 * the field as written: words glued into its local part. */
static int
addrs_glued(const char *v, size_t vn, const struct addr *a, size_t n)
{
	size_t at = 0;
	for (size_t i = 0; i < n; i++)
		if (!a[i].name && a[i].addr && !addr_in_field(v, vn, a[i].addr, &at))
			return 1;
	return 0;
}

/* Whether every address is one word with one '@' as written in the field. */
static int
addrs_literal(const char *v, size_t vn, const struct addr *a, size_t n)
{
	size_t pos = 0;
	for (size_t i = 0; i < n; i++) {
		const char *s = a[i].addr, *at = s ? strchr(s, '@') : NULL;
		if (!at || at == s || !at[1] || strchr(at + 1, '@') || strpbrk(s, " \t\r\n") ||
		    !addr_in_field(v, vn, s, &pos))
			return 0;
	}
	return 1;
}

/* Every address of an address-list field value.  Returns 1 when the
 * lenient splitter had to be used. */
static int
addrs_parse(const char *v, size_t n, struct addr **out, size_t *nout)
{
	size_t idx = 0;
	struct mailimf_address_list *al = NULL;
	*out = NULL;
	*nout = 0;
	if (n == 0)
		return 0;
	int r = mailimf_address_list_parse(v, n, &idx, &al);
	int ok = r == MAILIMF_NO_ERROR && al;
	if (ok) {
		while (idx < n && is_lws((unsigned char)v[idx]))
			idx++;
		ok = idx == n;
	}
	if (ok) {
		for (clistiter *it = clist_begin(al->ad_list); it; it = clist_next(it)) {
			struct mailimf_address *ad = clist_content(it);
			if (ad->ad_type == MAILIMF_ADDRESS_MAILBOX)
				addrs_from_mailbox(ad->ad_data.ad_mailbox, out, nout);
			else if (ad->ad_data.ad_group->grp_mb_list)
				for (clistiter *j = clist_begin(ad->ad_data.ad_group->grp_mb_list->mb_list);
				    j; j = clist_next(j))
					addrs_from_mailbox(clist_content(j), out, nout);
		}
		/* libetpan reads "a@b.pl c@d.pl" as one address, the blank
		 * taken for folding inside an obsolete domain: two '@' outside
		 * quotes is not one address. */
		for (size_t i = 0; i < *nout && ok; i++) {
			char *a = addr_norm((*out)[i].addr);
			if (!a || (a[0] != '"' && strchr(a, '@') != strrchr(a, '@')))
				ok = 0;
			free(a);
		}
	}
	/* It reads "Jan Kowalski jan@wp.pl" as the one address
	 * "JanKowalskijan@wp.pl", the words glued, and "Jan jan@wp.pl, Ola
	 * ola@wp.pl" as two such: where an address without a name is not in
	 * the field as it stands, the lenient reader's split is taken when it
	 * finds as many addresses, each one as it stands in the field ("jan @
	 * wp.pl", obsolete blanks around the '@', stays libetpan's). */
	if (ok && addrs_glued(v, n, *out, *nout)) {
		struct addr *lv = NULL;
		size_t ln = 0;
		addrs_lenient(v, n, &lv, &ln);
		if (ln == *nout && addrs_literal(v, n, lv, ln)) {
			addrs_free(*out, *nout);
			*out = lv;
			*nout = ln;
			mailimf_address_list_free(al);
			return 1;
		}
		addrs_free(lv, ln);
	}
	if (al)
		mailimf_address_list_free(al);
	if (ok)
		return 0;
	addrs_free(*out, *nout);
	*out = NULL;
	*nout = 0;
	addrs_lenient(v, n, out, nout);
	return 1;
}

/* Display name: unquoted (encoded words inside quotes are decoded, as
 * Outlook writes them), decoded, NULL when empty. */
static char *
name_decode(struct pctx *c, const char *raw)
{
	if (!raw)
		return NULL;
	size_t n = strlen(raw);
	struct sbuf sb = {0};
	sb_add(&sb, "", 0);
	if (n >= 2 && raw[0] == '"' && raw[n - 1] == '"') {
		for (size_t i = 1; i + 1 < n; i++) {
			if (raw[i] == '\\' && i + 2 < n)
				i++;
			sb_addc(&sb, raw[i]);
		}
		if (strstr(sb.s, "=?"))
			note(c, "encoded words inside a quoted display name");
	} else
		sb_adds(&sb, raw);
	char *s = hdr_decode_c(c, sb.s, sb.len, "a display name");
	sb_free(&sb);
	if (!*s) {
		free(s);
		return NULL;
	}
	/* A name goes into the headers of mail to that person, encoded (up
	 * to three times longer): tens of kilobytes of "name" would make a
	 * header line no mail program, inkflow included, accepts.  Cut at a
	 * character boundary. */
	size_t len = strlen(s);
	if (len > MIME_NAME_MAX) {
		size_t k = MIME_NAME_MAX - 3;
		while (k && ((unsigned char)s[k] & 0xc0) == 0x80)
			k--;
		memcpy(s + k, "\xe2\x80\xa6", 4); /* U+2026 and the NUL */
		note(c, "display name of %zu bytes shortened to %d", len, MIME_NAME_MAX);
	}
	return s;
}

/* An id without blanks and controls; 0 when nothing is left. */
static int
ids_push_unique(char ***v, size_t *n, const char *p, size_t len)
{
	char *s = trim_dup(p, len);
	char *u = mime_to_utf8(NULL, s, strlen(s));
	free(s);
	for (char *q = u; *q; q++)
		if ((unsigned char)*q <= 32 || *q == 127) {
			memmove(q, q + 1, strlen(q + 1) + 1);
			q--;
		}
	if (!*u) {
		free(u);
		return 0;
	}
	strv_push(v, n, u);
	return 1;
}

/* msg-ids of a field: every <...>; without any, the words holding '@'. */
static void
msgids(const char *v, size_t n, char ***out, size_t *nout)
{
	size_t i = 0;
	int any = 0;
	while (i < n) {
		const char *lt = memchr(v + i, '<', n - i);
		if (!lt)
			break;
		size_t a = (size_t)(lt - v) + 1;
		const char *gt = memchr(v + a, '>', n - a);
		if (!gt)
			break;
		size_t b = (size_t)(gt - v);
		if (ids_push_unique(out, nout, v + a, b - a))
			any = 1;
		i = b + 1;
	}
	if (any)
		return;
	i = 0;
	while (i < n) {
		while (i < n && is_lws((unsigned char)v[i]))
			i++;
		size_t a = i;
		while (i < n && !is_lws((unsigned char)v[i]))
			i++;
		if (i > a && memchr(v + a, '@', i - a))
			ids_push_unique(out, nout, v + a, i - a);
	}
}

static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static time_t
date_parse(const char *v, size_t n)
{
	size_t idx = 0;
	struct mailimf_date_time *dt = NULL;
	if (mailimf_date_time_parse(v, n, &idx, &dt) != MAILIMF_NO_ERROR || !dt)
		return 0;
	int y = dt->dt_year, mo = dt->dt_month, d = dt->dt_day;
	int h = dt->dt_hour, mi = dt->dt_min, s = dt->dt_sec, z = dt->dt_zone;
	mailimf_date_time_free(dt);
	if (y >= 0 && y < 50)
		y += 2000;
	else if (y >= 50 && y < 1000)
		y += 1900;
	if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 ||
	    h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 60 ||
	    z < -2359 || z > 2359)
		return 0;
	int64_t t = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 +
	    h * 3600 + mi * 60 + s;
	int zs = (z / 100) * 3600 + (z % 100) * 60;
	t -= zs;
	if (t <= 0)
		return 0;
	return (time_t)t;
}

/* ------------------------------------------------------------------ */
/* the message */

void
mime_msg_free(struct mime_msg *m)
{
	if (!m)
		return;
	free(m->message_id);
	free(m->in_reply_to);
	strv_free(m->refs, m->nrefs);
	free(m->from_name);
	free(m->from_addr);
	free(m->sender_addr);
	free(m->reply_to_addr);
	free(m->to);
	free(m->cc);
	strv_free(m->rcpt_addrs, m->nrcpt);
	free(m->subject);
	free(m->return_path);
	free(m->auto_submitted);
	free(m->precedence);
	free(m->x_autoreply);
	free(m->x_autorespond);
	free(m->x_spam_flag);
	free(m->x_spam_status);
	free(m->x_spam);
	free(m->x_ms_scl);
	free(m->x_forefront);
	free(m->list_id);
	free(m->list_unsubscribe);
	free(m->precedence_next);
	free(m->list_id_next);
	free(m->list_unsubscribe_next);
	free(m->x_inkflow_loop);
	free(m->x_failed_recipients);
	free(m->content_type);
	free(m->report_type);
	free(m->text);
	for (size_t i = 0; i < m->natts; i++)
		att_free(&m->atts[i]);
	free(m->atts);
	strv_free(m->notes, m->nnotes);
	free(m);
}

void
mime_limits_default(struct mime_limits *lim)
{
	lim->max_message = DEF_MAX_MESSAGE;
	lim->max_header = DEF_MAX_HEADER;
	lim->max_header_line = DEF_MAX_HEADER_LINE;
	lim->max_parts = DEF_MAX_PARTS;
	lim->max_depth = DEF_MAX_DEPTH;
	lim->max_attachment = DEF_MAX_ATTACHMENT;
}

/* Raw classification value of the field called name after skip others
 * of that name: unfolded, trimmed, UTF-8, one line. */
static char *
raw_field_nth(struct pctx *c, const struct hdr *h, const char *name, size_t skip)
{
	const struct hfield *f = hdr_get_nth(h, name, skip);
	if (!f)
		return NULL;
	size_t n;
	char *v = hf_unfold(f, &n);
	unsigned flags = 0;
	char *u = cs_conv(NULL, v, n, &flags);
	free(v);
	if (flags)
		note(c, "8-bit header text without encoding in %s, charset guessed", name);
	return oneline_inplace(u);
}

static char *
raw_field(struct pctx *c, const struct hdr *h, const char *name)
{
	return raw_field_nth(c, h, name, 0);
}

/* Decoded display line of every field called name, joined with ", ". */
static char *
display_field(struct pctx *c, const struct hdr *h, const char *name)
{
	struct sbuf sb = {0};
	int any = 0;
	for (size_t i = 0; i < h->n; i++) {
		if (!ci_eqn(h->f[i].name, h->f[i].nlen, name))
			continue;
		size_t n;
		char *v = hf_unfold(&h->f[i], &n);
		char *d = hdr_decode_c(c, v, n, name);
		free(v);
		size_t o = 0;
		for (size_t k = 0; d[k]; k++)
			if (d[k] != ' ' || (o && d[o - 1] != ' '))
				d[o++] = d[k];
		d[o] = '\0';
		if (*d) {
			if (any)
				sb_adds(&sb, ", ");
			sb_adds(&sb, d);
			any = 1;
		}
		free(d);
	}
	if (!any) {
		sb_free(&sb);
		return NULL;
	}
	return sb_steal(&sb);
}

/* First usable mailbox of field name; its decoded display name too. */
static char *
first_addr(struct pctx *c, const struct hdr *h, const char *name, char **dname)
{
	if (dname)
		*dname = NULL;
	for (size_t i = 0; i < h->n; i++) {
		if (!ci_eqn(h->f[i].name, h->f[i].nlen, name))
			continue;
		size_t n;
		char *v = hf_unfold(&h->f[i], &n);
		struct addr *a;
		size_t na;
		if (addrs_parse(v, n, &a, &na))
			note(c, "%s address list read leniently", name);
		free(v);
		char *res = NULL;
		for (size_t k = 0; k < na && !res; k++) {
			res = addr_norm(a[k].addr);
			if (res && dname)
				*dname = name_decode(c, a[k].name);
		}
		/* A From with a display name but no address still has a name. */
		if (!res && dname && na && a[0].name)
			*dname = name_decode(c, a[0].name);
		addrs_free(a, na);
		if (res)
			return res;
		return NULL;
	}
	return NULL;
}

static void
rcpts_add(struct pctx *c, const struct hdr *h, const char *name, struct mime_msg *m)
{
	for (size_t i = 0; i < h->n; i++) {
		if (!ci_eqn(h->f[i].name, h->f[i].nlen, name))
			continue;
		size_t n;
		char *v = hf_unfold(&h->f[i], &n);
		struct addr *a;
		size_t na;
		if (addrs_parse(v, n, &a, &na))
			note(c, "%s address list read leniently", name);
		free(v);
		for (size_t k = 0; k < na; k++) {
			char *x = addr_norm(a[k].addr);
			if (x)
				strv_push(&m->rcpt_addrs, &m->nrcpt, x);
		}
		addrs_free(a, na);
	}
}

struct rcpt_ix {
	const char *s;
	size_t i;
};

static int
rcpt_cmp(const void *a, const void *b)
{
	const struct rcpt_ix *x = a, *y = b;
	int r = strcmp(x->s, y->s);
	return r ? r : (x->i > y->i) - (x->i < y->i);
}

/* Drops repeated recipients, keeping the first of each in order
 * (sorting, not pairwise compares: To may hold thousands). */
static void
rcpts_dedupe(struct mime_msg *m)
{
	if (m->nrcpt < 2)
		return;
	struct rcpt_ix *ix = xcalloc(m->nrcpt, sizeof(*ix));
	for (size_t i = 0; i < m->nrcpt; i++) {
		ix[i].s = m->rcpt_addrs[i];
		ix[i].i = i;
	}
	qsort(ix, m->nrcpt, sizeof(*ix), rcpt_cmp);
	const char *first = ix[0].s;   /* the kept one of its group */
	for (size_t k = 1; k < m->nrcpt; k++) {
		if (strcmp(ix[k].s, first) == 0) {
			free(m->rcpt_addrs[ix[k].i]);
			m->rcpt_addrs[ix[k].i] = NULL;
		} else
			first = ix[k].s;
	}
	free(ix);
	size_t o = 0;
	for (size_t i = 0; i < m->nrcpt; i++)
		if (m->rcpt_addrs[i])
			m->rcpt_addrs[o++] = m->rcpt_addrs[i];
	m->nrcpt = o;
}

static void
fill_fields(struct pctx *c, const struct hdr *h, struct mime_msg *m)
{
	const struct hfield *f;
	size_t n;
	char *v;
	char **ids = NULL;
	size_t nids = 0;

	if ((f = hdr_get(h, "Message-ID"))) {
		v = hf_unfold(f, &n);
		msgids(v, n, &ids, &nids);
		if (nids)
			m->message_id = xstrdup(ids[0]);
		else if (n) {
			char *u = mime_to_utf8(NULL, v, n);
			m->message_id = oneline_inplace(u);
			if (!*m->message_id) {
				free(m->message_id);
				m->message_id = NULL;
			}
		}
		strv_free(ids, nids);
		ids = NULL;
		nids = 0;
		free(v);
	}
	if ((f = hdr_get(h, "In-Reply-To"))) {
		v = hf_unfold(f, &n);
		msgids(v, n, &ids, &nids);
		if (nids)
			m->in_reply_to = xstrdup(ids[0]);
		strv_free(ids, nids);
		ids = NULL;
		nids = 0;
		free(v);
	}
	if ((f = hdr_get(h, "References"))) {
		v = hf_unfold(f, &n);
		msgids(v, n, &m->refs, &m->nrefs);
		free(v);
	}
	m->from_addr = first_addr(c, h, "From", &m->from_name);
	m->sender_addr = first_addr(c, h, "Sender", NULL);
	m->reply_to_addr = first_addr(c, h, "Reply-To", NULL);
	m->to = display_field(c, h, "To");
	m->cc = display_field(c, h, "Cc");
	rcpts_add(c, h, "To", m);
	rcpts_add(c, h, "Cc", m);
	rcpts_add(c, h, "Delivered-To", m);
	rcpts_add(c, h, "X-Original-To", m);
	rcpts_dedupe(m);
	if ((f = hdr_get(h, "Subject"))) {
		v = hf_unfold(f, &n);
		m->subject = hdr_decode_c(c, v, n, "Subject");
		free(v);
	} else
		m->subject = xstrdup("");
	if ((f = hdr_get(h, "Date"))) {
		v = hf_unfold(f, &n);
		m->date = date_parse(v, n);
		free(v);
	}
	if ((f = hdr_get(h, "Return-Path"))) {
		v = hf_unfold(f, &n);
		char *a = strchr(v, '<');
		char *b = a ? strchr(a, '>') : NULL;
		char *inner = (a && b) ? trim_dup(a + 1, (size_t)(b - a - 1)) : trim_dup(v, n);
		free(v);
		char *u = mime_to_utf8(NULL, inner, strlen(inner));
		free(inner);
		m->return_path = str_lower(oneline_inplace(u));
	}
	m->auto_submitted = raw_field(c, h, "Auto-Submitted");
	m->precedence = raw_field(c, h, "Precedence");
	m->x_autoreply = raw_field(c, h, "X-Autoreply");
	m->x_autorespond = raw_field(c, h, "X-Autorespond");
	m->list_id = raw_field(c, h, "List-Id");
	m->list_unsubscribe = raw_field(c, h, "List-Unsubscribe");
	m->precedence_next = raw_field_nth(c, h, "Precedence", 1);
	m->list_id_next = raw_field_nth(c, h, "List-Id", 1);
	m->list_unsubscribe_next = raw_field_nth(c, h, "List-Unsubscribe", 1);
	m->x_inkflow_loop = raw_field(c, h, "X-Inkflow-Loop");
	m->x_failed_recipients = raw_field(c, h, "X-Failed-Recipients");
	m->x_spam_flag = raw_field(c, h, "X-Spam-Flag");
	m->x_spam_status = raw_field(c, h, "X-Spam-Status");
	m->x_spam = raw_field(c, h, "X-Spam");
	m->x_ms_scl = raw_field(c, h, "X-MS-Exchange-Organization-SCL");
	m->x_forefront = raw_field(c, h, "X-Forefront-Antispam-Report");
}

static void
limits_effective(const struct mime_limits *in, struct mime_limits *out)
{
	mime_limits_default(out);
	if (in) {
		if (in->max_message)
			out->max_message = in->max_message;
		if (in->max_header)
			out->max_header = in->max_header;
		if (in->max_header_line)
			out->max_header_line = in->max_header_line;
		if (in->max_parts)
			out->max_parts = in->max_parts;
		if (in->max_depth)
			out->max_depth = in->max_depth;
		if (in->max_attachment)
			out->max_attachment = in->max_attachment;
	}
	if (out->max_depth > MIME_DEPTH_CEILING)
		out->max_depth = MIME_DEPTH_CEILING;
}

/* Joins the body pieces: each on its own lines, HTML reduced to text. */
static char *
text_join(struct tacc *a, int *from_html)
{
	struct sbuf sb = {0};
	sb_add(&sb, "", 0);
	*from_html = 0;
	for (size_t i = 0; i < a->n; i++) {
		char *t = a->p[i].html ? mime_html_to_text(a->p[i].s, strlen(a->p[i].s))
		    : xstrdup(a->p[i].s);
		if (a->p[i].html)
			*from_html = 1;
		int blank = 1;
		for (char *q = t; *q; q++)
			if (!is_lws((unsigned char)*q))
				blank = 0;
		if (!blank) {
			if (sb.len && sb.s[sb.len - 1] != '\n')
				sb_addc(&sb, '\n');
			sb_adds(&sb, t);
		}
		free(t);
	}
	return sb_steal(&sb);
}

static int parse_msg(const char *raw, size_t len, const struct mime_limits *lim,
    struct mime_msg **out, char *reason, size_t reasonlen);

/* A note on a parsed message, as note() makes one during the parse. */
static void
msg_note(struct mime_msg *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
msg_note(struct mime_msg *m, const char *fmt, ...)
{
	struct pctx t;
	memset(&t, 0, sizeof(t));
	t.notes = m->notes;
	t.nnotes = m->nnotes;
	struct sbuf sb = {0};
	va_list ap;
	va_start(ap, fmt);
	sb_vprintf(&sb, fmt, ap);
	va_end(ap);
	note(&t, "%s", sb.s ? sb.s : "");
	sb_free(&sb);
	m->notes = t.notes;
	m->nnotes = t.nnotes;
}

/* The attachments of in, a message read out of one of msg's parts, take
 * the place of msg's attachments [at, at + drop) (those are freed); in
 * keeps none.  Their bodies are not in the buffer msg was parsed from. */
static void
atts_splice(struct mime_msg *msg, size_t at, size_t drop, struct mime_msg *in)
{
	for (size_t k = at; k < at + drop; k++)
		att_free(&msg->atts[k]);
	size_t n = msg->natts - drop + in->natts;
	struct mime_att *v = xcalloc(n ? n : 1, sizeof(*v));
	memcpy(v, msg->atts, at * sizeof(*v));
	for (size_t k = 0; k < in->natts; k++) {
		v[at + k] = in->atts[k];
		v[at + k].body_off = v[at + k].body_len = 0;
		v[at + k].base64 = 0;
	}
	memcpy(v + at + in->natts, msg->atts + at + drop, (msg->natts - at - drop) * sizeof(*v));
	free(msg->atts);
	msg->atts = v;
	msg->natts = n;
	in->natts = 0;
}

/* Opaque S/MIME signing (an smime.p7m part of type application/pkcs7-mime,
 * smime-type=signed-data; Outlook and Thunderbird when "clear-signed" is
 * off): the message's whole text and attachments are inside the PKCS#7
 * SignedData.  GnuTLS takes out the signed content, a MIME entity, which
 * is read like a message of its own; its text joins the message's and
 * its attachments take the .p7m's place (the raw message is kept, so
 * nothing is lost).  The signature is not checked: inkflow authorises
 * actions by its own tokens, never by a mail's signature.  Encrypted
 * S/MIME (enveloped-data) needs the recipient's key: the .p7m stays and a
 * note says why the text is missing.  Signed inside signed is unwrapped
 * once more, at most P7M_LEVELS in all. */
#define P7M_LEVELS 2

static int
p7m_type(const struct mime_att *a)
{
	if (a->is_message)
		return 0;
	if (strcmp(a->content_type, "application/pkcs7-mime") == 0 ||
	    strcmp(a->content_type, "application/x-pkcs7-mime") == 0)
		return 1;
	size_t n = a->filename ? strlen(a->filename) : 0;
	return n > 4 && str_ieq(a->filename + n - 4, ".p7m") &&
	    strcmp(a->content_type, "application/octet-stream") == 0;
}

static int
p7m_part(const struct mime_att *a)
{
	return a->data && a->len && p7m_type(a);
}

static int tnef_part(const struct mime_att *a);

int
mime_att_opened(const struct mime_att *a)
{
	return p7m_type(a) || tnef_part(a);
}

/* 1 when the DER ContentInfo at p names enveloped-data (encrypted mail). */
static int
p7m_enveloped(const unsigned char *p, size_t n)
{
	static const unsigned char oid[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
	    0x01, 0x07, 0x03};
	size_t lim = n < 24 ? n : 24;
	for (size_t i = 0; i + sizeof(oid) <= lim; i++)
		if (memcmp(p + i, oid, sizeof(oid)) == 0)
			return 1;
	return 0;
}

/* The signed content of a->data: 0 and *out (malloc'd, NUL-terminated),
 * or -1 with a note on m. */
static int
p7m_content(struct mime_msg *m, const struct mime_att *a, char **out, size_t *outlen)
{
	const char *name = a->filename ? a->filename : "smime.p7m";
	if (p7m_enveloped((const unsigned char *)a->data, a->len)) {
		m->encrypted |= MIME_ENC_SMIME;
		msg_note(m, "encrypted S/MIME part %s cannot be read without the recipient's key",
		    name);
		return -1;
	}
	gnutls_pkcs7_t p7;
	if (gnutls_pkcs7_init(&p7) < 0) {
		msg_note(m, "S/MIME part %s not read: out of memory", name);
		return -1;
	}
	gnutls_datum_t in = {.data = (unsigned char *)a->data, .size = (unsigned)a->len};
	gnutls_datum_t d = {0};
	int r = a->len > UINT_MAX ? GNUTLS_E_INVALID_REQUEST
	                          : gnutls_pkcs7_import(p7, &in, GNUTLS_X509_FMT_DER);
	if (r >= 0)
		r = gnutls_pkcs7_get_embedded_data(p7, 0, &d);
	gnutls_pkcs7_deinit(p7);
	if (r < 0 || !d.data || !d.size) {
		msg_note(m, "S/MIME part %s holds no signed content that could be read (%s)", name,
		    r < 0 ? gnutls_strerror(r) : "empty");
		if (d.data)
			gnutls_free(d.data);
		return -1;
	}
	*out = xmalloc((size_t)d.size + 1);
	memcpy(*out, d.data, d.size);
	(*out)[d.size] = '\0';
	*outlen = d.size;
	gnutls_free(d.data);
	return 0;
}

static void
smime_unwrap(struct mime_msg *msg, const struct mime_limits *lim)
{
	for (int level = 0; level < P7M_LEVELS; level++) {
		size_t i = 0;
		while (i < msg->natts && !p7m_part(&msg->atts[i]))
			i++;
		if (i == msg->natts)
			return;
		char *content;
		size_t clen;
		if (p7m_content(msg, &msg->atts[i], &content, &clen) < 0)
			return;
		struct mime_msg *in = NULL;
		char why[256];
		int r = parse_msg(content, clen, lim, &in, why, sizeof(why));
		free(content);
		if (r < 0) {
			msg_note(msg, "signed content of an S/MIME part not read: %s", why);
			return;
		}
		if (in->text && *in->text) {
			if (msg->text && *msg->text) {
				char *t = xasprintf("%s\n\n%s", msg->text, in->text);
				free(msg->text);
				msg->text = t;
			} else {
				free(msg->text);
				msg->text = in->text;
				in->text = NULL;
				msg->text_from_html = in->text_from_html;
			}
		}
		msg->encrypted |= in->encrypted;
		/* The .p7m's place goes to the signed attachments, in order. */
		atts_splice(msg, i, 1, in);
		msg_note(msg, "opaque S/MIME signed message unpacked (signature not checked)");
		mime_msg_free(in);
	}
}

/* Messages forwarded as attachments (message/rfc822 parts of the top
 * level, not of a report): their text follows the message's own under a
 * forward banner (which reply parsing takes as the start of quoted text,
 * so it never holds a command), and their attachments join the
 * message's.  At most FWD_MAX of them, each at most FWD_BYTES, one level
 * deep: bounded work whatever the message. */
#define FWD_MAX 3
#define FWD_BYTES ((size_t)4 << 20)

static void
forwards_inline(struct mime_msg *msg, const struct mime_limits *lim)
{
	if (msg->content_type && strcmp(msg->content_type, "multipart/report") == 0)
		return;
	size_t n0 = msg->natts, done = 0;
	for (size_t i = 0; i < n0 && done < FWD_MAX; i++) {
		if (!msg->atts[i].is_message || !msg->atts[i].data || msg->atts[i].len > FWD_BYTES)
			continue;
		done++;
		struct mime_msg *in = NULL;
		char why[256];
		if (parse_msg(msg->atts[i].data, msg->atts[i].len, lim, &in, why, sizeof(why)) < 0)
			continue;
		struct sbuf sb = {0};
		sb_adds(&sb, msg->text ? msg->text : "");
		if (sb.len && sb.s[sb.len - 1] != '\n')
			sb_addc(&sb, '\n');
		sb_adds(&sb, sb.len ? "\n---------- Forwarded message ----------\n"
		                    : "---------- Forwarded message ----------\n");
		if (in->from_addr)
			sb_printf(&sb, "From: %s%s<%s>\n", in->from_name ? in->from_name : "",
			    in->from_name ? " " : "", in->from_addr);
		if (in->subject && *in->subject)
			sb_printf(&sb, "Subject: %s\n", in->subject);
		sb_adds(&sb, "\n");
		sb_adds(&sb, in->text ? in->text : "");
		free(msg->text);
		msg->text = sb_steal(&sb);
		atts_splice(msg, msg->natts, 0, in);
		mime_msg_free(in);
	}
}

/* The control part of PGP/MIME (application/pgp-encrypted, "Version: 1"):
 * it only says which protocol the encrypted part beside it uses. */
static int
pgp_control_part(const struct mime_att *a)
{
	if (strcmp(a->content_type, "application/pgp-encrypted") != 0 || a->len > 64)
		return 0;
	size_t i = 0;
	while (i < a->len && is_lws((unsigned char)a->data[i]))
		i++;
	return a->len - i >= 8 && ci_prefix(a->data + i, a->len - i, "version:");
}

/* Attachment types as the workflow reads them (a PDF or an image is a
 * document a client sends): the aliases mail programs use become the
 * registered type, and a generic type (application/octet-stream and
 * friends, as older Outlook, phones and web mail send PDFs) becomes the
 * document type its bytes or name show.  Apple Mail's AppleDouble
 * resource fork (application/applefile, Finder data under the file's own
 * name) is dropped: the file itself is the part beside it; so is the
 * control part of PGP/MIME (pgp_control_part). */
static void
atts_tidy(struct mime_msg *msg)
{
	static const char *const alias[][2] = {
	    {"application/x-pdf", "application/pdf"}, {"application/acrobat", "application/pdf"},
	    {"application/vnd.pdf", "application/pdf"}, {"text/pdf", "application/pdf"},
	    {"text/x-pdf", "application/pdf"}, {"image/jpg", "image/jpeg"},
	    {"image/pjpeg", "image/jpeg"}, {"image/x-png", "image/png"},
	};
	static const char *const generic[] = {
	    "application/octet-stream", "binary/octet-stream", "application/binary",
	    "application/download", "application/x-download", "application/force-download",
	    "application/unknown", "application/x-unknown",
	};
	size_t o = 0;
	int fixed = 0, dropped = 0;
	for (size_t i = 0; i < msg->natts; i++) {
		struct mime_att *a = &msg->atts[i];
		if (strcmp(a->content_type, "application/applefile") == 0) {
			att_free(a);
			dropped = 1;
			continue;
		}
		if (a->data && pgp_control_part(a)) {
			att_free(a);
			continue;
		}
		const char *to = NULL;
		for (size_t k = 0; k < ARRAY_LEN(alias) && !to; k++)
			if (strcmp(a->content_type, alias[k][0]) == 0)
				to = alias[k][1];
		for (size_t k = 0; k < ARRAY_LEN(generic) && !to; k++)
			if (strcmp(a->content_type, generic[k]) == 0 && !a->is_message) {
				const char *g = mime_type_guess(a->filename, a->data, a->len);
				if (strcmp(g, "application/pdf") == 0 || strncmp(g, "image/", 6) == 0)
					to = g;
			}
		if (to) {
			free(a->content_type);
			a->content_type = xstrdup(to);
			fixed = 1;
		}
		msg->atts[o++] = *a;
	}
	msg->natts = o;
	if (fixed)
		msg_note(msg, "attachment with a generic or unregistered content type, type taken "
		              "from its content or name");
	if (dropped)
		msg_note(msg, "AppleDouble resource fork dropped");
}

/* Outlook's winmail.dat (TNEF) parts: the files inside join the message's
 * attachments after the winmail.dat, which stays as it was (nothing is
 * lost when it cannot be read; a note then says why).  At most TNEF_STREAMS
 * of them, each giving at most TNEF_FILES files, each file within the
 * attachment limit: one fork per stream, bounded work. */
#define TNEF_STREAMS 4
#define TNEF_FILES 100

static int
tnef_part(const struct mime_att *a)
{
	if (a->is_message)
		return 0;
	return (a->content_type && (strcmp(a->content_type, "application/ms-tnef") == 0 ||
	    strcmp(a->content_type, "application/vnd.ms-tnef") == 0)) ||
	    (a->filename && str_ieq(a->filename, "winmail.dat"));
}

static int
text_blank(const char *s)
{
	for (; s && *s; s++)
		if (!is_lws((unsigned char)*s))
			return 0;
	return 1;
}

static void
tnef_unpack(struct mime_msg *msg, const struct mime_limits *lim)
{
	struct mime_limits el;
	limits_effective(lim, &el);
	size_t n0 = msg->natts, done = 0;
	for (size_t i = 0; i < n0; i++) {
		const struct mime_att *w = &msg->atts[i];
		if (!tnef_part(w) || !w->data)
			continue;
		if (done++ == TNEF_STREAMS) {
			msg_note(msg, "more than %d winmail.dat parts, the rest not unpacked", TNEF_STREAMS);
			break;
		}
		/* Each file's bytes are stored whole in the stream: together
		 * they cannot pass its length. */
		struct tnef_limits tl = {el.max_attachment, w->len, TNEF_FILES};
		struct tnef_result tr;
		char why[128];
		if (tnef_extract(w->data, w->len, &tl, &tr, why, sizeof(why)) < 0) {
			msg_note(msg, "winmail.dat (TNEF) not unpacked: %s", why);
			continue;
		}
		if (tr.skipped)
			msg_note(msg, "%zu file(s) in winmail.dat over the attachment limit left out",
			    tr.skipped);
		if (tr.more)
			msg_note(msg, "winmail.dat holds more than %d files, the first %d taken",
			    TNEF_FILES, TNEF_FILES);
		if (tr.n)
			msg->atts = xrealloc(msg->atts, (msg->natts + tr.n) * sizeof(*msg->atts));
		for (size_t k = 0; k < tr.n; k++) {
			struct mime_att *a = &msg->atts[msg->natts++];
			memset(a, 0, sizeof(*a));
			a->filename = tr.files[k].name;
			a->content_type = xstrdup(tr.files[k].content_type);
			a->data = tr.files[k].data;
			a->len = tr.files[k].len;
			tr.files[k].name = tr.files[k].data = NULL;
		}
		/* Outlook's "Rich Text" mail: the winmail.dat is the message,
		 * with no text part beside it (or an empty one). */
		if (tr.body && text_blank(msg->text)) {
			free(msg->text);
			msg->text = tr.body;
			tr.body = NULL;
			msg->text_from_html = strstr(tr.body_from, "HTML") != NULL;
			msg_note(msg, "text read from winmail.dat (%s)", tr.body_from);
		}
		tnef_result_free(&tr);
	}
}

/* Decomposed text (macOS file names and text, text copied out of PDFs:
 * "e" followed by a combining ogonek) becomes composed (NFC), the form
 * every other program sends: names match, file names sort and print as
 * one letter each, PDF fonts show "ę" rather than "e" and a loose mark. */
static void
compose_nfc(struct mime_msg *m)
{
	int text = 0, names = 0;
	m->subject = utf8_nfc(m->subject, &text);
	m->from_name = utf8_nfc(m->from_name, &names);
	m->to = utf8_nfc(m->to, &names);
	m->cc = utf8_nfc(m->cc, &names);
	m->text = utf8_nfc(m->text, &text);
	for (size_t i = 0; i < m->natts; i++)
		m->atts[i].filename = utf8_nfc(m->atts[i].filename, &names);
	if (text || names)
		msg_note(m, "decomposed Unicode (letters and combining marks apart) in the %s "
		            "composed (NFC)", text && names ? "text and names" : text ? "text" : "names");
}

int
mime_parse(const char *raw, size_t len, const struct mime_limits *lim,
    struct mime_msg **out, char *reason, size_t reasonlen)
{
	int r = parse_msg(raw, len, lim, out, reason, reasonlen);
	if (r == 0 && out && *out) {
		smime_unwrap(*out, lim);
		forwards_inline(*out, lim);
		tnef_unpack(*out, lim);
		atts_tidy(*out);
		compose_nfc(*out);
	}
	return r;
}

/* libetpan's tree of m[0..mlen): a message holding a body entity, or NULL
 * when it cannot be read. */
static struct mailmime *
root_parse(const char *m, size_t mlen)
{
	struct mailmime *root = NULL;
	size_t idx = 0;
	if (mailmime_parse(m, mlen, &idx, &root) != MAILIMF_NO_ERROR)
		return NULL;
	if (root && (root->mm_type != MAILMIME_MESSAGE || !root->mm_data.mm_message.mm_msg_mime)) {
		mailmime_free(root);
		root = NULL;
	}
	return root;
}

/* 1 when libetpan's body of the message starts before the blank line
 * that ends the header as hdr_scan found it. */
static int
header_cut_short(const struct mailmime *root, const char *m, const struct hdr *h)
{
	if (h->noblank || !h->n)
		return 0;
	const char *bp;
	size_t bn;
	ent_body(root->mm_data.mm_message.mm_msg_mime, &bp, &bn);
	return bp && bp < m + h->hlen;
}

static int
parse_msg(const char *raw, size_t len, const struct mime_limits *lim,
    struct mime_msg **out, char *reason, size_t reasonlen)
{
	struct pctx c;
	memset(&c, 0, sizeof(c));
	c.reason = reason;
	c.reasonlen = reasonlen;
	if (reason && reasonlen)
		reason[0] = '\0';
	if (out)
		*out = NULL;
	limits_effective(lim, &c.lim);
	if (!out)
		return fail(&c, "no output pointer");
	char lib_err[256];
	if (lazyetpan_load(lib_err, sizeof(lib_err)) < 0)
		return fail(&c, "%s", lib_err);
	if (!raw)
		len = 0;
	if (len > c.lim.max_message)
		return fail(&c, "message size %zu exceeds limit %zu", len, c.lim.max_message);

	size_t skip = 0;
	size_t sp = 5;
	while (sp < len && is_wsp((unsigned char)raw[sp]))
		sp++;
	/* "From addr date" of an mbox, not a From field written "From :" */
	if (len >= 5 && memcmp(raw, "From ", 5) == 0 && !(sp < len && raw[sp] == ':')) {
		const char *nl = memchr(raw, '\n', len);
		skip = nl ? (size_t)(nl - raw) + 1 : len;
		note(&c, "mbox \"From \" line before the header skipped");
	}
	int empty = 1;
	for (size_t i = skip; i < len && empty; i++)
		if (!is_lws((unsigned char)raw[i]))
			empty = 0;
	if (empty) {
		strv_free(c.notes, c.nnotes);
		return fail(&c, "empty message");
	}
	const char *m = raw + skip;
	size_t mlen = len - skip;

	struct hdr h;
	hdr_scan(m, mlen, &h);
	char *work = NULL;
	if (h.body >= mlen && m[mlen - 1] != '\n') {
		/* Header to the very end without a line end: libetpan would
		 * take the last field for body text. */
		work = xmalloc(mlen + 3);
		memcpy(work, m, mlen);
		memcpy(work + mlen, "\r\n", 3);
		m = work;
		mlen += 2;
		hdr_free(&h);
		hdr_scan(m, mlen, &h);
	}
	size_t fixed_len;
	char *fixed = hdr_repair(m, mlen, &h, c.lim.max_header, &fixed_len);
	if (fixed) {
		note(&c, "header line that is neither a field nor folded taken as folded");
		free(work);
		work = fixed;
		m = work;
		mlen = fixed_len;
		hdr_free(&h);
		hdr_scan(m, mlen, &h);
	}
	int r = 0;
	if (h.hlen > c.lim.max_header)
		r = fail(&c, "header size %zu exceeds limit %zu", h.hlen, c.lim.max_header);
	if (r == 0)
		r = hdr_check_lines(&c, &h, "top-level");
	if (r == 0)
		r = guard_structure(&c, m, mlen, 0);
	c.parts = 0;
	if (!work) {
		c.base = raw;
		c.baselen = len;
	}
	if (r == 0)
		hint_from_header(&c, &h);
	struct mailmime *root = r == 0 ? root_parse(m, mlen) : NULL;
	if (r == 0 && !root)
		r = fail(&c, "unparseable MIME structure");
	if (r == 0 && header_cut_short(root, m, &h)) {
		/* libetpan ends the header at some folds that follow a comment
		 * ("To: jan@x.pl (Jan)" folded before ", ola@x.pl"), the rest
		 * of the header becoming body text: it reads the header
		 * unfolded.  The same length, so every offset stays. */
		mailmime_free(root);
		root = NULL;
		char *u = xmalloc(mlen + 1);
		memcpy(u, m, mlen);
		u[mlen] = '\0';
		for (size_t i = 0; i + 1 < h.hlen; i++)
			if (u[i] == '\n' && is_wsp((unsigned char)u[i + 1])) {
				u[i] = ' ';
				if (i && u[i - 1] == '\r')
					u[i - 1] = ' ';
			}
		free(work);
		work = u;
		m = work;
		c.base = NULL;
		c.baselen = 0;
		hdr_free(&h);
		hdr_scan(m, mlen, &h);
		note(&c, "header that the MIME parser ended at a fold read unfolded");
		root = root_parse(m, mlen);
		if (!root)
			r = fail(&c, "unparseable MIME structure");
	}

	struct mime_msg *msg = NULL;
	struct tacc acc = {0};
	struct einfo top;
	memset(&top, 0, sizeof(top));
	int have_top = 0;
	if (r == 0 && root) {
		for (size_t i = 0; i < mlen; i++)
			if (m[i] == '\n' && (i == 0 || m[i - 1] != '\r')) {
				note(&c, "bare LF line endings");
				break;
			}
		if (h.noblank && h.n)
			note(&c, "no blank line between header and body");
		struct mailmime *inner = root->mm_data.mm_message.mm_msg_mime;
		const char *bp;
		size_t bn;
		ent_body(inner, &bp, &bn);
		const char *he = bp ? bp : m + mlen;
		r = ent_walk(&c, inner, m, he, 0, &acc, 0, &top);
		have_top = 1;
	}
	if (root)
		mailmime_free(root);
	if (r == 0) {
		msg = xcalloc(1, sizeof(*msg));
		fill_fields(&c, &h, msg);
		/* ent_walk sets top.type when it succeeds; RFC 2045's default
		 * stands in for it all the same. */
		const char *type = top.type ? top.type : "text/plain";
		msg->content_type = xstrdup(type);
		if (strcmp(type, "multipart/report") == 0) {
			const char *rt = plist_raw(&top.ct, "report-type");
			if (rt)
				msg->report_type = str_lower(oneline_inplace(
				    mime_to_utf8(NULL, rt, strlen(rt))));
		}
		if (!hdr_get(&h, "MIME-Version") &&
		    (hdr_get(&h, "Content-Type") || hdr_get(&h, "Content-Transfer-Encoding")))
			note(&c, "missing MIME-Version");
		msg->text = text_join(&acc, &msg->text_from_html);
		msg->atts = c.atts;
		msg->natts = c.natts;
		c.atts = NULL;
		c.natts = 0;
		msg->notes = c.notes;
		msg->nnotes = c.nnotes;
		msg->encrypted = c.encrypted;
		c.notes = NULL;
		c.nnotes = 0;
		*out = msg;
	}
	if (have_top)
		einfo_free(&top);
	tacc_free(&acc);
	hdr_free(&h);
	for (size_t i = 0; i < c.natts; i++)
		att_free(&c.atts[i]);
	free(c.atts);
	strv_free(c.notes, c.nnotes);
	free(work);
	return r == 0 ? 0 : -1;
}

/* ------------------------------------------------------------------ */
/* encoding */

static const char B64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void
b64_enc(struct sbuf *sb, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		sb_addc(sb, B64[(v >> 18) & 63]);
		sb_addc(sb, B64[(v >> 12) & 63]);
		sb_addc(sb, i + 1 < n ? B64[(v >> 6) & 63] : '=');
		sb_addc(sb, i + 2 < n ? B64[v & 63] : '=');
	}
}

/* Input cleaned for encoding: valid UTF-8, CR/LF runs to one space (none
 * next to an existing space), NUL impossible in a C string. */
static char *
enc_clean(const char *utf8)
{
	char *s = utf8_sanitize(utf8 ? utf8 : "", utf8 ? strlen(utf8) : 0);
	size_t o = 0;
	for (size_t i = 0; s[i]; i++) {
		if (s[i] == '\r' || s[i] == '\n') {
			while (s[i + 1] == '\r' || s[i + 1] == '\n')
				i++;
			if (o && s[o - 1] != ' ' && s[i + 1] != ' ' && s[i + 1] != '\0')
				s[o++] = ' ';
			continue;
		}
		s[o++] = s[i];
	}
	s[o] = '\0';
	return s;
}

static size_t
u8len(unsigned char ch)
{
	return ch < 0x80 ? 1 : ch >= 0xf0 ? 4 : ch >= 0xe0 ? 3 : 2;
}

static int
plain_word(const char *w, size_t n, size_t maxlen)
{
	if (n > maxlen)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)w[i];
		if (ch < 0x21 || ch > 0x7e)
			return 0;
		if (ch == '=' && i + 1 < n && w[i + 1] == '?')
			return 0;
		if (ch == '?' && i + 1 < n && w[i + 1] == '=')
			return 0;
	}
	return 1;
}

/* Emits bytes t[0..n) as "=?UTF-8?B?...?=" words of at most maxword
 * characters, each holding whole characters, folding before a word that
 * would pass column 78.  *col tracks the column; sep says whether a space
 * is owed before the first word; fold_each puts every word after the first
 * on its own line. */
static void
ew_emit(struct sbuf *sb, const char *t, size_t n, size_t *col, int sep,
    size_t maxword, int fold_each)
{
	size_t cap = (maxword - 12) / 4 * 3;
	size_t i = 0;
	int words = 0;
	while (i < n) {
		if (fold_each && words) {
			sb_adds(sb, "\r\n ");
			*col = 1;
			sep = 0;
		}
		size_t used = *col + (sep ? 1 : 0) + 12;
		size_t bytes = used < 78 ? (78 - used) / 4 * 3 : 0;
		if (bytes > cap)
			bytes = cap;
		size_t k = i;
		while (k < n) {
			size_t cl = u8len((unsigned char)t[k]);
			if (k + cl > n)
				cl = n - k;
			if (k - i + cl > bytes)
				break;
			k += cl;
		}
		if (k == i) {
			if (*col > 1) {
				/* Fold, then retry on a fresh line. */
				sb_adds(sb, "\r\n ");
				*col = 1;
				sep = 0;
				continue;
			}
			k = i + u8len((unsigned char)t[i]);
			if (k > n)
				k = n;
		}
		if (sep) {
			sb_addc(sb, ' ');
			(*col)++;
		}
		size_t before = sb->len;
		sb_adds(sb, "=?UTF-8?B?");
		b64_enc(sb, (const unsigned char *)t + i, k - i);
		sb_adds(sb, "?=");
		*col += sb->len - before;
		i = k;
		sep = 1;
		words++;
	}
}

/* Printable ASCII that no decoder would take for an encoded word. */
static int
ascii_safe(const char *s)
{
	for (size_t i = 0; s[i]; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch < 0x20 || ch > 0x7e)
			return 0;
		if ((ch == '=' && s[i + 1] == '?') || (ch == '?' && s[i + 1] == '='))
			return 0;
	}
	return 1;
}

char *
mime_encode_header(const char *utf8, size_t name_len)
{
	char *s = enc_clean(utf8);
	size_t n = strlen(s);
	if (name_len + n <= 78 && ascii_safe(s))
		return s;
	/* Words separated by single spaces; maximal runs of plain words stay
	 * readable, other runs (their inner spaces included) are encoded. */
	struct sbuf sb = {0};
	sb_add(&sb, "", 0);
	size_t col = name_len, i = 0;
	int first = 1;
	while (i <= n) {
		/* collect a run */
		size_t ws = i;
		size_t we = ws;
		while (we < n && s[we] != ' ')
			we++;
		int plain = plain_word(s + ws, we - ws, 76);
		size_t re = we;   /* run end */
		if (!plain) {
			/* extend over following words that are not plain */
			while (re < n) {
				size_t a = re + 1, b = a;
				while (b < n && s[b] != ' ')
					b++;
				if (b > a && plain_word(s + a, b - a, 76))
					break;
				re = b;
			}
			ew_emit(&sb, s + ws, re - ws, &col, !first, 75, 0);
		} else {
			size_t wl = we - ws;
			if (!first) {
				if (col + 1 + wl > 78) {
					sb_adds(&sb, "\r\n ");
					col = 1;
				} else {
					sb_addc(&sb, ' ');
					col++;
				}
			}
			sb_add(&sb, s + ws, wl);
			col += wl;
		}
		first = 0;
		if (re >= n)
			break;
		i = re + 1;
	}
	free(s);
	return sb_steal(&sb);
}

char *
mime_encode_phrase(const char *utf8)
{
	char *s = enc_clean(utf8);
	size_t n = strlen(s);
	int ascii = ascii_safe(s), special = 0;
	size_t quoted = n + 2;
	for (size_t i = 0; i < n; i++) {
		if (strchr("()<>[]:;@\\,.\"", s[i]))
			special = 1;
		if (s[i] == '"' || s[i] == '\\')
			quoted++;
	}
	/* A name longer than a line may hold no space to fold at (RFC 5322
	 * allows 998 characters a line): it is encoded, one word per line. */
	if (ascii && (special ? quoted : n) > 60)
		ascii = 0;
	if (ascii && !special)
		return s;
	struct sbuf sb = {0};
	sb_add(&sb, "", 0);
	if (ascii) {
		sb_addc(&sb, '"');
		for (size_t i = 0; i < n; i++) {
			if (s[i] == '"' || s[i] == '\\')
				sb_addc(&sb, '\\');
			sb_addc(&sb, s[i]);
		}
		sb_addc(&sb, '"');
	} else {
		/* Words of at most 60 columns so "Reply-To: " + word fits. */
		size_t col = 0;
		ew_emit(&sb, s, n, &col, 0, 60, 1);
	}
	free(s);
	return sb_steal(&sb);
}

static int
attr_char(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || strchr("!#$&+-.^_`|~", ch);
}

char *
mime_encode_param(const char *param, const char *utf8)
{
	char *p = xstrdup(param && *param ? param : "filename");
	for (char *q = p; *q; q++)
		if (!attr_char((unsigned char)*q) || *q == '*')
			*q = '_';
	char *s = enc_clean(utf8);
	size_t n = strlen(s);
	int ascii = 1;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			ascii = 0;
	/* A quoted value is one unfoldable line: a long one gets continuations. */
	if (strlen(p) + n > 60)
		ascii = 0;
	struct sbuf sb = {0};
	sb_add(&sb, "", 0);
	if (ascii) {
		sb_printf(&sb, "%s=\"", p);
		for (size_t i = 0; i < n; i++) {
			if (s[i] == '"' || s[i] == '\\')
				sb_addc(&sb, '\\');
			sb_addc(&sb, s[i]);
		}
		sb_addc(&sb, '"');
		free(s);
		free(p);
		return sb_steal(&sb);
	}
	/* RFC 2231: percent-encoded UTF-8, cut into continuations of at most
	 * about 60 characters at character boundaries. */
	struct sbuf pct = {0};
	size_t *cuts = xcalloc(n ? n : 1, sizeof(*cuts)), ncuts = 0; /* a cut per character */
	sb_add(&pct, "", 0);
	for (size_t i = 0; i < n;) {
		size_t cl = u8len((unsigned char)s[i]);
		if (i + cl > n)
			cl = n - i;
		for (size_t k = 0; k < cl; k++) {
			unsigned char ch = (unsigned char)s[i + k];
			if (attr_char(ch) && ch != '%' && ch != '\'')
				sb_addc(&pct, (char)ch);
			else
				sb_printf(&pct, "%%%02X", ch);
		}
		i += cl;
		cuts[ncuts++] = pct.len;
	}
	const char *prefix = "UTF-8''";
	if (strlen(p) + 2 + strlen(prefix) + pct.len <= 70) {
		sb_printf(&sb, "%s*=%s%s", p, prefix, pct.s);
	} else {
		size_t start = 0, seg = 0, last = 0;
		for (size_t k = 0; k < ncuts; k++) {
			size_t limit = seg == 0 ? 60 - strlen(prefix) : 60;
			if (cuts[k] - start > limit && last > start) {
				sb_printf(&sb, "%s%s*%zu*=%s%.*s", seg ? ";\r\n " : "", p, seg,
				    seg ? "" : prefix, (int)(last - start), pct.s + start);
				seg++;
				start = last;
			}
			last = cuts[k];
		}
		if (last > start || seg == 0)
			sb_printf(&sb, "%s%s*%zu*=%s%.*s", seg ? ";\r\n " : "", p, seg,
			    seg ? "" : prefix, (int)(last - start), pct.s + start);
	}
	free(cuts);
	sb_free(&pct);
	if (strcmp(p, "name") == 0) {
		/* RFC 2047 fallback that Outlook and older clients read. */
		sb_printf(&sb, ";\r\n %s=\"", p);
		size_t col = strlen(p) + 3;
		ew_emit(&sb, s, n, &col, 0, 75, 0);
		sb_addc(&sb, '"');
	}
	free(s);
	free(p);
	return sb_steal(&sb);
}
