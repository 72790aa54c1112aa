/*
 * Unit tests for classify.c: each class, each header that decides it, and
 * the order in which the rules apply.  Messages are built by hand as the
 * struct mime_msg that mime_parse would produce.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "classify.h"
#include "mime.h"

#define SYS "biuro@bmt.example"

static char why[256];

/* A plain inquiry from a client, as mime_parse leaves it. */
static struct mime_msg
inquiry(void)
{
	struct mime_msg m;
	memset(&m, 0, sizeof(m));
	m.message_id = "CAF1234567@mail.gmail.com";
	m.from_name = "Jan Kowalski";
	m.from_addr = "jan@client.example";
	m.subject = "Zapytanie o baner 3×1 m";
	m.return_path = "jan@client.example";
	m.content_type = "text/plain";
	m.text = "Dzień dobry, proszę o wycenę banera.";
	return m;
}

static enum msg_class
cls(const struct mime_msg *m)
{
	memset(why, 'x', sizeof(why) - 1);
	why[sizeof(why) - 1] = '\0';
	return classify(m, SYS, why, sizeof(why));
}

static void
test_class_names(void **state)
{
	(void)state;
	assert_string_equal(class_name(CLASS_NORMAL), "normal");
	assert_string_equal(class_name(CLASS_AUTOREPLY), "auto-reply");
	assert_string_equal(class_name(CLASS_BOUNCE), "bounce");
	assert_string_equal(class_name(CLASS_LIST), "list");
	assert_string_equal(class_name(CLASS_LOOP), "loop");
	assert_string_equal(class_name(CLASS_SPAM), "spam");
}

static void
test_normal_inquiry(void **state)
{
	(void)state;
	struct mime_msg m = inquiry();
	assert_int_equal(cls(&m), CLASS_NORMAL);
	assert_string_equal(why, "");

	/* Headers that are present but say "a person sent this". */
	m.auto_submitted = "no";
	assert_int_equal(cls(&m), CLASS_NORMAL);
	m.auto_submitted = "No";
	assert_int_equal(cls(&m), CLASS_NORMAL);
	m.auto_submitted = "no (sent by a person)";
	assert_int_equal(cls(&m), CLASS_NORMAL);
	m.auto_submitted = "no; comment=x";
	assert_int_equal(cls(&m), CLASS_NORMAL);
	m.precedence = "normal";
	assert_int_equal(cls(&m), CLASS_NORMAL);
	m.content_type = "multipart/mixed";
	assert_int_equal(cls(&m), CLASS_NORMAL);
	m.in_reply_to = "ink-3-abc@bmt.example"; /* a reply to us is normal */
	assert_int_equal(cls(&m), CLASS_NORMAL);
	m.subject = "Re: Automatic reply: baner"; /* only a leading marker counts */
	assert_int_equal(cls(&m), CLASS_NORMAL);
	m.subject = "";
	assert_int_equal(cls(&m), CLASS_NORMAL);
	m.subject = NULL;
	assert_int_equal(cls(&m), CLASS_NORMAL);
	/* A colleague at our domain is not our own system. */
	m.from_addr = "anna@bmt.example";
	assert_int_equal(cls(&m), CLASS_NORMAL);
	/* Someone else's ink- id is not ours. */
	m.message_id = "ink-3-abc@other.example";
	assert_int_equal(cls(&m), CLASS_NORMAL);
	/* A message at our domain that we did not make. */
	m.message_id = "abc@bmt.example";
	assert_int_equal(cls(&m), CLASS_NORMAL);
	m.message_id = NULL;
	m.from_addr = NULL;
	m.return_path = NULL;
	assert_int_equal(cls(&m), CLASS_NORMAL);
	/* Without a system address nothing is a loop by From. */
	m = inquiry();
	assert_int_equal(classify(&m, NULL, why, sizeof(why)), CLASS_NORMAL);
}

static void
test_autoreply_headers(void **state)
{
	(void)state;
	struct mime_msg m = inquiry();
	m.auto_submitted = "auto-replied";
	assert_int_equal(cls(&m), CLASS_AUTOREPLY);
	assert_string_equal(why, "Auto-Submitted: auto-replied");
	m.auto_submitted = "auto-generated";
	assert_int_equal(cls(&m), CLASS_AUTOREPLY);
	assert_string_equal(why, "Auto-Submitted: auto-generated");
	m.auto_submitted = "Auto-Replied; owner-email=\"x@y\"";
	assert_int_equal(cls(&m), CLASS_AUTOREPLY);
	m.auto_submitted = "auto-notified";
	assert_int_equal(cls(&m), CLASS_AUTOREPLY);
	m.auto_submitted = "nope";
	assert_int_equal(cls(&m), CLASS_AUTOREPLY);

	m = inquiry();
	m.x_autoreply = "yes";
	assert_int_equal(cls(&m), CLASS_AUTOREPLY);
	assert_string_equal(why, "X-Autoreply: yes");

	m = inquiry();
	m.x_autorespond = "vacation";
	assert_int_equal(cls(&m), CLASS_AUTOREPLY);
	assert_string_equal(why, "X-Autorespond: vacation");

	m = inquiry();
	m.precedence = "auto_reply";
	assert_int_equal(cls(&m), CLASS_AUTOREPLY);
	assert_string_equal(why, "Precedence: auto_reply");
	m.precedence = "Auto_Reply";
	assert_int_equal(cls(&m), CLASS_AUTOREPLY);
}

static void
test_autoreply_subjects(void **state)
{
	(void)state;
	static const char *const subjects[] = {
		/* Polish */
		"Automatyczna odpowiedź: Zapytanie o baner",
		"Odpowiedź automatyczna: [INK-12] Baner",
		"Autoodpowiedź",
		"Nieobecność w biurze do 30.11",
		/* German */
		"Abwesenheitsnotiz: Anfrage Roll-up",
		"Automatische Antwort: Anfrage",
		"AUTOMATISCHE ANTWORT: Anfrage",
		"Automatische Abwesenheitsnotiz",
		"Abwesend: Ihre Anfrage",
		/* English */
		"Automatic reply: [INK-12] Baner",
		"Auto reply: x",
		"Autoreply: x",
		"Auto-reply: x",
		"AUTO: Jan Kowalski is out of the office (returning 02.12.2026)",
		"Out of Office: Zapytanie",
		"OUT OF OFFICE",
		"out of office until Monday",
	};
	for (size_t i = 0; i < sizeof(subjects) / sizeof(subjects[0]); i++) {
		struct mime_msg m = inquiry();
		m.subject = (char *)subjects[i];
		if (cls(&m) != CLASS_AUTOREPLY)
			fail_msg("subject \"%s\" not an auto-reply", subjects[i]);
		assert_non_null(strstr(why, "auto-reply subject"));
	}
	static const char *const people[] = {
		"Zapytanie o automatyczną odpowiedź",
		"Automaty do druku",
		"Autobus reklamowy – oklejenie",
		"Outdoor baner",
		"Re: Out of Office",
		"Auto: oklejenie 5 busów firmowych",
		"auto: folia na szyby",
	};
	for (size_t i = 0; i < sizeof(people) / sizeof(people[0]); i++) {
		struct mime_msg m = inquiry();
		m.subject = (char *)people[i];
		if (cls(&m) != CLASS_NORMAL)
			fail_msg("subject \"%s\" classified %s", people[i], class_name(cls(&m)));
	}
}

static void
test_bounce(void **state)
{
	(void)state;
	struct mime_msg m = inquiry();
	m.content_type = "multipart/report";
	m.report_type = "delivery-status";
	assert_int_equal(cls(&m), CLASS_BOUNCE);
	assert_string_equal(why, "multipart/report; report-type=delivery-status");
	m.report_type = "Delivery-Status";
	assert_int_equal(cls(&m), CLASS_BOUNCE);
	m.report_type = NULL;
	assert_int_equal(cls(&m), CLASS_BOUNCE);
	assert_string_equal(why, "multipart/report; report-type=?");
	/* A read receipt is automatic mail, not a bounce. */
	m.report_type = "disposition-notification";
	assert_int_equal(cls(&m), CLASS_AUTOREPLY);
	assert_non_null(strstr(why, "read receipt"));
	/* A delivery report decides by its Action fields: "delayed" and
	 * "delivered" are not failures; any "failed" is. */
	m.report_type = "delivery-status";
	char delayed[] = "Reporting-MTA: dns; mx.example\r\n\r\n"
	                 "Final-Recipient: rfc822; a@b.example\r\nAction: delayed\r\n"
	                 "Status: 4.4.1\r\n";
	char failed[] = "Final-Recipient: rfc822; a@b.example\nAction: delayed\n\n"
	                "Final-Recipient: rfc822; c@b.example\nACTION:  Failed\nStatus: 5.1.1\n";
	struct mime_att dsn = {.content_type = "message/delivery-status", .data = delayed,
	    .len = sizeof(delayed) - 1};
	m.atts = &dsn;
	m.natts = 1;
	assert_int_equal(cls(&m), CLASS_AUTOREPLY);
	assert_string_equal(why, "delivery status notification without a failure");
	dsn.data = failed;
	dsn.len = sizeof(failed) - 1;
	assert_int_equal(cls(&m), CLASS_BOUNCE);
	dsn.len = 0; /* no readable report: a bounce, as before */
	assert_int_equal(cls(&m), CLASS_BOUNCE);
	m.atts = NULL;
	m.natts = 0;
	/* Another kind of report from a person's address is not a bounce. */
	m.report_type = "feedback-report";
	assert_int_equal(cls(&m), CLASS_NORMAL);

	m = inquiry();
	m.return_path = "";
	assert_int_equal(cls(&m), CLASS_BOUNCE);
	assert_string_equal(why, "null return path <>");

	static const char *const daemons[] = {"mailer-daemon@mx.client.example",
	    "MAILER-DAEMON@mx.client.example", "postmaster@client.example",
	    "Postmaster@client.example", "mail-daemon@x.example", "mailerdaemon@x.example"};
	for (size_t i = 0; i < sizeof(daemons) / sizeof(daemons[0]); i++) {
		m = inquiry();
		m.from_addr = (char *)daemons[i];
		if (cls(&m) != CLASS_BOUNCE)
			fail_msg("From %s not a bounce", daemons[i]);
	}
	m = inquiry();
	m.from_addr = "postmaster.office@client.example";
	assert_int_equal(cls(&m), CLASS_NORMAL);

	m = inquiry();
	m.x_failed_recipients = "jan@client.example";
	assert_int_equal(cls(&m), CLASS_BOUNCE);
	assert_string_equal(why, "X-Failed-Recipients: jan@client.example");
}

static void
test_list(void **state)
{
	(void)state;
	struct mime_msg m = inquiry();
	m.list_id = "<news.client.example>";
	assert_int_equal(cls(&m), CLASS_LIST);
	assert_string_equal(why, "List-Id: <news.client.example>");

	m = inquiry();
	m.list_unsubscribe = "<mailto:unsub@client.example>";
	assert_int_equal(cls(&m), CLASS_LIST);
	assert_string_equal(why, "List-Unsubscribe present");

	static const char *const prec[] = {"bulk", "Bulk", "junk", "list", "LIST"};
	for (size_t i = 0; i < sizeof(prec) / sizeof(prec[0]); i++) {
		m = inquiry();
		m.precedence = (char *)prec[i];
		assert_int_equal(cls(&m), CLASS_LIST);
	}
	assert_string_equal(why, "Precedence: LIST");
}

/* The shop's own group (biuro@ as a Google Group, a Mailman list on the
 * shop's domain) passing mail on: its list fields are not the sender's. */
static void
test_own_group(void **state)
{
	(void)state;
	struct mime_msg m = inquiry();
	m.list_id = "<biuro.bmt.example>";
	m.precedence = "list";
	m.list_unsubscribe = "<mailto:googlegroups-manage+1+unsubscribe@googlegroups.com>,"
	                     " <https://groups.google.com/a/bmt.example/group/biuro/subscribe>";
	assert_int_equal(cls(&m), CLASS_NORMAL);
	m.list_id = "Oferty <oferty.lists.BMT.example>";
	m.list_unsubscribe = "<mailto:oferty-leave@lists.bmt.example>";
	assert_int_equal(cls(&m), CLASS_NORMAL);
	/* The sender's own fields below the group's still count. */
	m.list_unsubscribe_next = "<https://news.supplier.example/u/1>";
	assert_int_equal(cls(&m), CLASS_LIST);
	assert_string_equal(why, "List-Unsubscribe present");
	m.list_unsubscribe_next = NULL;
	m.precedence_next = "bulk";
	assert_int_equal(cls(&m), CLASS_LIST);
	assert_string_equal(why, "Precedence: bulk");
	m.precedence_next = "auto_reply";
	assert_int_equal(cls(&m), CLASS_AUTOREPLY);
	m.precedence_next = NULL;
	m.list_id_next = "<news.supplier.example>";
	assert_int_equal(cls(&m), CLASS_LIST);
	assert_string_equal(why, "List-Id: <news.supplier.example>");
	/* A newsletter's own unsubscribe line when the group adds none. */
	m = inquiry();
	m.list_id = "<biuro.bmt.example>";
	m.list_unsubscribe = "<https://news.supplier.example/u/1>";
	assert_int_equal(cls(&m), CLASS_LIST);
	/* Lists of other domains, and look-alikes, are lists. */
	static const char *const other[] = {"<biuro.bmt.example.evil.example>",
	    "<bmt.example>", "<biuro.notbmt.example>", "biuro-bmt.example"};
	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
		m = inquiry();
		m.list_id = (char *)other[i];
		assert_int_equal(cls(&m), CLASS_LIST);
	}
}

static void
test_loop(void **state)
{
	(void)state;
	struct mime_msg m = inquiry();
	m.x_inkflow_loop = SYS;
	assert_int_equal(cls(&m), CLASS_LOOP);
	assert_string_equal(why, "X-Inkflow-Loop: " SYS);

	m = inquiry();
	m.from_addr = SYS;
	assert_int_equal(cls(&m), CLASS_LOOP);
	m.from_addr = "Biuro@BMT.example";
	assert_int_equal(cls(&m), CLASS_LOOP);

	m = inquiry();
	m.message_id = "ink-3-abc@bmt.example";
	assert_int_equal(cls(&m), CLASS_LOOP);
	assert_string_equal(why, "Message-ID ink-3-abc@bmt.example is one of ours");
	m.message_id = "INK-3-abc@BMT.EXAMPLE";
	assert_int_equal(cls(&m), CLASS_LOOP);
	m.message_id = "ink-3-abc@sub.bmt.example";
	assert_int_equal(cls(&m), CLASS_NORMAL);
}

static void
test_precedence_order(void **state)
{
	(void)state;
	/* Everything at once: loop wins. */
	struct mime_msg m = inquiry();
	m.x_inkflow_loop = SYS;
	m.content_type = "multipart/report";
	m.report_type = "delivery-status";
	m.return_path = "";
	m.from_addr = "mailer-daemon@mx.example";
	m.auto_submitted = "auto-replied";
	m.list_id = "<l.example>";
	m.precedence = "bulk";
	assert_int_equal(cls(&m), CLASS_LOOP);

	/* Without the loop marker: bounce before auto-reply and list.  A DSN
	 * carries Auto-Submitted: auto-replied (RFC 3464). */
	m.x_inkflow_loop = NULL;
	assert_int_equal(cls(&m), CLASS_BOUNCE);
	assert_string_equal(why, "multipart/report; report-type=delivery-status");
	m.content_type = "text/plain";
	assert_int_equal(cls(&m), CLASS_BOUNCE);
	assert_string_equal(why, "null return path <>");
	m.return_path = "x@y.example";
	assert_int_equal(cls(&m), CLASS_BOUNCE);
	assert_string_equal(why, "From mailer-daemon@mx.example");

	/* Without bounce markers: auto-reply before list. */
	m.from_addr = "jan@client.example";
	assert_int_equal(cls(&m), CLASS_AUTOREPLY);
	m.auto_submitted = NULL;
	m.subject = "Out of Office";
	assert_int_equal(cls(&m), CLASS_AUTOREPLY);
	m.subject = "Newsletter";
	assert_int_equal(cls(&m), CLASS_LIST);
	assert_string_equal(why, "List-Id: <l.example>");

	/* A vacation reply to our own notification is not a loop: the reply
	 * has its own Message-ID and From. */
	m = inquiry();
	m.in_reply_to = "ink-3-abc@bmt.example";
	m.auto_submitted = "auto-replied";
	assert_int_equal(cls(&m), CLASS_AUTOREPLY);

	/* A bounce of our own mail from the daemon is a bounce. */
	m = inquiry();
	m.from_addr = "MAILER-DAEMON@bmt.example";
	m.return_path = "";
	assert_int_equal(cls(&m), CLASS_BOUNCE);
}

static void
test_why_truncated(void **state)
{
	(void)state;
	struct mime_msg m = inquiry();
	m.list_id = "<a-very-long-list-identifier.lists.client.example>";
	char small[8];
	assert_int_equal(classify(&m, SYS, small, sizeof(small)), CLASS_LIST);
	assert_string_equal(small, "List-Id");
}

static int
spam(const struct mime_msg *m)
{
	memset(why, 'x', sizeof(why) - 1);
	why[sizeof(why) - 1] = '\0';
	return classify_spam(m, why, sizeof(why));
}

static void
test_spam(void **state)
{
	(void)state;
	struct mime_msg m = inquiry();
	assert_int_equal(spam(&m), 0);
	/* classify itself leaves spam to ingest */
	m.x_spam_flag = "YES";
	assert_int_equal(cls(&m), CLASS_NORMAL);
	assert_int_equal(spam(&m), 1);
	assert_string_equal(why, "X-Spam-Flag: YES");
	m.x_spam_flag = "NO";
	assert_int_equal(spam(&m), 0);

	m = inquiry();
	m.x_spam_status = "Yes, score=7.2 required=5.0 tests=BAYES_99,URIBL_BLACK autolearn=no";
	assert_int_equal(spam(&m), 1);
	assert_true(strncmp(why, "X-Spam-Status: Yes, score=7.2", 29) == 0);
	m.x_spam_status = "No, score=-0.1 required=5.0 tests=ALL_TRUSTED";
	assert_int_equal(spam(&m), 0);
	m.x_spam_status = "Yesterday";
	assert_int_equal(spam(&m), 0);

	m = inquiry();
	m.x_spam = "Yes";
	assert_int_equal(spam(&m), 1);
	m.x_spam = "no";
	assert_int_equal(spam(&m), 0);

	m = inquiry();
	m.x_ms_scl = "5";
	assert_int_equal(spam(&m), 1);
	assert_string_equal(why, "X-MS-Exchange-Organization-SCL: 5");
	m.x_ms_scl = "-1";
	assert_int_equal(spam(&m), 0);
	m.x_ms_scl = "1";
	assert_int_equal(spam(&m), 0);
	m.x_ms_scl = "";
	assert_int_equal(spam(&m), 0);

	m = inquiry();
	m.x_forefront = "CIP:203.0.113.9;CTRY:PL;LANG:pl;SCL:6;SRV:;IPV:NLI;SFV:SPM;H:mx;"
	                "PTR:x;CAT:SPM;SFS:(13230031)";
	assert_int_equal(spam(&m), 1);
	assert_string_equal(why, "X-Forefront-Antispam-Report: sfv:spm");
	m.x_forefront = "CIP:198.51.100.2;CTRY:DE;LANG:de;SCL:1;SRV:;IPV:NLI;SFV:NSPM;H:mx;"
	                "CAT:NONE;SFS:(13230031)";
	assert_int_equal(spam(&m), 0);

	m = inquiry();
	m.subject = "***SPAM*** Cheap banners";
	assert_int_equal(spam(&m), 1);
	assert_string_equal(why, "subject: ***SPAM***");
	m.subject = "[SPAM] x";
	assert_int_equal(spam(&m), 1);
	m.subject = "Pytanie o filtr spamu";
	assert_int_equal(spam(&m), 0);
	m.subject = "Re: [SPAM] x"; /* a person's reply quoting a marked subject */
	assert_int_equal(spam(&m), 0);
}

static void
test_lang(void **state)
{
	(void)state;
	/* Polish, with and without diacritics (typed on a phone). */
	assert_string_equal(classify_lang("Zapytanie o baner",
	                        "Dzień dobry,\nproszę o wycenę 4 banerów 300x100 cm z oczkami.\n"
	                        "Pozdrawiam\nJan Kowalski"),
	    "pl");
	assert_string_equal(classify_lang("zapytanie",
	                        "dzien dobry prosze o wycene 20 szt naklejek, termin realizacji?"),
	    "pl");
	/* German, from a domain no rule knows. */
	assert_string_equal(classify_lang("Anfrage Werbebanner 3x1 m",
	                        "Sehr geehrte Damen und Herren,\nwir benötigen 10 Planen mit Ösen.\n"
	                        "Mit freundlichen Grüßen\nJürgen Müller"),
	    "de");
	assert_string_equal(classify_lang("Angebot", "Hallo, bitte um ein Angebot für 5 Roll-ups. "
	                                             "Danke!"),
	    "de");
	assert_string_equal(classify_lang("ÜBER DAS ANGEBOT", "Gruss"), "de");
	/* English, too little, mixed, nothing: no verdict. */
	static const char *const none[][2] = {
	    {"Quote request", "Hello, could you quote 5 roll-up banners 85x200? Thanks, John"},
	    {"Banner", "300x100"},
	    {"Zapytanie / Anfrage", "Proszę o ofertę. Bitte um ein Angebot."},
	    {"", ""},
	};
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++)
		assert_null(classify_lang(none[i][0], none[i][1]));
	assert_null(classify_lang(NULL, NULL));
	/* A word longer than any of the lists' is skipped whole. */
	char longw[200];
	memset(longw, 'a', sizeof(longw) - 1);
	longw[sizeof(longw) - 1] = '\0';
	assert_null(classify_lang(longw, longw));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_class_names),
		cmocka_unit_test(test_normal_inquiry),
		cmocka_unit_test(test_autoreply_headers),
		cmocka_unit_test(test_autoreply_subjects),
		cmocka_unit_test(test_bounce),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_own_group),
		cmocka_unit_test(test_lang),
		cmocka_unit_test(test_loop),
		cmocka_unit_test(test_precedence_order),
		cmocka_unit_test(test_why_truncated),
		cmocka_unit_test(test_spam),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
