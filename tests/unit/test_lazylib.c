/*
 * Unit tests for lazylib.c: a table filled from a library opened on first
 * use, calls through it, the errors for a missing library or symbol, and
 * closing it again.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "lazylib.h"
#include "util.h"

#define MATH_FUNCS(X) X(ldexp) X(frexp)
LAZYLIB_TABLE(mathlib, MATH_FUNCS);

static void
test_load_and_call(void **state)
{
	(void)state;
	struct mathlib m;
	struct lazylib l = {.soname = "libm.so.6"};
	char err[300] = "";
	memset(&m, 0, sizeof m);
	assert_int_equal(lazylib_load(&l, &m, mathlib_names, ARRAY_LEN(mathlib_names), err,
	                     sizeof err),
	    0);
	assert_int_equal(l.state, 1);
	assert_non_null(m.ldexp);
	assert_true(m.ldexp(3.0, 4) == 48.0);
	int e = 0;
	assert_true(m.frexp(48.0, &e) == 0.75);
	assert_int_equal(e, 6);
	/* A second load is the first one's answer. */
	void *h = l.handle;
	assert_int_equal(lazylib_load(&l, &m, mathlib_names, ARRAY_LEN(mathlib_names), NULL, 0),
	    0);
	assert_ptr_equal(l.handle, h);
}

static void
test_missing_library(void **state)
{
	(void)state;
	struct mathlib m;
	struct lazylib l = {.soname = "libinkflow-no-such-library.so.7"};
	char err[300] = "";
	assert_int_equal(lazylib_load(&l, &m, mathlib_names, ARRAY_LEN(mathlib_names), err,
	                     sizeof err),
	    -1);
	assert_non_null(strstr(err, "cannot load libinkflow-no-such-library.so.7: "));
	/* The reason is kept: later callers get the same error at once. */
	char again[300] = "";
	assert_int_equal(lazylib_load(&l, &m, mathlib_names, ARRAY_LEN(mathlib_names), again,
	                     sizeof again),
	    -1);
	assert_string_equal(again, err);
}

static void
test_missing_symbol(void **state)
{
	(void)state;
	/* A table naming a function the library does not have. */
	static const char *const names[] = {"ldexp", "inkflow_no_such_function"};
	struct mathlib m;
	struct lazylib l = {.soname = "libm.so.6"};
	char err[300] = "";
	assert_int_equal(lazylib_load(&l, &m, names, ARRAY_LEN(names), err, sizeof err), -1);
	assert_string_equal(err, "libm.so.6 has no inkflow_no_such_function");
	assert_int_equal(l.state, -1);
}

/* Unloading clears the table and forgets the handle; the next load opens
 * the library again and its functions work as before.  Unloading what is
 * not loaded does nothing. */
static void
test_unload_and_load_again(void **state)
{
	(void)state;
	struct mathlib m;
	struct lazylib l = {.soname = "libm.so.6"};
	char err[300] = "";
	memset(&m, 0, sizeof m);
	lazylib_unload(&l, &m, ARRAY_LEN(mathlib_names));
	assert_int_equal(l.state, 0);
	assert_int_equal(lazylib_load(&l, &m, mathlib_names, ARRAY_LEN(mathlib_names), err,
	                     sizeof err),
	    0);
	lazylib_unload(&l, &m, ARRAY_LEN(mathlib_names));
	assert_int_equal(l.state, 0);
	assert_null(l.handle);
	assert_null(m.ldexp);
	assert_null(m.frexp);
	assert_int_equal(lazylib_load(&l, &m, mathlib_names, ARRAY_LEN(mathlib_names), err,
	                     sizeof err),
	    0);
	assert_int_equal(l.state, 1);
	assert_true(m.ldexp(1.0, 10) == 1024.0);
	lazylib_unload(&l, &m, ARRAY_LEN(mathlib_names));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_and_call),
		cmocka_unit_test(test_missing_library),
		cmocka_unit_test(test_missing_symbol),
		cmocka_unit_test(test_unload_and_load_again),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
