#include "compose.h"

#include <stdlib.h>
#include <string.h>

#include "mime.h"
#include "util.h"

char *
compose_message_id(const char *domain, int64_t project)
{
	char rnd[25];
	random_hex(rnd, 12);
	return xasprintf("ink-%lld-%s@%s", (long long)project, rnd, domain);
}

/* Encode the blank that ends the output so far ("=20", "=09"): an encoded
 * line must not end in white space.  col is the column after the blank. */
static void
qp_end_blank(struct sbuf *sb, size_t col)
{
	static const char hexd[] = "0123456789ABCDEF";
	if (!sb->len || (sb->s[sb->len - 1] != ' ' && sb->s[sb->len - 1] != '\t'))
		return;
	unsigned char last = (unsigned char)sb->s[--sb->len];
	sb->s[sb->len] = '\0';
	if (col + 2 > 76) /* the escape would pass column 76 */
		sb_adds(sb, "=\n");
	char esc[3] = {'=', hexd[last >> 4], hexd[last & 15]};
	sb_add(sb, esc, 3);
}

char *
compose_qp(const char *text)
{
	static const char hexd[] = "0123456789ABCDEF";
	struct sbuf sb = {0};
	size_t col = 0;
	sb_add(&sb, "", 0);
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		unsigned char c = *p;
		if (c == '\r')
			continue;
		if (c == '\n') {
			/* Trailing blanks before a line break must be encoded. */
			qp_end_blank(&sb, col);
			sb_addc(&sb, '\n');
			col = 0;
			continue;
		}
		int plain = (c >= 33 && c <= 126 && c != '=') || c == ' ' || c == '\t';
		size_t need = plain ? 1 : 3;
		if (col + need > 75) {
			sb_adds(&sb, "=\n");
			col = 0;
		}
		/* A line starting with "." or "From " is encoded defensively;
		 * checked after the soft break, which starts a line too. */
		if (col == 0 && (c == '.' || (c == 'F' && strncmp((const char *)p, "From ", 5) == 0))) {
			plain = 0;
			need = 3;
		}
		if (plain) {
			sb_addc(&sb, (char)c);
		} else {
			char esc[3] = {'=', hexd[c >> 4], hexd[c & 15]};
			sb_add(&sb, esc, 3);
		}
		col += need;
	}
	qp_end_blank(&sb, col);
	return sb_steal(&sb);
}

char *
compose_base64(const char *data, size_t len)
{
	static const char tbl[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	struct sbuf sb = {0};
	const unsigned char *p = (const unsigned char *)data;
	size_t col = 0;
	sb_add(&sb, "", 0);
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		if (i + 1 < len)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		char q[4] = {tbl[(v >> 18) & 63], tbl[(v >> 12) & 63],
		    i + 1 < len ? tbl[(v >> 6) & 63] : '=', i + 2 < len ? tbl[v & 63] : '='};
		sb_add(&sb, q, 4);
		col += 4;
		if (col >= 76) {
			sb_addc(&sb, '\n');
			col = 0;
		}
	}
	if (col)
		sb_addc(&sb, '\n');
	return sb_steal(&sb);
}

/* The mime.c encoders fold with "\r\n "; this message has LF line ends. */
static char *
lf_only(char *s)
{
	char *w = s;
	for (const char *r = s; *r; r++)
		if (*r != '\r')
			*w++ = *r;
	*w = '\0';
	return s;
}

static void
add_address(struct sbuf *sb, const char *field, const char *name, const char *addr)
{
	char *a = str_oneline(addr);
	if (name && *name) {
		char *n = lf_only(mime_encode_phrase(name));
		/* Fold before the address when the line would pass 78 columns. */
		const char *nl = strrchr(n, '\n');
		size_t last = nl ? strlen(nl + 1) : strlen(field) + 2 + strlen(n);
		sb_printf(sb, "%s: %s%s<%s>\n", field, n, last + 3 + strlen(a) > 78 ? "\n " : " ", a);
		free(n);
	} else
		sb_printf(sb, "%s: <%s>\n", field, a);
	free(a);
}

static void
add_text_part(struct sbuf *sb, const char *type, const char *body)
{
	char *qp = compose_qp(body);
	size_t n = strlen(qp);
	sb_printf(sb, "Content-Type: %s; charset=UTF-8\n"
	              "Content-Transfer-Encoding: quoted-printable\n\n", type);
	sb_add(sb, qp, n);
	if (!n || qp[n - 1] != '\n')
		sb_addc(sb, '\n');
	free(qp);
}

static void
add_alternative(struct sbuf *sb, const struct mail_out *m, const char *boundary)
{
	if (!m->html) {
		add_text_part(sb, "text/plain", m->text);
		return;
	}
	sb_printf(sb, "Content-Type: multipart/alternative; boundary=\"%s\"\n\n", boundary);
	sb_printf(sb, "--%s\n", boundary);
	add_text_part(sb, "text/plain", m->text);
	sb_printf(sb, "\n--%s\n", boundary);
	add_text_part(sb, "text/html", m->html);
	sb_printf(sb, "\n--%s--\n", boundary);
}

/* A msg-id cannot be folded, and RFC 5322 allows 998 characters a line:
 * one that would not fit a line is left out of In-Reply-To and References
 * (the thread loses a link; the mail still goes). */
static int
msgid_fits(const char *id)
{
	return strlen(id) <= 900;
}

char *
compose_mail(const struct mail_out *m, const char *message_id, int64_t date)
{
	struct sbuf sb = {0};
	char datebuf[64], rnd[17];
	rfc5322_date(date, datebuf, sizeof(datebuf));
	random_hex(rnd, 8);

	add_address(&sb, "From", m->from_name, m->from_addr);
	add_address(&sb, "To", m->to_name, m->to_addr);
	if (m->cc_addr)
		add_address(&sb, "Cc", m->cc_name, m->cc_addr);
	if (m->reply_to) {
		char *r = str_oneline(m->reply_to);
		sb_printf(&sb, "Reply-To: <%s>\n", r);
		free(r);
	}
	char *subj = lf_only(mime_encode_header(m->subject ? m->subject : "", strlen("Subject: ")));
	sb_printf(&sb, "Subject: %s\n", subj);
	free(subj);
	sb_printf(&sb, "Date: %s\n", datebuf);
	sb_printf(&sb, "Message-ID: <%s>\n", message_id);
	if (m->in_reply_to && msgid_fits(m->in_reply_to)) {
		char *v = str_oneline(m->in_reply_to);
		sb_printf(&sb, "In-Reply-To: <%s>\n", v);
		free(v);
	}
	size_t nrefs = 0;
	for (size_t i = 0; i < m->nrefs; i++) {
		if (!msgid_fits(m->refs[i]))
			continue;
		char *v = str_oneline(m->refs[i]);
		sb_printf(&sb, "%s<%s>", nrefs++ ? "\n " : "References: ", v);
		free(v);
	}
	if (nrefs)
		sb_addc(&sb, '\n');
	if (m->auto_generated) {
		sb_adds(&sb, "Auto-Submitted: auto-generated\n");
		/* Ask Exchange not to answer our automatic mail with OOF notes. */
		sb_adds(&sb, "X-Auto-Response-Suppress: OOF, AutoReply\n");
	}
	if (m->loop_id) {
		char *v = str_oneline(m->loop_id);
		sb_printf(&sb, "X-Inkflow-Loop: %s\n", v);
		free(v);
	}
	if (m->project > 0)
		sb_printf(&sb, "X-Inkflow-Project: %lld\n", (long long)m->project);
	sb_adds(&sb, "MIME-Version: 1.0\n");

	if (!m->natts) {
		char *b = xasprintf("=_alt_%s", rnd);
		add_alternative(&sb, m, b);
		free(b);
		return sb_steal(&sb);
	}
	char *mixed = xasprintf("=_mix_%s", rnd);
	char *alt = xasprintf("=_alt_%s", rnd);
	sb_printf(&sb, "Content-Type: multipart/mixed; boundary=\"%s\"\n\n", mixed);
	sb_printf(&sb, "--%s\n", mixed);
	add_alternative(&sb, m, alt);
	for (size_t i = 0; i < m->natts; i++) {
		const struct mail_att_out *a = &m->atts[i];
		/* mime_encode_param does not promise to drop CR/LF. */
		char *fname = str_oneline(a->filename);
		char *ctype = str_oneline(a->content_type);
		char *fn = lf_only(mime_encode_param("filename", fname));
		char *nm = lf_only(mime_encode_param("name", fname));
		char *b64 = compose_base64(a->data, a->len);
		sb_printf(&sb, "\n--%s\nContent-Type: %s; %s\n"
		               "Content-Disposition: attachment; %s\n"
		               "Content-Transfer-Encoding: base64\n\n%s",
		    mixed, ctype, nm, fn, b64);
		free(fname);
		free(ctype);
		free(fn);
		free(nm);
		free(b64);
	}
	sb_printf(&sb, "\n--%s--\n", mixed);
	free(mixed);
	free(alt);
	return sb_steal(&sb);
}
