/*
 * lazylib: shared libraries that only a few commands need, opened on first
 * use instead of at program start.
 *
 * DESIGN
 * Every library a binary is linked with is loaded and relocated before
 * main(), whether the command runs its code or not.  libcurl (with the TLS,
 * LDAP, SSH and Kerberos libraries it brings) and the print-file readers
 * (qpdf with the C++ runtime, libtiff, libjpeg) cost a `project show` about
 * 13 ms of its start and the idle daemon about 5 MB of resident pages,
 * though only sending mail, CalDAV and checking a client's print file use
 * them.  Those libraries are not linked: the module that uses one lists
 * the functions it calls, and a table of pointers of the same types is
 * filled by dlopen()/dlsym() the first time the module needs it.  A macro
 * per function sends each call through the table, so the calling code
 * reads as plain library calls and the compiler still checks every call
 * against the library's own prototypes.
 *
 * The library file is the one the build linked against: its SONAME is
 * read at build time (sonames.h), so a changed ABI is a rebuild, as with
 * ordinary linking.  A library that cannot be loaded is an error of the
 * operation that needed it, named with dlerror()'s reason; nothing else is
 * affected.
 *
 * A library the daemon needs only now and then (libxml2, libharu) can be
 * closed again while it waits, and is opened anew by the next use.
 * Loading and unloading take one lock, so a second thread (ingest's parse
 * thread) may load at the same time; the library's own set-up and
 * clean-up calls, if any, run as the opened and closing hooks under it.
 */
#ifndef INKFLOW_LAZYLIB_H
#define INKFLOW_LAZYLIB_H

#include <stddef.h>

/* A table member for library function f, of f's own pointer type; and
 * its name, for the list handed to lazylib_load. */
#define LAZYLIB_SLOT(f) __typeof__(&(f)) (f);
#define LAZYLIB_NAME(f) #f,

/* Declares the table type `struct NAME` for the X-macro list LIST, its
 * name list NAME_names and a check that the table is one pointer per name. */
#define LAZYLIB_TABLE(NAME, LIST)                                                   \
	struct NAME {                                                               \
		LIST(LAZYLIB_SLOT)                                                  \
	};                                                                          \
	__attribute__((unused)) static const char *const NAME##_names[] = {         \
	    LIST(LAZYLIB_NAME)};                                                    \
	_Static_assert(sizeof(struct NAME) ==                                       \
	        sizeof(NAME##_names) / sizeof(char *) * sizeof(void *),              \
	    "one function pointer per name")

struct lazylib {
	const char *soname;
	void (*opened)(void);   /* if set: run once the table is filled */
	void (*closing)(void);  /* if set: run before the library is closed */
	int state;          /* 0 not tried, 1 loaded, -1 failed (error holds why) */
	void *handle;
	char error[256];
};

/* Open l (once: later calls return the first answer, until
 * lazylib_unload) and fill the table of n function pointers at fns (a struct of LAZYLIB_SLOT members, in the
 * order of names).  0, or -1 with err naming the library and the reason. */
int lazylib_load(struct lazylib *l, void *fns, const char *const *names, size_t n,
    char *err, size_t errlen);

/* Close l if open and clear its table of n pointers at fns: the next
 * lazylib_load opens the library again.  The caller makes sure nothing
 * still points into it. */
void lazylib_unload(struct lazylib *l, void *fns, size_t n);

#endif
