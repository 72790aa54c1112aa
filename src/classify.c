#include "classify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ical.h"
#include "mime.h"
#include "util.h"

const char *
class_name(enum msg_class c)
{
	switch (c) {
	case CLASS_NORMAL: return "normal";
	case CLASS_AUTOREPLY: return "auto-reply";
	case CLASS_BOUNCE: return "bounce";
	case CLASS_LIST: return "list";
	case CLASS_LOOP: return "loop";
	case CLASS_SPAM: return "spam";
	}
	return "?";
}

static const char *
domain_of(const char *addr)
{
	const char *at = addr ? strrchr(addr, '@') : NULL;
	return at ? at + 1 : "";
}

/* Local parts that only automatic senders use. */
static int
is_daemon_local(const char *addr)
{
	static const char *names[] = {"mailer-daemon@", "postmaster@",
	    "mail-daemon@", "mailerdaemon@"};
	for (size_t i = 0; i < ARRAY_LEN(names); i++)
		if (addr && str_istarts(addr, names[i]))
			return 1;
	return 0;
}

/* 1 when a List-Id names a list of the shop's own domain dom ("Biuro
 * <biuro.bmt.example>", "<oferty.lists.bmt.example>"): a Google Group or
 * a mailing list that the shop's address is, passing a sender's mail on. */
static int
own_list_id(const char *v, const char *dom)
{
	if (!v || !*dom)
		return 0;
	const char *s = strrchr(v, '<'), *e;
	if (s) {
		s++;
		e = strchr(s, '>');
		if (!e)
			e = s + strlen(s);
	} else {
		s = v;
		e = v + strlen(v);
	}
	size_t n = (size_t)(e - s), d = strlen(dom);
	return n > d + 1 && s[n - d - 1] == '.' && strncasecmp(s + n - d, dom, d) == 0;
}

/* 1 when a List-Unsubscribe names the shop's own domain or Google Groups:
 * that of the shop's own group, not of the sender. */
static int
own_unsubscribe(const char *v, const char *dom)
{
	return v && ((*dom && strcasestr(v, dom)) || strcasestr(v, "googlegroups.com"));
}

/* Subject openings auto-responders use when they set no header (seen from
 * Exchange, Gmail vacation, Onet/WP/Interia, GMX/web.de, Zimbra). */
static int
is_autoreply_subject(const char *s)
{
	static const char *pre[] = {"Automatic reply:", "Auto reply:", "Autoreply:",
	    "Auto-reply:", "Out of Office", "Automatyczna odpowiedź",
	    "Odpowiedź automatyczna", "Autoodpowiedź", "Nieobecność",
	    "Abwesenheitsnotiz", "Automatische Antwort", "Automatische Abwesenheit",
	    "Abwesend:", "Réponse automatique", "Respuesta automática"};
	if (!s)
		return 0;
	for (size_t i = 0; i < ARRAY_LEN(pre); i++)
		if (str_istarts(s, pre[i]))
			return 1;
	/* Lotus Notes writes "AUTO: <name> is out of the office"; "Auto:" in
	 * any other case is a person's subject ("Auto: oklejenie busów"). */
	return strncmp(s, "AUTO:", 5) == 0;
}

/* 1 when v (a header value) starts with the word w, case-insensitive. */
static int
starts_word(const char *v, const char *w)
{
	size_t n = strlen(w);
	while (v && (*v == ' ' || *v == '\t'))
		v++;
	if (!v || !str_istarts(v, w))
		return 0;
	char c = v[n];
	return !((c | 0x20) >= 'a' && (c | 0x20) <= 'z') && !(c >= '0' && c <= '9');
}

/* Only verdicts count, never scores alone (X-Spam-Level); a forged
 * "spam" header only hides the forger's own mail. */
int
classify_spam(const struct mime_msg *m, char *why, size_t whylen)
{
	static const char *const subject_marks[] = {"***SPAM***", "*****SPAM*****", "[SPAM]",
	    "{SPAM?}", "[SPAM?]", "*SPAM*"};
	static const char *const forefront[] = {"sfv:spm", "sfv:sks", "cat:spm", "cat:hspm",
	    "cat:phsh", "cat:hphsh"};
	const char *hit = NULL, *val = NULL;
	if (starts_word(m->x_spam_flag, "yes"))
		hit = "X-Spam-Flag", val = m->x_spam_flag;
	else if (starts_word(m->x_spam_status, "yes"))
		hit = "X-Spam-Status", val = m->x_spam_status;
	else if (starts_word(m->x_spam, "yes") || starts_word(m->x_spam, "true"))
		hit = "X-Spam", val = m->x_spam;
	else if (m->x_ms_scl) {
		char *end;
		long scl = strtol(m->x_ms_scl, &end, 10);
		/* 5..9: Exchange's own junk threshold; -1 is a trusted sender. */
		if (end != m->x_ms_scl && scl >= 5 && scl <= 9)
			hit = "X-MS-Exchange-Organization-SCL", val = m->x_ms_scl;
	}
	if (!hit && m->x_forefront) {
		/* "CIP:…;CTRY:PL;LANG:pl;SCL:5;SRV:;IPV:NLI;SFV:SPM;…" */
		char *low = str_lower(xstrdup(m->x_forefront));
		for (size_t i = 0; i < ARRAY_LEN(forefront) && !hit; i++) {
			size_t n = strlen(forefront[i]);
			for (const char *f = strstr(low, forefront[i]); f && !hit;
			     f = strstr(f + 1, forefront[i]))
				if ((f == low || f[-1] == ';' || f[-1] == ' ') &&
				    (f[n] == ';' || f[n] == '\0' || f[n] == ' '))
					hit = "X-Forefront-Antispam-Report", val = forefront[i];
		}
		free(low);
	}
	if (!hit && m->subject) {
		const char *s = m->subject;
		while (*s == ' ')
			s++;
		for (size_t i = 0; i < ARRAY_LEN(subject_marks) && !hit; i++)
			if (str_istarts(s, subject_marks[i]))
				hit = "subject", val = subject_marks[i];
	}
	if (hit)
		snprintf(why, whylen, "%s: %.120s", hit, val);
	return hit != NULL;
}

/* A calendar program's answer to an invitation (RFC 5546 REPLY, COUNTER,
 * REFRESH), as Outlook, Thunderbird and Google Calendar send it when
 * someone presses "Accept" on a task's calendar entry: its text ("X has
 * accepted") is no command and no inquiry. */
const struct mime_att *
classify_calendar_answer(const struct mime_msg *m, struct ical_answer *a)
{
	for (size_t i = 0; i < m->natts; i++) {
		const struct mime_att *t = &m->atts[i];
		if (!t->data || !t->content_type ||
		    (strcmp(t->content_type, "text/calendar") != 0 &&
		        strcmp(t->content_type, "application/ics") != 0))
			continue;
		if (ical_answer_read(t->data, t->len, a) < 0)
			continue;
		if (str_ieq(a->method, "REPLY") || str_ieq(a->method, "COUNTER") ||
		    str_ieq(a->method, "REFRESH"))
			return t;
	}
	return NULL;
}

/* The Action fields of a delivery-status report (RFC 3464) in m: *failed
 * counts "failed", *other every other action (delayed, delivered, relayed,
 * expanded).  Both 0 when m carries no readable report. */
static void
dsn_actions(const struct mime_msg *m, int *failed, int *other)
{
	*failed = *other = 0;
	for (size_t i = 0; i < m->natts; i++) {
		const struct mime_att *a = &m->atts[i];
		if (!a->data || !a->content_type ||
		    (strcmp(a->content_type, "message/delivery-status") != 0 &&
		        strcmp(a->content_type, "message/global-delivery-status") != 0 &&
		        strcmp(a->content_type, "text/delivery-status") != 0))
			continue;
		for (size_t at = 0; at < a->len;) {
			const char *line = a->data + at;
			const char *nl = memchr(line, '\n', a->len - at);
			size_t len = nl ? (size_t)(nl - line) : a->len - at;
			at += len + 1;
			if (len < 7 || !str_istarts(line, "action:"))
				continue;
			size_t k = 7;
			while (k < len && (line[k] == ' ' || line[k] == '\t'))
				k++;
			if (len - k >= 6 && str_istarts(line + k, "failed"))
				(*failed)++;
			else
				(*other)++;
		}
	}
}

/* 1 if an Auto-Submitted value is the keyword "no", which RFC 3834 lets
 * carry comments and parameters ("no (manual)", "no; x=y"). */
static int
is_auto_submitted_no(const char *v)
{
	if (!str_istarts(v, "no"))
		return 0;
	return v[2] == '\0' || v[2] == ' ' || v[2] == '\t' || v[2] == ';' || v[2] == '(';
}

enum msg_class
classify(const struct mime_msg *m, const char *system_address, char *why, size_t whylen)
{
	const char *ourdom = domain_of(system_address);
	snprintf(why, whylen, "%s", "");
	/* Mail the shop's own group passed on carries the group's list
	 * fields on top: they say nothing of the sender, whose own fields
	 * (a newsletter's, an autoresponder's) follow them. */
	const char *precedence = m->precedence, *list_id = m->list_id;
	const char *list_unsubscribe = m->list_unsubscribe;
	if (own_list_id(m->list_id, ourdom)) {
		list_id = m->list_id_next;
		if (precedence && str_ieq(precedence, "list"))
			precedence = m->precedence_next;
		if (own_unsubscribe(list_unsubscribe, ourdom))
			list_unsubscribe = m->list_unsubscribe_next;
	}

	if (m->x_inkflow_loop) {
		snprintf(why, whylen, "X-Inkflow-Loop: %s", m->x_inkflow_loop);
		return CLASS_LOOP;
	}
	if (m->from_addr && system_address && str_ieq(m->from_addr, system_address)) {
		snprintf(why, whylen, "From is the system address %s", system_address);
		return CLASS_LOOP;
	}
	if (m->message_id && *ourdom) {
		const char *at = strrchr(m->message_id, '@');
		if (at && str_ieq(at + 1, ourdom) && str_istarts(m->message_id, "ink-")) {
			snprintf(why, whylen, "Message-ID %s is one of ours", m->message_id);
			return CLASS_LOOP;
		}
	}

	if (m->content_type && strcmp(m->content_type, "multipart/report") == 0) {
		/* A read receipt (RFC 8098) says the mail arrived: automatic
		 * mail, not a failure. */
		if (m->report_type && str_ieq(m->report_type, "disposition-notification")) {
			snprintf(why, whylen, "read receipt (multipart/report; "
			                      "report-type=disposition-notification)");
			return CLASS_AUTOREPLY;
		}
		if (!m->report_type || str_ieq(m->report_type, "delivery-status") ||
		    str_ieq(m->report_type, "global-delivery-status")) {
			/* Only a report of a failure is a bounce; "delayed" (the
			 * server keeps trying) and "delivered" notices are not. */
			int failed, other;
			dsn_actions(m, &failed, &other);
			if (!failed && other) {
				snprintf(why, whylen, "delivery status notification without a failure");
				return CLASS_AUTOREPLY;
			}
			snprintf(why, whylen, "multipart/report; report-type=%s",
			    m->report_type ? m->report_type : "?");
			return CLASS_BOUNCE;
		}
	}
	if (m->return_path && !*m->return_path) {
		snprintf(why, whylen, "null return path <>");
		return CLASS_BOUNCE;
	}
	if (is_daemon_local(m->from_addr)) {
		snprintf(why, whylen, "From %s", m->from_addr);
		return CLASS_BOUNCE;
	}
	if (m->x_failed_recipients) {
		snprintf(why, whylen, "X-Failed-Recipients: %s", m->x_failed_recipients);
		return CLASS_BOUNCE;
	}

	struct ical_answer ans;
	if (classify_calendar_answer(m, &ans)) {
		if (ans.partstat[0])
			snprintf(why, whylen, "calendar answer (METHOD:%s, PARTSTAT=%s)", ans.method,
			    ans.partstat);
		else
			snprintf(why, whylen, "calendar answer (METHOD:%s)", ans.method);
		return CLASS_AUTOREPLY;
	}
	if (m->auto_submitted && !is_auto_submitted_no(m->auto_submitted)) {
		snprintf(why, whylen, "Auto-Submitted: %s", m->auto_submitted);
		return CLASS_AUTOREPLY;
	}
	if (m->x_autoreply) {
		snprintf(why, whylen, "X-Autoreply: %s", m->x_autoreply);
		return CLASS_AUTOREPLY;
	}
	if (m->x_autorespond) {
		snprintf(why, whylen, "X-Autorespond: %s", m->x_autorespond);
		return CLASS_AUTOREPLY;
	}
	if (precedence && str_ieq(precedence, "auto_reply")) {
		snprintf(why, whylen, "Precedence: %s", precedence);
		return CLASS_AUTOREPLY;
	}
	/* X-Auto-Response-Suppress is not read: it asks the receiving side
	 * not to answer automatically, and Exchange puts it on a person's mail
	 * too (mail to a distribution group, meeting mail, mail sent by
	 * applications through Exchange).  Exchange's own automatic replies
	 * say what they are with Auto-Submitted and their subject. */
	if (is_autoreply_subject(m->subject)) {
		snprintf(why, whylen, "auto-reply subject \"%.60s\"", m->subject);
		return CLASS_AUTOREPLY;
	}

	if (list_id) {
		snprintf(why, whylen, "List-Id: %s", list_id);
		return CLASS_LIST;
	}
	if (precedence && (str_ieq(precedence, "bulk") || str_ieq(precedence, "junk") ||
	                      str_ieq(precedence, "list"))) {
		snprintf(why, whylen, "Precedence: %s", precedence);
		return CLASS_LIST;
	}
	if (list_unsubscribe) {
		snprintf(why, whylen, "List-Unsubscribe present");
		return CLASS_LIST;
	}
	return CLASS_NORMAL;
}

/* ---- language ----------------------------------------------------------- */

/* Everyday words of one language only (diacritics also without them, as
 * people type them on a phone), lowercase. */
static const char *const words_pl[] = {"się", "sie", "nie", "jest", "proszę", "prosze",
    "dzień", "dzien", "dobry", "pozdrawiam", "oraz", "na", "dla", "że", "czy", "jak",
    "ofertę", "oferte", "oferta", "ofertą", "zapytanie", "wycenę", "wycene", "wyceny",
    "sztuk", "szt", "mamy", "chcemy", "potrzebujemy", "bardzo", "dziękuję", "dziekuje",
    "pani", "państwa", "panstwa", "witam", "uprzejmie", "będzie", "bedzie", "jeśli",
    "jesli", "który", "ktory", "która", "ktora", "które", "ktore", "przez", "już", "juz",
    "tylko", "także", "takze", "ile", "koszt", "kosztuje", "termin", "realizacji",
    "zamówienie", "zamowienie", "baner", "banery", "naklejki", "wymiar", "wymiary",
    "cena", "ceny", "pilne", "jutro", "tydzień", "tydzien", "pozdrowienia"};
static const char *const words_de[] = {"und", "der", "die", "das", "ist", "nicht", "mit",
    "für", "fur", "wir", "ihnen", "bitte", "danke", "sehr", "geehrte", "geehrter",
    "herren", "damen", "guten", "grüße", "grusse", "gruß", "gruss", "freundlichen",
    "angebot", "anfrage", "benötigen", "benotigen", "würden", "wurden", "können",
    "konnen", "möchten", "mochten", "auf", "von", "eine", "einen", "ein", "zu", "bei",
    "stück", "stuck", "vielen", "dank", "hallo", "liebe", "lieber", "wäre", "ware",
    "uns", "unser", "unsere", "oder", "auch", "noch", "über", "uber", "preis", "menge",
    "werbebanner", "planen", "aufkleber", "größe", "grosse", "lieferung", "dringend"};

static int
in_words(const char *w, size_t n, const char *const *list, size_t nlist)
{
	for (size_t i = 0; i < nlist; i++)
		if (strlen(list[i]) == n && memcmp(list[i], w, n) == 0)
			return 1;
	return 0;
}

/* Counts a letter of one language only at p, as UTF-8 (both cases). */
static void
letter_of(const unsigned char *p, size_t n, int *pl, int *de)
{
	if (n < 2)
		return;
	unsigned c = (unsigned)p[0] << 8 | p[1];
	switch (c) {
	case 0xc485: case 0xc484: /* ą Ą */
	case 0xc499: case 0xc498: /* ę Ę */
	case 0xc582: case 0xc581: /* ł Ł */
	case 0xc59b: case 0xc59a: /* ś Ś */
	case 0xc5bc: case 0xc5bb: /* ż Ż */
	case 0xc5ba: case 0xc5b9: /* ź Ź */
	case 0xc487: case 0xc486: /* ć Ć */
	case 0xc584: case 0xc583: /* ń Ń */
		(*pl)++;
		break;
	case 0xc3a4: case 0xc384: /* ä Ä */
	case 0xc3b6: case 0xc396: /* ö Ö */
	case 0xc3bc: case 0xc39c: /* ü Ü */
	case 0xc39f:              /* ß */
		(*de)++;
		break;
	}
}

static void
lang_count(const char *s, size_t n, int *pl, int *de)
{
	char w[32];
	size_t wn = 0;
	int too_long = 0;
	for (size_t i = 0; i <= n; i++) {
		unsigned char ch = i < n ? (unsigned char)s[i] : ' ';
		if (i < n)
			letter_of((const unsigned char *)s + i, n - i, pl, de);
		int letter = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch >= 0x80;
		if (letter) {
			if (wn < sizeof(w))
				w[wn++] = (char)((ch >= 'A' && ch <= 'Z') ? ch + 32 : ch);
			else
				too_long = 1;
			continue;
		}
		if (wn && !too_long) {
			/* Lowercase the Polish and German capitals too (first
			 * letter of a sentence: "Dzień", "Über", "Ärger"). */
			if (wn >= 2 && (unsigned char)w[0] == 0xc3 && (unsigned char)w[1] >= 0x80 &&
			    (unsigned char)w[1] <= 0x9e)
				w[1] = (char)((unsigned char)w[1] + 0x20);
			if (in_words(w, wn, words_pl, ARRAY_LEN(words_pl)))
				(*pl)++;
			else if (in_words(w, wn, words_de, ARRAY_LEN(words_de)))
				(*de)++;
		}
		wn = 0;
		too_long = 0;
	}
}

const char *
classify_lang(const char *subject, const char *text)
{
	int pl = 0, de = 0;
	if (subject)
		lang_count(subject, strnlen(subject, LANG_SCAN), &pl, &de);
	if (text)
		lang_count(text, strnlen(text, LANG_SCAN), &pl, &de);
	if (pl >= 3 && pl > 2 * de)
		return "pl";
	if (de >= 3 && de > 2 * pl)
		return "de";
	return NULL;
}
