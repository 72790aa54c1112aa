/*
 * Unit tests for tmpl.c: rendering, escaping, errors with file:line, the
 * language fallback, tmpl_check_dir, and the shipped templates/.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tmpl.h"
#include "util.h"

/* --- helpers ---------------------------------------------------------- */

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* A fresh template directory with pl/ and de/. */
static int
setup(void **state)
{
	const char *base = getenv("TMPDIR");
	char *dir = xasprintf("%s/inkflow-test-tmpl-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(dir)) {
		free(dir);
		return -1;
	}
	char *pl = path_join(dir, "pl"), *de = path_join(dir, "de");
	int r = mkdir_p(pl, 0700) | mkdir_p(de, 0700);
	free(pl);
	free(de);
	*state = dir;
	return r;
}

static int
teardown(void **state)
{
	nftw(*state, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(*state);
	return 0;
}

static void
put(const char *dir, const char *rel, const char *content)
{
	char *p = path_join(dir, rel);
	FILE *f = fopen(p, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(content, 1, strlen(content), f), strlen(content));
	assert_int_equal(fclose(f), 0);
	free(p);
}

/* Render and expect failure with exactly "<dir>/<rel>:<rest>". */
static void
assert_render_error(const char *dir, const char *lang, const char *name, const char *rel,
    const char *rest)
{
	struct tmpl_mail m;
	char err[512];
	assert_int_equal(tmpl_mail_render(dir, lang, name, NULL, 0, &m, err, sizeof(err)), -1);
	char *want = xasprintf("%s/%s%s", dir, rel, rest);
	assert_string_equal(err, want);
	free(want);
	assert_null(m.subject);
	assert_null(m.text);
	assert_null(m.html);
}

static const struct tmpl_var vars[] = {
	{"project", "12"},
	{"subject", "Baner 3×1 m"},
	{"contact_name", "Jan Kowalski"},
	{"owner_name", "Anna Nowak"},
	{"company_name", "BMT Druk"},
};

/* --- rendering -------------------------------------------------------- */

static void
test_render_text_and_html(void **state)
{
	const char *dir = *state;
	put(dir, "pl/ack.txt",
	    "Subject: Potwierdzenie [INK-{{project}}]: {{subject}}\n"
	    "\n"
	    "Dzień dobry {{contact_name}},\n"
	    "projekt INK-{{ project }}, opiekun {{owner_name}}.\n"
	    "Pusta: [{{reason}}] {pojedyncza} }} koniec\n");
	put(dir, "pl/ack.html",
	    "<p>Dzień dobry {{contact_name}},</p>\n"
	    "<p>INK-{{project}}: {{subject}}</p>\n");
	struct tmpl_mail m;
	char err[512] = "";
	assert_int_equal(tmpl_mail_render(dir, "pl", "ack", vars, ARRAY_LEN(vars), &m, err,
	                     sizeof(err)),
	    0);
	assert_string_equal(m.subject, "Potwierdzenie [INK-12]: Baner 3×1 m");
	assert_string_equal(m.text,
	    "Dzień dobry Jan Kowalski,\n"
	    "projekt INK-12, opiekun Anna Nowak.\n"
	    "Pusta: [] {pojedyncza} }} koniec\n");
	assert_non_null(m.html);
	assert_string_equal(m.html,
	    "<p>Dzień dobry Jan Kowalski,</p>\n"
	    "<p>INK-12: Baner 3×1 m</p>\n");
	tmpl_mail_free(&m);
	assert_null(m.subject);

	/* No .html file: html stays NULL. */
	put(dir, "pl/plain.txt", "Subject: S\n\nbody\n");
	assert_int_equal(tmpl_mail_render(dir, "pl", "plain", NULL, 0, &m, err, sizeof(err)), 0);
	assert_string_equal(m.subject, "S");
	assert_string_equal(m.text, "body\n");
	assert_null(m.html);
	tmpl_mail_free(&m);
}

static void
test_render_escaping(void **state)
{
	const char *dir = *state;
	put(dir, "pl/esc.txt", "Subject: {{subject}}\n\n{{inquiry_text}}\n");
	put(dir, "pl/esc.html", "<pre>{{inquiry_text}}</pre><a title=\"{{subject}}\">x</a>\n");
	const struct tmpl_var v[] = {
		{"subject", "A & B <c> \"d\" 'e'\nBcc: x@y"},
		{"inquiry_text", "<script>alert('x')</script> & \"Łódź\"\nline 2"},
	};
	struct tmpl_mail m;
	char err[512];
	assert_int_equal(tmpl_mail_render(dir, "pl", "esc", v, ARRAY_LEN(v), &m, err, sizeof(err)), 0);
	/* The subject is one line, never escaped (it is not HTML). */
	assert_string_equal(m.subject, "A & B <c> \"d\" 'e' Bcc: x@y");
	assert_string_equal(m.text, "<script>alert('x')</script> & \"Łódź\"\nline 2\n");
	assert_string_equal(m.html,
	    "<pre>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;Łódź&quot;<br>\n"
	    "line 2</pre><a title=\"A &amp; B &lt;c&gt; &quot;d&quot; &#39;e&#39;<br>\nBcc: x@y\">x</a>\n");
	tmpl_mail_free(&m);

	/* A value holding "{{...}}" is data, not a placeholder. */
	const struct tmpl_var w[] = {{"subject", "{{owner_name}}"}, {"inquiry_text", NULL}};
	assert_int_equal(tmpl_mail_render(dir, "pl", "esc", w, ARRAY_LEN(w), &m, err, sizeof(err)), 0);
	assert_string_equal(m.subject, "{{owner_name}}");
	assert_string_equal(m.text, "\n");
	tmpl_mail_free(&m);
}

static void
test_render_crlf(void **state)
{
	const char *dir = *state;
	put(dir, "pl/crlf.txt", "Subject: Temat {{project}}\r\n\r\nTreść\r\n");
	struct tmpl_mail m;
	char err[512];
	assert_int_equal(tmpl_mail_render(dir, "pl", "crlf", vars, ARRAY_LEN(vars), &m, err,
	                     sizeof(err)),
	    0);
	assert_string_equal(m.subject, "Temat 12");
	assert_string_equal(m.text, "Treść\r\n");
	tmpl_mail_free(&m);
}

/* --- errors ----------------------------------------------------------- */

static void
test_unknown_placeholder(void **state)
{
	const char *dir = *state;
	put(dir, "pl/a.txt",
	    "Subject: ok {{project}}\n"
	    "\n"
	    "line 3\n"
	    "line 4 {{project}}\n"
	    "line 5 {{projekt}}\n");
	assert_render_error(dir, "pl", "a", "pl/a.txt", ":5: unknown placeholder {{projekt}}");

	put(dir, "pl/b.txt", "Subject: {{ tytul }}\n\nbody\n");
	assert_render_error(dir, "pl", "b", "pl/b.txt", ":1: unknown placeholder {{tytul}}");

	/* In the HTML file, counted from its first line. */
	put(dir, "pl/c.txt", "Subject: x\n\nbody\n");
	put(dir, "pl/c.html", "<p>\n{{project}}\n</p>\n<p>{{Project}}</p>\n");
	assert_render_error(dir, "pl", "c", "pl/c.html", ":4: unknown placeholder {{Project}}");

	/* Empty and oversized names. */
	put(dir, "pl/d.txt", "Subject: x\n\n{{}}\n");
	assert_render_error(dir, "pl", "d", "pl/d.txt", ":3: bad placeholder");
	put(dir, "pl/e.txt",
	    "Subject: x\n\nok\n{{aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}}\n");
	assert_render_error(dir, "pl", "e", "pl/e.txt", ":4: bad placeholder");
}

static void
test_unclosed(void **state)
{
	const char *dir = *state;
	put(dir, "pl/u.txt", "Subject: x\n\nline 3\n{{project\n}}\n");
	assert_render_error(dir, "pl", "u", "pl/u.txt", ":4: unclosed \"{{\"");
	put(dir, "pl/v.txt", "Subject: x\n\nline 3\nline 4\nend {{");
	assert_render_error(dir, "pl", "v", "pl/v.txt", ":5: unclosed \"{{\"");
	put(dir, "pl/w.txt", "Subject: a {{subject\n\nbody\n");
	assert_render_error(dir, "pl", "w", "pl/w.txt", ":1: unclosed \"{{\"");
}

static void
test_header_errors(void **state)
{
	const char *dir = *state;
	put(dir, "pl/s1.txt", "\nbody without a subject\n");
	assert_render_error(dir, "pl", "s1", "pl/s1.txt", ":1: missing Subject: line");
	put(dir, "pl/s2.txt", "Dzień dobry\n\nbody\n");
	assert_render_error(dir, "pl", "s2", "pl/s2.txt",
	    ":1: unknown header line (only Subject: is allowed)");
	put(dir, "pl/s3.txt", "Subject: x\nFrom: y\n\nbody\n");
	assert_render_error(dir, "pl", "s3", "pl/s3.txt",
	    ":2: unknown header line (only Subject: is allowed)");
	put(dir, "pl/s4.txt", "Subject: x\n");
	assert_render_error(dir, "pl", "s4", "pl/s4.txt", ":2: no empty line after the header lines");
	put(dir, "pl/s5.txt", "");
	assert_render_error(dir, "pl", "s5", "pl/s5.txt", ":1: no empty line after the header lines");
	/* The case of the field name does not matter. */
	put(dir, "pl/s6.txt", "subject: lower\n\nbody\n");
	struct tmpl_mail m;
	char err[512];
	assert_int_equal(tmpl_mail_render(dir, "pl", "s6", NULL, 0, &m, err, sizeof(err)), 0);
	assert_string_equal(m.subject, "lower");
	tmpl_mail_free(&m);
}

static void
test_not_utf8(void **state)
{
	const char *dir = *state;
	/* ISO-8859-2 "Dzień" */
	put(dir, "pl/l2.txt", "Subject: x\n\nDzie\xf1 dobry\n");
	assert_render_error(dir, "pl", "l2", "pl/l2.txt", ": not valid UTF-8 text");
	put(dir, "pl/ok.txt", "Subject: x\n\nok\n");
	put(dir, "pl/ok.html", "<p>\xc0\xaf</p>");
	assert_render_error(dir, "pl", "ok", "pl/ok.html", ": not valid UTF-8 text");

	char *p = path_join(dir, "pl/nul.txt");
	FILE *f = fopen(p, "wb");
	assert_non_null(f);
	fwrite("Subject: x\n\na\0b\n", 1, 16, f);
	fclose(f);
	free(p);
	assert_render_error(dir, "pl", "nul", "pl/nul.txt", ": not valid UTF-8 text");
}

static void
test_too_large(void **state)
{
	const char *dir = *state;
	struct sbuf sb = {0};
	sb_adds(&sb, "Subject: x\n\n");
	while (sb.len <= 256 * 1024)
		sb_adds(&sb, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\n");
	put(dir, "pl/big.txt", sb_str(&sb));
	sb_free(&sb);
	assert_render_error(dir, "pl", "big", "pl/big.txt", ": template larger than 256 KiB");
}

static void
test_missing_template(void **state)
{
	const char *dir = *state;
	struct tmpl_mail m;
	char err[512];
	assert_int_equal(tmpl_mail_render(dir, "pl", "nothing", NULL, 0, &m, err, sizeof(err)), -1);
	char *want = xasprintf("%s/pl/nothing.txt: No such file or directory", dir);
	assert_string_equal(err, want);
	free(want);
	/* Through the fallback too. */
	assert_int_equal(tmpl_mail_render(dir, "de", "nothing", NULL, 0, &m, err, sizeof(err)), -1);
	want = xasprintf("%s/pl/nothing.txt: No such file or directory", dir);
	assert_string_equal(err, want);
	free(want);
}

/* --- language fallback ------------------------------------------------ */

static void
test_language_fallback(void **state)
{
	const char *dir = *state;
	put(dir, "pl/ack.txt", "Subject: PL {{project}}\n\nPolski\n");
	put(dir, "pl/ack.html", "<p>Polski</p>\n");
	put(dir, "pl/task.txt", "Subject: PL task\n\nZadanie\n");
	put(dir, "de/ack.txt", "Subject: DE {{project}}\n\nDeutsch\n");
	struct tmpl_mail m;
	char err[512];

	assert_int_equal(tmpl_mail_render(dir, "de", "ack", vars, ARRAY_LEN(vars), &m, err,
	                     sizeof(err)),
	    0);
	assert_string_equal(m.subject, "DE 12");
	assert_string_equal(m.text, "Deutsch\n");
	/* The German text is not mixed with the Polish HTML. */
	assert_null(m.html);
	tmpl_mail_free(&m);

	assert_int_equal(tmpl_mail_render(dir, "de", "task", NULL, 0, &m, err, sizeof(err)), 0);
	assert_string_equal(m.subject, "PL task");
	assert_string_equal(m.text, "Zadanie\n");
	tmpl_mail_free(&m);

	assert_int_equal(tmpl_mail_render(dir, "en", "ack", vars, ARRAY_LEN(vars), &m, err,
	                     sizeof(err)),
	    0);
	assert_string_equal(m.subject, "PL 12");
	assert_string_equal(m.html, "<p>Polski</p>\n");
	tmpl_mail_free(&m);

	assert_int_equal(tmpl_mail_render(dir, "pl", "ack", vars, ARRAY_LEN(vars), &m, err,
	                     sizeof(err)),
	    0);
	assert_string_equal(m.subject, "PL 12");
	tmpl_mail_free(&m);
}

/* --- tmpl_check_dir --------------------------------------------------- */

struct reports {
	size_t n;
	char *msgs[16];
};

static void
collect(void *ctx, const char *msg)
{
	struct reports *r = ctx;
	if (r->n < ARRAY_LEN(r->msgs))
		r->msgs[r->n] = xstrdup(msg);
	r->n++;
}

static int
has_report(const struct reports *r, const char *want)
{
	for (size_t i = 0; i < r->n && i < ARRAY_LEN(r->msgs); i++)
		if (strcmp(r->msgs[i], want) == 0)
			return 1;
	return 0;
}

static void
reports_free(struct reports *r)
{
	for (size_t i = 0; i < r->n && i < ARRAY_LEN(r->msgs); i++)
		free(r->msgs[i]);
	r->n = 0;
}

static void
assert_reported(const struct reports *r, const char *dir, const char *rest)
{
	char *want = xasprintf("%s/%s", dir, rest);
	if (!has_report(r, want)) {
		for (size_t i = 0; i < r->n && i < ARRAY_LEN(r->msgs); i++)
			print_message("report: %s\n", r->msgs[i]);
		fail_msg("missing report %s", want);
	}
	free(want);
}

static void
test_check_dir(void **state)
{
	const char *dir = *state;
	struct reports r = {0};

	/* Empty pl/ and de/: nothing to report. */
	assert_int_equal(tmpl_check_dir(dir, collect, &r), 0);
	assert_int_equal(r.n, 0);

	put(dir, "pl/good.txt", "Subject: [INK-{{project}}] {{subject}}\n\n{{owner_name}}\n");
	put(dir, "pl/good.html", "<p>{{company_name}}</p>\n");
	put(dir, "pl/notes.md", "{{whatever}} is ignored: not a template\n");
	put(dir, "de/good.txt", "Subject: x\n\n{{task_title}}\n");
	assert_int_equal(tmpl_check_dir(dir, collect, &r), 0);
	assert_int_equal(r.n, 0);

	put(dir, "pl/bad1.txt", "Subject: x\n\nok\n{{nope}}\n");
	put(dir, "pl/bad2.html", "<p>\n{{subject</p>\n");
	put(dir, "de/bad3.txt", "kein Betreff\n\nText\n");
	put(dir, "de/bad4.txt", "Subject: \xe4\n\nText\n");
	assert_int_equal(tmpl_check_dir(dir, collect, &r), 4);
	assert_int_equal(r.n, 4);
	assert_reported(&r, dir, "pl/bad1.txt:4: unknown placeholder {{nope}}");
	assert_reported(&r, dir, "pl/bad2.html:2: unclosed \"{{\"");
	assert_reported(&r, dir, "de/bad3.txt:1: unknown header line (only Subject: is allowed)");
	assert_reported(&r, dir, "de/bad4.txt: not valid UTF-8 text");
	reports_free(&r);
}

static void
test_check_dir_missing_language(void **state)
{
	const char *dir = *state;
	char *de = path_join(dir, "de");
	assert_int_equal(rmdir(de), 0);
	free(de);
	struct reports r = {0};
	assert_int_equal(tmpl_check_dir(dir, collect, &r), 1);
	assert_int_equal(r.n, 1);
	assert_reported(&r, dir, "de: No such file or directory");
	reports_free(&r);
}

/* --- the shipped templates ------------------------------------------- */

static char *
shipped_dir(void)
{
	const char *src = getenv("INKFLOW_SRCDIR");
	return path_join(src && *src ? src : ".", "templates");
}

static void
test_shipped_templates(void **state)
{
	(void)state;
	char *dir = shipped_dir();
	struct reports r = {0};
	size_t problems = tmpl_check_dir(dir, collect, &r);
	for (size_t i = 0; i < r.n && i < ARRAY_LEN(r.msgs); i++)
		print_message("template problem: %s\n", r.msgs[i]);
	reports_free(&r);
	assert_int_equal(problems, 0);

	/* Each shipped mail renders fully in both languages. */
	static const char *const names[] = {"ack", "task"};
	static const char *const langs[] = {"pl", "de"};
	const struct tmpl_var all[] = {
		{"project", "12"}, {"subject", "Baner <3×1 m>"}, {"client_name", "Klient"},
		{"contact_name", "Jan"}, {"contact_email", "jan@client.example"},
		{"owner_name", "Anna"}, {"owner_email", "anna@bmt.example"},
		{"owner_phone", "+48 600"}, {"company_name", "BMT"},
		{"company_address", "ul. Długa 1"}, {"company_city", "Łódź"},
		{"company_phone", "+48 42"}, {"company_email", "biuro@bmt.example"},
		{"company_www", "bmt.example"}, {"system_address", "biuro@bmt.example"},
		{"date", "2026-11-27"}, {"task_title", "Wycena"},
		{"task_description", "Przygotuj wycenę"}, {"assignee_name", "Anna"},
		{"inquiry_text", "Proszę o wycenę"}, {"reason", "-"},
		{"message_from", "jan@client.example"}, {"message_subject", "Baner"},
	};
	for (size_t i = 0; i < ARRAY_LEN(names); i++) {
		for (size_t j = 0; j < ARRAY_LEN(langs); j++) {
			struct tmpl_mail m;
			char err[512];
			if (tmpl_mail_render(dir, langs[j], names[i], all, ARRAY_LEN(all), &m, err,
			        sizeof(err)) < 0)
				fail_msg("%s/%s: %s", langs[j], names[i], err);
			assert_non_null(strstr(m.subject, "[INK-12]"));
			assert_null(strstr(m.subject, "{{"));
			assert_null(strstr(m.text, "{{"));
			assert_true(utf8_valid(m.text, strlen(m.text)));
			if (m.html) {
				assert_null(strstr(m.html, "{{"));
				assert_null(strstr(m.html, "<3×1 m>"));
				assert_non_null(strstr(m.html, "&lt;3×1 m&gt;"));
			}
			tmpl_mail_free(&m);
		}
	}
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_render_text_and_html, setup, teardown),
		cmocka_unit_test_setup_teardown(test_render_escaping, setup, teardown),
		cmocka_unit_test_setup_teardown(test_render_crlf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_placeholder, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unclosed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_header_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_utf8, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_large, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_template, setup, teardown),
		cmocka_unit_test_setup_teardown(test_language_fallback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_dir_missing_language, setup, teardown),
		cmocka_unit_test(test_shipped_templates),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
