/*
 * Unit tests for reply.c: the new text of replies as Outlook, Gmail,
 * Thunderbird and Apple Mail quote them in English, Polish and German;
 * signatures; commands in every language and case; and the rule that a
 * command counts only on the first non-empty line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reply.h"
#include "timing.h"
#include "util.h"

static void
assert_new(const char *in, const char *want)
{
	char *got = reply_new_text(in);
	if (strcmp(got, want) != 0)
		print_error("input:\n%s\n--- got:\n%s\n--- want:\n%s\n", in, got, want);
	assert_string_equal(got, want);
	free(got);
}

/* --- Outlook ------------------------------------------------------------ */

/* Quote headers of clients and languages seen in real-world replies (the
 * reply fixtures of mailgun's talon): each one ends the new text. */
static void
test_more_clients(void **state)
{
	(void)state;
	/* Outlook's plain text, indented, its From line wrapped in the mailto */
	assert_new("Akceptuj\n\n  *From:* bob@example.com [mailto:\n  bob@example.com]\n"
	    "  *Sent:* Wednesday, June 27, 2012 3:05 PM\n  *To:* biuro@bmt.example\n"
	    "  *Subject:* Hello\n\nakceptuj lub odrzuć\n",
	    "Akceptuj");
	/* Outlook.com: the date first, then Subject, From, To */
	assert_new("GENEHMIGT\n\nDate: Thu, 26 Jun 2014 13:53:45 +0400\nSubject: Angebot\n"
	    "From: biuro@bmt.example\nTo: anna@example.com\n\nGENEHMIGT oder ABGELEHNT?\n",
	    "GENEHMIGT");
	/* Gmail in a language it has no sentence for, wrapped; Yandex */
	assert_new("ok\n\n2014-10-17 11:28 GMT+03:00 Biuro BMT <\nbiuro@bmt.example>:\n\n> x\n",
	    "ok");
	assert_new("ok\n\n26.06.2014, 14:41, \"Biuro BMT\" <biuro@bmt.example>:\n> x\n", "ok");
	/* Dutch, Swedish and Norwegian attributions, Apple Mail's Dutch */
	assert_new("ok\n\nOp 13-02-2014 3:18 schreef Biuro <biuro@bmt.example>:\n\nx\n", "ok");
	assert_new("ok\n\nOp 17-feb.-2015, om 13:18 heeft Biuro <biuro@bmt.example> het volgende "
	    "geschreven:\n\nx\n", "ok");
	assert_new("ok\n\nDen 14 september, 2015 02:23:18, Biuro (biuro@bmt.example) skrev:\n\nx\n",
	    "ok");
	/* separators and header blocks in other languages */
	assert_new("ok\n-----Antwort Nachricht-----\nx\n", "ok");
	assert_new("ok\n-----Oprindelig meddelelse-----\nx\n", "ok");
	assert_new("ok\n\nFrån: Biuro [mailto:biuro@bmt.example]\nSkickat: den 26 augusti 2015 14:45\n"
	    "Till: anna@example.com\nÄmne: x\n\nx\n", "ok");
	/* Zimbra's German block and Notes': To and Cc before the date;
	 * Polish Outlook's "Wysłany:" and "UDW:"; Italian Outlook */
	assert_new("OK danke\n\n----- Ursprüngliche Mail -----\nVon: \"Biuro\" <biuro@bmt.example>\n"
	    "An: anna@example.com\nCC: jan@example.com\nGesendet: Montag, 3. Februar 2025 10:15:00\n"
	    "Betreff: Angebot\n\nGENEHMIGT oder ABGELEHNT?\n", "OK danke");
	assert_new("OK\n\nVon: Biuro BMT/BMT/DE\nAn: Anna Nowak/ABC/DE@ABC\nKopie: Jan\n"
	    "Datum: 03.02.2025 10:15\nBetreff: Angebot\n\nGENEHMIGT\n", "OK");
	assert_new("Akceptuję\n\nOd: Biuro <biuro@bmt.example>\nDo: Anna <anna@example.pl>\n"
	    "UDW: jan@example.pl\nWysłany: 3 lutego 2025 10:15\nTemat: oferta\n\nAKCEPTUJĘ\n",
	    "Akceptuję");
	assert_new("ok\n\nDa: Biuro [mailto:biuro@bmt.example]\nInviato: venerdì 9 giugno 2017 15:50\n"
	    "A: anna@example.it\nOggetto: Ordine\n\nx\n", "ok");
	assert_new("ok\n\n----- Original Nachricht ----\nx\n", "ok");
	/* lines that only look like a block stay text: no date among them */
	assert_new("Od: jutra\nDo: piątku\nDW: wszyscy\nTemat: druk\n", "Od: jutra\nDo: piątku\n"
	    "DW: wszyscy\nTemat: druk");
	/* Android mailers' "---- X wrote ----", an attribution inside dashes,
	 * "… sent:", and an HTML From and Date run onto one line */
	assert_new("ok\n\n---- Biuro BMT wrote ----\n\n> x\n", "ok");
	assert_new("ok\n\n------On 12/29/2026 17:32 PM, Biuro wrote-----\n\nx\n", "ok");
	assert_new("ok\n\nOn 11-Apr-2026, at 6:54 PM, Biuro <biuro@bmt.example> sent:\n\nx\n", "ok");
	assert_new("ok\n\nFrom: biuro@bmt.example Date: Thu, 24 Mar 2026 08:07:12 -0700\nx\n", "ok");
	/* everyday text that only looks like it stays */
	assert_new("ok\n-- wrote --\n", "ok\n-- wrote --");
	assert_new("ok\nFrom: Warszawa Date: jutro\n", "ok\nFrom: Warszawa Date: jutro");
	assert_new("Termin: 12.05.2026\nOd: Jan\nDo: piątku\n", "Termin: 12.05.2026\nOd: Jan\nDo: piątku");
	assert_new("Data: 12 maja\nTemat: baner\nOd: Jana\nDo: piątku\n",
	    "Data: 12 maja\nTemat: baner\nOd: Jana\nDo: piątku");
	assert_new("Cena 5 zł <netto>:\nok\n", "Cena 5 zł <netto>:\nok");
}

static void
test_outlook_separator(void **state)
{
	(void)state;
	assert_new("APPROVE\r\n\r\n-----Original Message-----\r\n"
	    "From: Anna Nowak <a.nowak@bmt.example>\r\n"
	    "Sent: Friday, November 27, 2026 10:15 AM\r\n"
	    "To: biuro@bmt.example\r\n"
	    "Subject: [INK-12] Please approve\r\n\r\nPlease approve.\r\n",
	    "APPROVE");
	assert_new("Akceptuję, dziękuję.\n\n-----Wiadomość oryginalna-----\n"
	    "Od: Anna Nowak [mailto:a.nowak@bmt.example]\n"
	    "Wysłano: 27 listopada 2026 10:15\nDo: biuro@bmt.example\n"
	    "Temat: [INK-12] Zatwierdź\n\nAPPROVE\n",
	    "Akceptuję, dziękuję.");
	assert_new("GENEHMIGT\n\n-----Ursprüngliche Nachricht-----\n"
	    "Von: Anna Nowak\nGesendet: Freitag, 27. November 2026 10:15\n"
	    "An: biuro@bmt.example\nBetreff: Freigabe\n",
	    "GENEHMIGT");
	/* Case, spacing and no diacritics. */
	assert_new("ok\n----- ORIGINAL MESSAGE -----\nx", "ok");
	assert_new("ok\n-----WIADOMOSC ORYGINALNA-----\nx", "ok");
	assert_new("ok\n-----WIADOMOŚĆ ORYGINALNA-----\nx", "ok");
	assert_new("ok\n-------- Oryginalna wiadomość --------\nx", "ok");
	assert_new("ok\n---------- Forwarded message ---------\nFrom: x", "ok");
	/* Dashes alone, or another phrase, are not a separator. */
	assert_new("ok\n-----\nx", "ok\n-----\nx");
	assert_new("ok\n----- Cena netto -----\nx", "ok\n----- Cena netto -----\nx");
}

static void
test_outlook_header_block(void **state)
{
	(void)state;
	static const char *const want = "REJECT za niska marża\nKlient chce 10% rabatu.";
	assert_new("REJECT za niska marża\nKlient chce 10% rabatu.\n\n"
	    "From: Anna Nowak <a.nowak@bmt.example>\n"
	    "Sent: Friday, November 27, 2026 10:15 AM\n"
	    "To: Biuro <biuro@bmt.example>\nSubject: RE: [INK-12] Approve\n\nAPPROVE\n",
	    want);
	assert_new("REJECT za niska marża\nKlient chce 10% rabatu.\n\n"
	    "Od: Anna Nowak <a.nowak@bmt.example>\n"
	    "Wysłano: piątek, 27 listopada 2026 10:15\n"
	    "Do: Biuro <biuro@bmt.example>\nDW: Jan Kowalski\n"
	    "Temat: RE: [INK-12] Zatwierdź\n\nAPPROVE\n",
	    want);
	assert_new("REJECT za niska marża\nKlient chce 10% rabatu.\n\n"
	    "Von: Anna Nowak <a.nowak@bmt.example>\n"
	    "Gesendet: Freitag, 27. November 2026 10:15\n"
	    "An: Biuro <biuro@bmt.example>\nBetreff: AW: [INK-12] Freigabe\n",
	    want);
	/* Outlook for Mac: Date instead of Sent. */
	assert_new("DONE\n\nFrom: Anna Nowak <a@b.example>\nDate: Friday, 27 November 2026 at 10:15\n"
	    "To: biuro@bmt.example\nSubject: x\n",
	    "DONE");
	/* The rule line Outlook puts above the block goes too. */
	assert_new("APPROVE\n\n________________________________\n"
	    "From: Anna Nowak <a.nowak@bmt.example>\nSent: Friday, November 27, 2026 10:15 AM\n"
	    "To: biuro@bmt.example\nSubject: x\n\nbody\n",
	    "APPROVE");
	assert_new("APPROVE\r\n________________________________\r\n\r\n"
	    "Od: Anna Nowak\r\nWysłano: piątek, 27 listopada 2026 10:15\r\nDo: biuro\r\n",
	    "APPROVE");
	/* HTML reduced to text: bold keys, sometimes one paragraph each. */
	assert_new("APPROVE\n\n*From:* Anna Nowak <a.nowak@bmt.example>\n"
	    "*Sent:* Friday, November 27, 2026 10:15 AM\n*To:* biuro@bmt.example\n"
	    "*Subject:* [INK-12] Approve\n",
	    "APPROVE");
	assert_new("APPROVE\n\n*Od:* Anna Nowak\n\n*Wysłano:* piątek, 27 listopada 2026 10:15\n\n"
	    "*Do:* biuro@bmt.example\n",
	    "APPROVE");
	assert_new("APPROVE\n\n*Von:* Anna Nowak\n*Gesendet:* Freitag, 27. November 2026 10:15\n"
	    "*An:* biuro@bmt.example\n",
	    "APPROVE");
	/* All on one line. */
	assert_new("APPROVE\n*From:* Anna Nowak <a@b.example> *Sent:* Friday, November 27, "
	    "2026 10:15 AM *To:* biuro@bmt.example *Subject:* x\n",
	    "APPROVE");
	assert_new("APPROVE\nVon: Anna Nowak Gesendet: Freitag, 27. November 2026 10:15 "
	    "An: biuro@bmt.example Betreff: x\n",
	    "APPROVE");
	/* French Outlook. */
	/* Outlook on the web, Polish. */
	assert_new("ok\n\nOd: Anna Nowak <a@b.example>\nWysłane: piątek, 27 listopada 2026 10:15\n"
	    "Do: biuro@bmt.example\nTemat: x\n",
	    "ok");
	assert_new("ok\n\nDe : Anna Nowak\nEnvoyé : vendredi 27 novembre 2026 10:15\nÀ : biuro\n",
	    "ok");
	/* GMX and web.de: the date first. */
	assert_new("GENEHMIGT\n\nGesendet: Freitag, 27. November 2026 um 10:15 Uhr\n"
	    "Von: \"Anna Nowak\" <a.nowak@bmt.example>\nAn: biuro@bmt.example\nBetreff: x\n\nBitte\n",
	    "GENEHMIGT");
	assert_new("ok\nGesendet: gestern\nVon: Anna\nDanke", "ok\nGesendet: gestern\nVon: Anna\nDanke");
	assert_new("ok\nData: jutro\nDo: piątku\nOd: rana", "ok\nData: jutro\nDo: piątku\nOd: rana");
	/* Person's own "Od:/Do:" lines are not a header block. */
	assert_new("NOTE termin realizacji\nOd: poniedziałku\nDo: piątku",
	    "NOTE termin realizacji\nOd: poniedziałku\nDo: piątku");
	assert_new("From: Warszawa\nTo: Berlin\nTransport 2 dni",
	    "From: Warszawa\nTo: Berlin\nTransport 2 dni");
}

/* --- Gmail, Thunderbird, Apple Mail ------------------------------------- */

static void
test_gmail(void **state)
{
	(void)state;
	assert_new("APPROVE\n\nOn Fri, 27 Nov 2026 at 10:15, Anna Nowak <a.nowak@bmt.example> wrote:\n\n"
	    "> Please approve\n> APPROVE\n",
	    "APPROVE");
	/* Wrapped over two lines. */
	assert_new("APPROVE\r\n\r\nOn Fri, 27 Nov 2026 at 10:15, Anna Nowak <\r\n"
	    "a.nowak@bmt.example> wrote:\r\n\r\n> Please approve\r\n",
	    "APPROVE");
	assert_new("APPROVE\n\nOn Fri, 27 Nov 2026 at 10:15, Anna Nowak\n"
	    "<a.nowak@bmt.example> wrote:\nPlease approve\n",
	    "APPROVE");
	/* The wrapped part alone looks like an attribution (digit, '@'). */
	assert_new("APPROVE\n\nOn Fri, 27 Nov 2026 at 10:15, Anna Nowak <\n"
	    "anna2@bmt.example> wrote:\n\n> Please approve\n",
	    "APPROVE");
	/* Older Polish Gmail, wrapped. */
	assert_new("ok\n\nDnia 27 listopada 2026 10:15 użytkownik Anna Nowak <\n"
	    "a.nowak@bmt.example> napisał:\n\n> x\n",
	    "ok");
	/* Over three lines. */
	assert_new("APPROVE\n\nOn Fri, 27 Nov 2026 at 10:15, Anna Maria\nNowak-Wiśniewska <\n"
	    "a.nowak@bmt.example> wrote:\nPlease approve\n",
	    "APPROVE");
	/* Polish Gmail. */
	assert_new("Akceptuję\n\npt., 27 lis 2026 o 10:15 Anna Nowak <a.nowak@bmt.example> napisał(a):\n\n"
	    "> Proszę o akceptację\n",
	    "Akceptuję");
	assert_new("Akceptuję\n\npt., 27 lis 2026 o 10:15 Anna Nowak <a.nowak@bmt.example>\n"
	    "napisał(a):\n\n> Proszę o akceptację\n",
	    "Akceptuję");
	/* Polish Gmail, the other wording, also wrapped. */
	assert_new("Akceptuję\n\nUżytkownik Anna Nowak <a.nowak@bmt.example> napisał w wiadomości "
	    "wysłanej w dniu pt., 27 lis 2026 o 10:15:\n\n> Proszę o akceptację\n",
	    "Akceptuję");
	assert_new("Akceptuję\n\nUżytkownik Anna Nowak <a.nowak@bmt.example> napisał w\n"
	    "wiadomości wysłanej w dniu pt., 27 lis 2026 o 10:15:\n\n> Proszę o akceptację\n",
	    "Akceptuję");
	/* Lotus Notes and older web mail in Polish. */
	assert_new("ok\n\nAnna Nowak napisał(a) dnia 27.11.2026 10:15:\n\nProszę\n", "ok");
	/* German Gmail. */
	assert_new("GENEHMIGT\n\nAm Fr., 27. Nov. 2026 um 10:15 Uhr schrieb Anna Nowak <\n"
	    "a.nowak@bmt.example>:\n\n> Bitte freigeben\n",
	    "GENEHMIGT");
	/* French. */
	assert_new("ok\n\nLe ven. 27 nov. 2026 à 10:15, Anna Nowak <a@b.example> a écrit :\n> x\n",
	    "ok");
	assert_new("ok\n\nLe ven. 27 nov. 2026 à 10:15, Anna Nowak <a@b.example> a écrit\u00a0:\n> x\n",
	    "ok");
}

static void
test_thunderbird(void **state)
{
	(void)state;
	assert_new("ODRZUĆ za drogo\n\nW dniu 27.11.2026 o 10:15, Anna Nowak pisze:\n> Proszę o akceptację\n",
	    "ODRZUĆ za drogo");
	assert_new("ABLEHNEN\n\nAm 27.11.2026 um 10:15 schrieb Anna Nowak:\n> Bitte freigeben\n",
	    "ABLEHNEN");
	assert_new("REJECT\n\nOn 27/11/2026 10:15, Anna Nowak wrote:\n> Please approve\n",
	    "REJECT");
	assert_new("REJECT\n\nOn 11/27/26 10:15 AM, Anna Nowak wrote:\n> Please approve\n",
	    "REJECT");
	/* Forward banner. */
	assert_new("FYI\n\n-------- Weitergeleitete Nachricht --------\nBetreff: x\n", "FYI");
}

static void
test_apple_mail(void **state)
{
	(void)state;
	assert_new("APPROVE\n\nSent from my iPhone\n\n> On 27 Nov 2026, at 10:15, Anna Nowak <a.nowak@bmt.example> wrote:\n"
	    "> \n> Please approve\n",
	    "APPROVE");
	assert_new("APPROVE\n\nOn 27 Nov 2026, at 10:15, Anna Nowak <a.nowak@bmt.example> wrote:\n\n"
	    "Please approve\n",
	    "APPROVE");
	assert_new("Akceptuję\n\nWiadomość napisana przez Anna Nowak <a.nowak@bmt.example> w dniu 27.11.2026, "
	    "o godz. 10:15:\n\n> Proszę o akceptację\n",
	    "Akceptuję");
	assert_new("GENEHMIGT\n\nAm 27.11.2026 um 10:15 schrieb Anna Nowak <a.nowak@bmt.example>:\n\n"
	    "> Bitte freigeben\n",
	    "GENEHMIGT");
	assert_new("FYI\n\nBegin forwarded message:\n\nFrom: x\n", "FYI");
	/* Wrapped before the date. */
	assert_new("Akceptuję\n\nWiadomość napisana przez Anna Nowak <a.nowak@bmt.example> w dniu\n"
	    "27.11.2026, o godz. 10:15:\n\n> Proszę o akceptację\n",
	    "Akceptuję");
}

static void
test_quoted_lines(void **state)
{
	(void)state;
	assert_new("DONE\n> quoted\n> more\n", "DONE");
	assert_new("DONE\n   > indented quote\n", "DONE");
	assert_new("DONE\n>> deeper\n", "DONE");
	/* Bottom-posting leaves nothing new above the quote: nothing acts. */
	assert_new("> Please approve\nAPPROVE\n", "");
	assert_new("\n\n> APPROVE\n", "");
}

static void
test_not_attributions(void **state)
{
	(void)state;
	/* No date: a person's own words. */
	assert_new("As you wrote:\nwe need 3 pieces", "As you wrote:\nwe need 3 pieces");
	assert_new("On Monday I wrote:\nsend it", "On Monday I wrote:\nsend it");
	assert_new("Klient pisze:\nchce rabat", "Klient pisze:\nchce rabat");
	/* The person's line above an attribution stays. */
	assert_new("Zgoda na 2026\npt., 27 lis 2026 o 10:15 Anna Nowak <a@b.example> napisał(a):\n> x",
	    "Zgoda na 2026");
	assert_new("On 2 items only\nOn Fri, 27 Nov 2026 at 10:15, Anna <a@b.example> wrote:\n> x",
	    "On 2 items only");
	assert_new("On 3 Dec we ship.\n<a@b.example> wrote:\n> x",
	    "On 3 Dec we ship.\n<a@b.example> wrote:");
	assert_new("Kierownik napisał 2 dni temu:\nzgoda", "Kierownik napisał 2 dni temu:\nzgoda");
	assert_new("Użytkownik końcowy napisał 3 uwagi:\nok",
	    "Użytkownik końcowy napisał 3 uwagi:\nok");
}

/* --- signatures --------------------------------------------------------- */

static void
test_signatures(void **state)
{
	(void)state;
	assert_new("APPROVE\n-- \nAnna Nowak\nBMT", "APPROVE");
	assert_new("APPROVE\r\n--\r\nAnna Nowak\r\n", "APPROVE");
	assert_new("REJECT za drogo\nbo tak\n\n-- \nAnna\n\nOn 27/11/2026 10:15, X wrote:\n> y",
	    "REJECT za drogo\nbo tak");
	/* Closing formulas are kept. */
	assert_new("APPROVE\n\nPozdrawiam\nAnna Nowak", "APPROVE\n\nPozdrawiam\nAnna Nowak");
	assert_new("OK\n\nMit freundlichen Grüßen\nAnna", "OK\n\nMit freundlichen Grüßen\nAnna");
	/* Not signature separators. */
	assert_new("cena -- do negocjacji\n---\nx", "cena -- do negocjacji\n---\nx");
	/* Mobile footers. */
	assert_new("APPROVE\n\nSent from my iPhone", "APPROVE");
	assert_new("APPROVE\n\nSent from my iPad\n\n", "APPROVE");
	assert_new("APPROVE\n\nWysłano z iPhone'a", "APPROVE");
	assert_new("APPROVE\n\nWysłano z iPhone\u2019a", "APPROVE");
	assert_new("APPROVE\n\nWysłane z iPhone'a", "APPROVE");
	assert_new("APPROVE\n\nVon meinem iPhone gesendet", "APPROVE");
	assert_new("APPROVE\n\nSent from Outlook for Android", "APPROVE");
	assert_new("APPROVE\n\nSent from Outlook for iOS", "APPROVE");
	assert_new("APPROVE\n\nGet Outlook for iOS<https://aka.ms/o0ukef>", "APPROVE");
	assert_new("APPROVE\n\nPobierz Outlook dla systemu Android<https://aka.ms/AAb9ysg>", "APPROVE");
	assert_new("APPROVE\n\nPobierz Outlook dla systemu iOS", "APPROVE");
	assert_new("APPROVE\n\nOutlook für Android herunterladen<https://aka.ms/ghei36>", "APPROVE");
	assert_new("APPROVE\n\nSent from my Galaxy", "APPROVE");
	/* Outlook mobile: footer, rule, header block. */
	assert_new("APPROVE\n\nGet Outlook for Android<https://aka.ms/ghei36>\n"
	    "________________________________\nFrom: Anna Nowak <a@b.example>\n"
	    "Sent: Friday, November 27, 2026 10:15:00 AM\nTo: biuro@bmt.example\n"
	    "Subject: x\n\nbody\n",
	    "APPROVE");
	/* Footer words inside the text are text. */
	assert_new("DONE\nWysłano z magazynu w Poznaniu", "DONE\nWysłano z magazynu w Poznaniu");
	assert_new("Sent from my iPhone, then fixed:\nprice 12", "Sent from my iPhone, then fixed:\nprice 12");
}

static void
test_whitespace(void **state)
{
	(void)state;
	assert_new("", "");
	assert_new("   \n\t\n\r\n", "");
	assert_new("\u00a0\n\u00a0\n", "");
	char *s = reply_new_text(NULL);
	assert_string_equal(s, "");
	free(s);
	/* Unchanged but for line ends and trailing blank lines; leading
	 * lines are kept so line numbers match the original. */
	assert_new("Line1\nLine2\n\n\n", "Line1\nLine2");
	assert_new("\n\nAPPROVE", "\n\nAPPROVE");
	assert_new("a\r\nb\r\n\r\n", "a\nb");
	assert_new("a\rb", "a\nb");
	assert_new("APPROVE\n\u00a0\n\u00a0\n> x", "APPROVE");
	assert_new("\xef\xbb\xbf" "APPROVE", "APPROVE");
}

/* --- commands ----------------------------------------------------------- */

static void
assert_cmd(const char *text, enum reply_cmd cmd, const char *arg, const char *rest, int line)
{
	struct reply r;
	reply_parse(text, &r);
	if (r.cmd != cmd)
		print_error("text: %s\ngot %s want %s\n", text, reply_cmd_name(r.cmd),
		    reply_cmd_name(cmd));
	assert_int_equal(r.cmd, cmd);
	assert_non_null(r.arg);
	assert_non_null(r.rest);
	assert_string_equal(r.arg, arg);
	assert_string_equal(r.rest, rest);
	assert_int_equal(r.line, line);
	reply_free(&r);
}

static void
assert_word(const char *text, enum reply_cmd cmd)
{
	assert_cmd(text, cmd, "", "", cmd == CMD_NONE ? 0 : 1);
}

static void
test_command_words(void **state)
{
	(void)state;
	static const struct {
		const char *w;
		enum reply_cmd c;
	} words[] = {
		{"APPROVE", CMD_APPROVE}, {"approve", CMD_APPROVE}, {"Approve", CMD_APPROVE},
		{"AKCEPTUJ", CMD_APPROVE}, {"akceptuj", CMD_APPROVE},
		{"ZATWIERDZAM", CMD_APPROVE}, {"GENEHMIGT", CMD_APPROVE},
		{"CORRECT", CMD_CORRECT}, {"KORYGUJ", CMD_CORRECT}, {"Korrektur", CMD_CORRECT},
		{"REJECT", CMD_REJECT}, {"ODRZUĆ", CMD_REJECT}, {"odrzuć", CMD_REJECT},
		{"Odrzuć", CMD_REJECT}, {"ODRZUC", CMD_REJECT}, {"odrzuc", CMD_REJECT},
		{"Odrzucam", CMD_REJECT}, {"ABGELEHNT", CMD_REJECT},
		{"ABLEHNEN", CMD_REJECT},
		{"CONFIRM", CMD_CONFIRM}, {"POTWIERDZAM", CMD_CONFIRM},
		{"BESTÄTIGT", CMD_CONFIRM}, {"bestätigt", CMD_CONFIRM},
		{"BESTAETIGT", CMD_CONFIRM}, {"Bestatigt", CMD_CONFIRM},
		{"REFUSE", CMD_REFUSE}, {"ODMOWA", CMD_REFUSE}, {"ODMAWIAM", CMD_REFUSE},
		{"VERWEIGERT", CMD_REFUSE},
		{"DONE", CMD_DONE}, {"WYKONANE", CMD_DONE}, {"ERLEDIGT", CMD_DONE},
		{"ASSIGN", CMD_ASSIGN}, {"PRZYDZIEL", CMD_ASSIGN}, {"ZUWEISEN", CMD_ASSIGN},
		{"NOTE", CMD_NOTE}, {"NOTATKA", CMD_NOTE}, {"NOTIZ", CMD_NOTE},
		{"SUBMIT", CMD_SUBMIT}, {"WYŚLIJ", CMD_SUBMIT}, {"wyślij", CMD_SUBMIT},
		{"WYSLIJ", CMD_SUBMIT}, {"EINREICHEN", CMD_SUBMIT},
		{"ACCEPTED", CMD_ACCEPTED}, {"AKCEPTUJĘ OFERTĘ", CMD_ACCEPTED},
		{"akceptuję ofertę", CMD_ACCEPTED}, {"Akceptuje oferte", CMD_ACCEPTED},
		{"AKCEPTUJĘ   OFERTĘ", CMD_ACCEPTED},
		{"ZAAKCEPTOWANE", CMD_ACCEPTED}, {"ANGENOMMEN", CMD_ACCEPTED},
		{"DELIVERED", CMD_DELIVERED}, {"DOSTARCZONO", CMD_DELIVERED},
		{"GELIEFERT", CMD_DELIVERED},
		{"COMPLAINT", CMD_COMPLAINT}, {"REKLAMACJA", CMD_COMPLAINT},
		{"REKLAMATION", CMD_COMPLAINT},
		{"OPINION", CMD_OPINION}, {"OPINIA", CMD_OPINION}, {"STELLUNGNAHME", CMD_OPINION},
		{"DECIDE", CMD_DECIDE}, {"DECYZJA", CMD_DECIDE}, {"ENTSCHEIDUNG", CMD_DECIDE},
		/* Punctuation, prefixes and the action link's subject. */
		{"APPROVE.", CMD_APPROVE}, {"APPROVE!", CMD_APPROVE}, {"APPROVE:", CMD_APPROVE},
		{"Approve!!!", CMD_APPROVE}, {"*APPROVE*", CMD_APPROVE},
		{"  APPROVE  ", CMD_APPROVE}, {"\u00a0APPROVE\u00a0", CMD_APPROVE},
		{"Re: APPROVE", CMD_APPROVE}, {"RE: APPROVE", CMD_APPROVE},
		{"Re:APPROVE", CMD_APPROVE}, {"Odp: AKCEPTUJ", CMD_APPROVE},
		{"AW: GENEHMIGT", CMD_APPROVE},
		{"[INK-12] APPROVE", CMD_APPROVE}, {"[ink-12] approve", CMD_APPROVE},
		{"Re: [INK-12] APPROVE", CMD_APPROVE}, {"RE: Re: [INK-12] APPROVE.", CMD_APPROVE},
		{"[INK-12] Re: APPROVE", CMD_APPROVE}, {"Odp: [INK-4711] ODRZUĆ", CMD_REJECT},
		{"AW: [INK-7] BESTÄTIGT", CMD_CONFIRM},
		{"[INK-12] AKCEPTUJĘ OFERTĘ.", CMD_ACCEPTED},
		/* Not commands. */
		{"APPROVED", CMD_NONE}, {"Approval granted", CMD_NONE},
		{"Dzień dobry,", CMD_NONE}, {"Hello APPROVE", CMD_NONE},
		{"re: hello", CMD_NONE}, {"[INK-12]", CMD_NONE}, {"[INK-x] APPROVE", CMD_NONE},
		{"[INK-] APPROVE", CMD_NONE}, {"OFERTĘ", CMD_NONE},
		{"AKCEPTUJĘ", CMD_NONE}, /* ambiguous alone: approve or accept? */
		{"APPROVE-ME", CMD_NONE}, {"-", CMD_NONE}, {"...", CMD_NONE},
	};
	for (size_t i = 0; i < ARRAY_LEN(words); i++)
		assert_word(words[i].w, words[i].c);
}

static void
test_command_args(void **state)
{
	(void)state;
	assert_cmd("REJECT za niska marża", CMD_REJECT, "za niska marża", "", 1);
	assert_cmd("REJECT: za niska marża\nKlient i tak kupi.\n", CMD_REJECT, "za niska marża",
	    "Klient i tak kupi.", 1);
	assert_cmd("REJECT:za niska marża", CMD_REJECT, "za niska marża", "", 1);
	assert_cmd("Odrzuć - za drogo", CMD_REJECT, "za drogo", "", 1);
	assert_cmd("ODRZUC \u2013 za drogo", CMD_REJECT, "za drogo", "", 1);
	assert_cmd("REJECT\u00a0za drogo\u00a0", CMD_REJECT, "za drogo", "", 1);
	assert_cmd("REJECT\nza niska marża\nproszę podnieść o 5%\n", CMD_REJECT, "",
	    "za niska marża\nproszę podnieść o 5%", 1);
	assert_cmd("ASSIGN a.nowak", CMD_ASSIGN, "a.nowak", "", 1);
	assert_cmd("PRZYDZIEL a.nowak", CMD_ASSIGN, "a.nowak", "", 1);
	assert_cmd("ZUWEISEN a.nowak", CMD_ASSIGN, "a.nowak", "", 1);
	assert_cmd("SUBMIT e.wisniewska", CMD_SUBMIT, "e.wisniewska", "", 1);
	assert_cmd("WYŚLIJ e.wisniewska", CMD_SUBMIT, "e.wisniewska", "", 1);
	assert_cmd("NOTE klient dzwonił, chce termin 12.12.", CMD_NOTE,
	    "klient dzwonił, chce termin 12.12.", "", 1);
	assert_cmd("DELIVERED FV/2026/11/123", CMD_DELIVERED, "FV/2026/11/123", "", 1);
	assert_cmd("DOSTARCZONO FV 123/2026", CMD_DELIVERED, "FV 123/2026", "", 1);
	assert_cmd("DECYZJA uznajemy\nWymiana banneru na koszt firmy.", CMD_DECIDE, "uznajemy",
	    "Wymiana banneru na koszt firmy.", 1);
	assert_cmd("AKCEPTUJĘ OFERTĘ, proszę o fakturę", CMD_ACCEPTED, "proszę o fakturę", "", 1);
	assert_cmd("ODMOWA: brak dokumentów rejestrowych", CMD_REFUSE,
	    "brak dokumentów rejestrowych", "", 1);
	assert_cmd("[INK-12] REJECT za drogo", CMD_REJECT, "za drogo", "", 1);
	assert_cmd("APPROVE .", CMD_APPROVE, "", "", 1);
	/* Calculation lines after CORRECT. */
	assert_cmd("CORRECT\nBAN-510 2 300x100cm @ 45,00\nFOL-01 10\n\nSUBMIT\n", CMD_CORRECT, "",
	    "BAN-510 2 300x100cm @ 45,00\nFOL-01 10\n\nSUBMIT", 1);
	/* Leading blank lines: line counts them. */
	assert_cmd("\n\n  APPROVE  \n\n", CMD_APPROVE, "", "", 3);
	assert_cmd("\r\n \r\nREJECT za drogo\r\nbo tak\r\n\r\nnaprawdę\r\n", CMD_REJECT, "za drogo",
	    "bo tak\n\nnaprawdę", 3);
	/* Not a command: nothing else is filled. */
	assert_cmd("Dziękuję,\nAPPROVE\n", CMD_NONE, "", "", 0);
	assert_cmd("", CMD_NONE, "", "", 0);
	assert_cmd(" \n\t\n", CMD_NONE, "", "", 0);
	struct reply r;
	reply_parse(NULL, &r);
	assert_int_equal(r.cmd, CMD_NONE);
	assert_string_equal(r.arg, "");
	reply_free(&r);
	reply_free(&r); /* idempotent */
}

/* The quoted original of a task mail says APPROVE; only the first line of
 * the new text may act. */
/* A greeting typed before the command. */
static void
test_greeting_first(void **state)
{
	(void)state;
	assert_cmd("Dzień dobry,\nZATWIERDZAM", CMD_APPROVE, "", "", 2);
	assert_cmd("Hallo Anna,\n\nGenehmigt.", CMD_APPROVE, "", "", 3);
	assert_cmd("Witam, zatwierdzam", CMD_APPROVE, "", "", 1);
	/* Blanks after the greeting, CRLF line ends. */
	assert_cmd("Dzień dobry, \nZATWIERDZAM", CMD_APPROVE, "", "", 2);
	assert_cmd("Hallo Anna,\r\nGenehmigt", CMD_APPROVE, "", "", 2);
	assert_cmd("Hi! \t\nDONE", CMD_DONE, "", "", 2);
	assert_cmd("Hi!\nREJECT: too low\nsee line 2", CMD_REJECT, "too low", "see line 2", 2);
	assert_cmd("Dzień dobry Pani Anno\nPOTWIERDZAM", CMD_CONFIRM, "", "", 2);
	assert_cmd("Sehr geehrte Frau Nowak,\nBESTÄTIGT", CMD_CONFIRM, "", "", 2);
	/* The person greeted between commas. */
	assert_cmd("Dzień dobry, Pani Anno, zatwierdzam", CMD_APPROVE, "", "", 1);
	assert_cmd("Hallo, Frau Nowak, GENEHMIGT", CMD_APPROVE, "", "", 1);
	assert_cmd("Witam, Panie Tomku, odrzucam: za drogo", CMD_REJECT, "za drogo", "", 1);
	assert_cmd("Dzień dobry, Łukasz, Żaneta, zatwierdzam", CMD_APPROVE, "", "", 1);
	/* Not a form of address: lower case, a command, too many words. */
	assert_cmd("Dzień dobry, proszę o zmianę, zatwierdzam", CMD_NONE, "", "", 0);
	assert_cmd("Hallo Anna, genehmigt, danke", CMD_APPROVE, "danke", "", 1);
	assert_cmd("Dzień dobry, Pani Anno Nowak Kowalska, zatwierdzam", CMD_NONE, "", "", 0);
	assert_cmd("Dzień dobry, Pani Anno,", CMD_NONE, "", "", 0);
	/* Only the one line after the greeting. */
	assert_cmd("Dzień dobry,\nproszę o zmianę\nZATWIERDZAM", CMD_NONE, "", "", 0);
	assert_cmd("Dzień dobry, proszę o zmianę ceny.\nZATWIERDZAM", CMD_NONE, "", "", 0);
	/* Not greetings: a word that only starts like one, a long line, a
	 * sentence that opens with one. */
	assert_cmd("Hilfe\nAPPROVE", CMD_NONE, "", "", 0);
	assert_cmd("Hejnał gra o 12 i jutro też będzie grał na wieży kościoła mariackiego w "
	           "Krakowie, zawsze\nAPPROVE",
	    CMD_NONE, "", "", 0);
	assert_cmd("Witam serdecznie wszystkich w nowym tygodniu pracy\nAPPROVE", CMD_NONE, "", "",
	    0);
	assert_cmd("Dzień dobry,", CMD_NONE, "", "", 0);
}

static void
test_quoted_approve_trap(void **state)
{
	(void)state;
	static const char *const mails[] = {
		"Thanks!\n\nOn Fri, 27 Nov 2026 at 10:15, inkflow <biuro@bmt.example> wrote:\n"
		"> [INK-12] Approve the calculation\n> APPROVE\n",
		"\n\n> APPROVE\n",
		"> APPROVE\n\nok\n",
		"Dzięki\r\n\r\n-----Wiadomość oryginalna-----\r\nAPPROVE\r\n",
		"Sprawdzę jutro.\n\nFrom: inkflow\nSent: Friday, November 27, 2026 10:15\n"
		"To: Anna\nSubject: [INK-12] APPROVE\n\nAPPROVE\n",
		"Sent from my iPhone\n\n> On 27 Nov 2026, at 10:15, inkflow <biuro@bmt.example> wrote:\n> APPROVE\n",
		"Ok, jutro\nAPPROVE\n",
		"-- \nAPPROVE\n",
	};
	for (size_t i = 0; i < ARRAY_LEN(mails); i++) {
		char *n = reply_new_text(mails[i]);
		struct reply r;
		reply_parse(n, &r);
		if (r.cmd != CMD_NONE)
			print_error("mail %zu acted: %s\n", i, n);
		assert_int_equal(r.cmd, CMD_NONE);
		reply_free(&r);
		free(n);
	}
}

/* Whole mails: new text, then the command. */
static void
test_end_to_end(void **state)
{
	(void)state;
	char *n = reply_new_text(
	    "ODRZUĆ: za niska marża\r\nProszę podnieść o 5%.\r\n\r\nPozdrawiam\r\nJan\r\n\r\n"
	    "-----Wiadomość oryginalna-----\r\nOd: inkflow\r\nWysłano: 27 listopada 2026\r\n"
	    "Do: Jan\r\nTemat: [INK-12] Zatwierdź\r\n\r\nAPPROVE\r\n");
	struct reply r;
	reply_parse(n, &r);
	assert_int_equal(r.cmd, CMD_REJECT);
	assert_string_equal(r.arg, "za niska marża");
	assert_string_equal(r.rest, "Proszę podnieść o 5%.\n\nPozdrawiam\nJan");
	assert_int_equal(r.line, 1);
	reply_free(&r);
	free(n);

	n = reply_new_text("Re: [INK-12] APPROVE\n\nSent from my iPhone\n\n"
	    "> On 27 Nov 2026, at 10:15, inkflow <biuro@bmt.example> wrote:\n> REJECT\n");
	reply_parse(n, &r);
	assert_int_equal(r.cmd, CMD_APPROVE);
	assert_string_equal(r.rest, "");
	reply_free(&r);
	free(n);
}

static void
test_cmd_names(void **state)
{
	(void)state;
	for (int c = CMD_NONE + 1; c < CMD__COUNT; c++) {
		const char *name = reply_cmd_name((enum reply_cmd)c);
		assert_non_null(name);
		assert_int_equal(reply_cmd_parse(name), c);
	}
	assert_string_equal(reply_cmd_name(CMD_APPROVE), "APPROVE");
	assert_string_equal(reply_cmd_name(CMD_ACCEPTED), "ACCEPTED");
	assert_string_equal(reply_cmd_name(CMD_NONE), "NONE");
	assert_string_equal(reply_cmd_name(CMD__COUNT), "NONE");
	assert_int_equal(reply_cmd_parse("NONE"), CMD_NONE);
	assert_int_equal(reply_cmd_parse("odrzuć"), CMD_REJECT);
	assert_int_equal(reply_cmd_parse("  Akceptuję \t ofertę. "), CMD_ACCEPTED);
	assert_int_equal(reply_cmd_parse("BESTÄTIGT"), CMD_CONFIRM);
	assert_int_equal(reply_cmd_parse(""), CMD_NONE);
	assert_int_equal(reply_cmd_parse(NULL), CMD_NONE);
	assert_int_equal(reply_cmd_parse("approve me"), CMD_NONE);
	char big[200];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(reply_cmd_parse(big), CMD_NONE);
}

/* --- size ---------------------------------------------------------------- */

/* A megabyte of line after line of one pattern, then a quote. */
static void
time_pattern(const char *line, int cut_expected)
{
	struct sbuf sb = {0};
	sb_adds(&sb, "APPROVE\n");
	while (sb.len < 1024 * 1024)
		sb_adds(&sb, line);
	sb_adds(&sb, "\nOn Fri, 27 Nov 2026 at 10:15, Anna <a@b.example> wrote:\n> APPROVE\n");
	char *text = sb_steal(&sb);
	double t = test_now();
	char *n = reply_new_text(text);
	struct reply r;
	reply_parse(n, &r);
	t = test_now() - t;
	assert_int_equal(r.cmd, CMD_APPROVE);
	if (cut_expected)
		assert_true(strlen(n) < strlen(text));
	/* Linear: a megabyte takes milliseconds; generous for sanitizers. */
	if (t > test_limit(2.0))
		print_error("pattern %.20s took %.3f s\n", line, t);
	assert_true(t < test_limit(2.0));
	reply_free(&r);
	free(n);
	free(text);
}

static void
test_huge(void **state)
{
	(void)state;
	time_pattern("Lorem ipsum dolor sit amet, consectetur adipiscing elit.\n", 1);
	time_pattern("\n", 1);
	time_pattern("On 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9\n", 1);
	time_pattern("pt., 27 lis 2026 o 10:15 Anna Nowak <a.nowak@bmt.example>\n", 1);
	time_pattern("*From:* a :b: :c: :d: :e: :f: :g: :h: :i: :j: :k: :l: :m:\n", 1);
	time_pattern("Od: x\n", 1);
	time_pattern("\u00a0ĄĆĘŁŃÓŚŹŻ ÄÖÜß ẞ \u2019\n", 1);

	/* One line of a megabyte, with and without a line break. */
	size_t big = 1024 * 1024;
	char *text = xmalloc(big + 16);
	memcpy(text, "APPROVE ", 8);
	memset(text + 8, 'x', big);
	text[8 + big] = '\0';
	double t = test_now();
	char *n = reply_new_text(text);
	struct reply r;
	reply_parse(n, &r);
	t = test_now() - t;
	assert_int_equal(r.cmd, CMD_APPROVE);
	assert_int_equal(strlen(r.arg), big);
	assert_true(t < test_limit(2.0));
	reply_free(&r);
	free(n);
	/* A megabyte of "On … " ending in "wrote:" with digits: one
	 * attribution too long to be one; kept as text. */
	memcpy(text, "On 1 ", 5);
	memset(text + 5, 'y', big);
	memcpy(text + 5 + big, " wrote:", 8);
	t = test_now();
	n = reply_new_text(text);
	t = test_now() - t;
	assert_int_equal(strlen(n), strlen(text));
	assert_true(t < test_limit(2.0));
	free(n);
	free(text);
}

/* The sender of a forwarded message, as each client writes the block. */
static void
test_forwarded_from(void **state)
{
	(void)state;
	static const struct {
		const char *text, *addr, *name;
	} cases[] = {
	    /* Gmail, Polish labels */
	    {"Do wyceny.\n\n---------- Forwarded message ---------\nOd: Jan Nowy "
	     "<Jan@NowyKlient.pl>\nDate: pt., 27 lis 2026\n\nTreść",
	        "jan@nowyklient.pl", "Jan Nowy"},
	    /* Apple Mail */
	    {"FYI\n\nBegin forwarded message:\n\nFrom: \"Ola K.\" <ola@firma.pl>\nSubject: x\n"
	     "Date: 27 November 2026\nTo: anna@bmt.example\n\ny",
	        "ola@firma.pl", "Ola K."},
	    /* Thunderbird, German: Betreff and Datum come first */
	    {"\n-------- Weitergeleitete Nachricht --------\nBetreff: \tAnfrage\nDatum: \t"
	     "Fri, 27 Nov 2026 08:00:00 +0100\nVon: \tJörg Weiß <j.weiss@messebau.de>\n"
	     "An: \tanna@bmt.example\n\nText",
	        "j.weiss@messebau.de", "Jörg Weiß"},
	    /* Outlook plain text from HTML, one line, [mailto:] */
	    {"Bitte.\n\n________________________________\n*Von:* Jörg [mailto:j@w.de] "
	     "*Gesendet:* Freitag *An:* Anna *Betreff:* x\n\ny",
	        "j@w.de", "Jörg"},
	    /* GMX, web.de: the date first, no banner */
	    {"Zur Info.\n\nGesendet: Freitag, 27. November 2026 um 08:00 Uhr\nVon: \"Uwe Brandt\" "
	     "<u.brandt@web.de>\nAn: anna@bmt.example\nBetreff: Anfrage Banner\n\nText",
	        "u.brandt@web.de", "Uwe Brandt"},
	    /* Outlook plain text, a bare address */
	    {"-----Original Message-----\nFrom: jan@firma.pl\nSent: Friday\nTo: x\nSubject: y\n",
	        "jan@firma.pl", NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *addr, *name;
		assert_int_equal(reply_forwarded_from(cases[i].text, &addr, &name), 1);
		assert_string_equal(addr, cases[i].addr);
		if (cases[i].name)
			assert_string_equal(name, cases[i].name);
		else
			assert_null(name);
		free(addr);
		free(name);
	}
	static const char *none[] = {
	    /* no quote marker; a From line in the person's own text */
	    "From: jan@firma.pl wrote us yesterday",
	    /* the From line too far below the banner */
	    "---------- Forwarded message ---------\n1\n2\n3\n4\n5\n6\n7\n8\n9\n"
	    "From: x <a@b.pl>\n",
	    /* no usable address */
	    "---------- Forwarded message ---------\nFrom: Jan Nowy\nDate: x\n",
	    "---------- Forwarded message ---------\nFrom: <not an address>\n",
	    "",
	    NULL,
	};
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		char *addr = (char *)"x", *name = (char *)"x";
		assert_int_equal(reply_forwarded_from(none[i], &addr, &name), 0);
		assert_null(addr);
		assert_null(name);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_outlook_separator),
		cmocka_unit_test(test_outlook_header_block),
		cmocka_unit_test(test_more_clients),
		cmocka_unit_test(test_gmail),
		cmocka_unit_test(test_thunderbird),
		cmocka_unit_test(test_apple_mail),
		cmocka_unit_test(test_quoted_lines),
		cmocka_unit_test(test_not_attributions),
		cmocka_unit_test(test_signatures),
		cmocka_unit_test(test_whitespace),
		cmocka_unit_test(test_command_words),
		cmocka_unit_test(test_command_args),
		cmocka_unit_test(test_greeting_first),
		cmocka_unit_test(test_quoted_approve_trap),
		cmocka_unit_test(test_end_to_end),
		cmocka_unit_test(test_cmd_names),
		cmocka_unit_test(test_huge),
		cmocka_unit_test(test_forwarded_from),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
