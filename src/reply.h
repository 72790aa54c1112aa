/*
 * reply: reading what a person wrote in a reply to a task mail — the text
 * above the quoted original, without signatures — and the command on its
 * first non-empty line.  Knows how Outlook, Outlook.com, Gmail, Thunderbird,
 * Apple Mail, GMX and Yandex quote, in Polish, German and English (and the
 * French, Dutch and Scandinavian forms of their headers).
 */
#ifndef INKFLOW_REPLY_H
#define INKFLOW_REPLY_H

#include <stddef.h>

/* The new text of a reply: everything before the first quote marker
 * ("-----Original Message-----", "-----Ursprüngliche Nachricht-----",
 * "-----Wiadomość oryginalna-----", an Outlook header block "From: … Sent:"
 * / "Od: … Wysłano:" / "Von: … Gesendet:" (GMX: "Gesendet: … Von: …"),
 * "On … wrote:", "W dniu … pisze:", "Użytkownik … napisał w wiadomości …:",
 * "Am … schrieb …:", "Le … a écrit :", lines starting with ">"), with the
 * signature ("-- " line, "Sent from my iPhone", "Wysłane z iPhone'a",
 * "Von meinem iPhone gesendet", "Pozdrawiam"/"Mit freundlichen Grüßen"
 * closing blocks are kept: only the standard "-- " separator and mobile
 * footers are cut) removed, trailing blank lines trimmed.  Handles CRLF and
 * wrapped "On … wrote:" lines (Gmail splits them over two lines).  Caller
 * frees.
 * The result has LF line ends; leading lines are kept, so line numbers
 * match the original.  Everything below the first marker is dropped, also
 * unquoted text after it (bottom-posted replies yield ""; nothing acts).
 * "On … wrote:"-style lines count only when they hold a digit (the date).
 * Mobile footers are cut only as the last non-blank line.  NULL gives "".
 * Linear in the size of text. */
char *reply_new_text(const char *text);

/* The sender named in the quoted part of a forward: the first From line
 * ("From:", "Od:", "Von:", "*From:*", Outlook's "From: X Sent: …" on one
 * line) among the first lines below the quote marker, as <addr>,
 * [mailto:addr] or a bare address.  1 with *addr (lowercase) and *name
 * (the display name, or NULL) set, for the caller to free; 0 when there is
 * none. */
int reply_forwarded_from(const char *text, char **addr, char **name);

enum reply_cmd {
	CMD_NONE,     /* no command on the first line */
	CMD_APPROVE,  /* APPROVE | AKCEPTUJ | ZATWIERDZAM | GENEHMIGT */
	CMD_CORRECT,  /* CORRECT | KORYGUJ | KORREKTUR */
	CMD_REJECT,   /* REJECT | ODRZUĆ | ODRZUC | ODRZUCAM | ABLEHNEN | ABGELEHNT */
	CMD_CONFIRM,  /* CONFIRM | POTWIERDZAM | BESTÄTIGT */
	CMD_REFUSE,   /* REFUSE | ODMOWA | ODMAWIAM | VERWEIGERT */
	CMD_DONE,     /* DONE | WYKONANE | ERLEDIGT */
	CMD_ASSIGN,   /* ASSIGN | PRZYDZIEL | ZUWEISEN <login> */
	CMD_NOTE,     /* NOTE | NOTATKA | NOTIZ <text> */
	CMD_SUBMIT,   /* SUBMIT | WYŚLIJ | WYSLIJ | EINREICHEN [login] */
	CMD_ACCEPTED, /* ACCEPTED | AKCEPTUJĘ OFERTĘ | ZAAKCEPTOWANE | ANGENOMMEN */
	CMD_DELIVERED,/* DELIVERED | DOSTARCZONO | GELIEFERT <invoice no> */
	CMD_COMPLAINT,/* COMPLAINT | REKLAMACJA | REKLAMATION */
	CMD_OPINION,  /* OPINION | OPINIA | STELLUNGNAHME <text> */
	CMD_DECIDE,   /* DECIDE | DECYZJA | ENTSCHEIDUNG <option> … */
	CMD__COUNT
};

/* Canonical English name ("APPROVE"), and back (case-insensitive, any of
 * the words above, Polish with or without diacritics); CMD_NONE if unknown.
 * reply_cmd_name gives "NONE" for CMD_NONE and out-of-range values.
 * German umlauts may also be written ae/oe/ue ("BESTAETIGT").  A lone
 * "AKCEPTUJĘ" is none: it could mean APPROVE or ACCEPTED. */
const char *reply_cmd_name(enum reply_cmd c);
enum reply_cmd reply_cmd_parse(const char *word);

struct reply {
	enum reply_cmd cmd;
	char *arg;    /* rest of the command line, trimmed ("" if none) */
	char *rest;   /* the lines after the command line (reason, calculation
	               * lines, note text), trimmed; "" if none */
	int line;     /* line number of the command within the new text
	               * (1-based); 0 with CMD_NONE */
};

/* Parse the first non-empty line of the new text (after reply_new_text)
 * as a command, also when written as "Re: APPROVE" or "APPROVE." or with
 * the subject prefix of an action link ("[INK-12] APPROVE").  A greeting
 * typed out of habit comes first: "Dzień dobry,", "Hallo Anna," or "Hi!"
 * (a short line opening with a greeting) and the command is the next
 * non-empty line, or follows the greeting's comma ("Witam, zatwierdzam").
 * The words are matched case-insensitively.  Always fills out (cmd
 * CMD_NONE when that line is not a command).  Free with reply_free.
 * Prefixes Re:/Odp:/AW:/Antw:/SV: and the tag may repeat in any order;
 * the argument may follow after a space, ':' or " - " ("REJECT: reason");
 * trailing . ! : , ; on the word are ignored.  With CMD_NONE, arg and rest
 * are "" (the caller has the new text).  No other line is ever searched:
 * a command further down, or quoted, never acts. */
void reply_parse(const char *new_text, struct reply *out);
void reply_free(struct reply *r);

#endif
