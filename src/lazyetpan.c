/*
 * lazyetpan: see lazyetpan.h.
 */
#include "lazyetpan.h"

#include "sonames.h"
#include "util.h"

struct lazyetpan lazyetpan;
struct lazygnutls lazygnutls;

static struct lazylib etpan_lib = {.soname = SONAME_ETPAN};
static struct lazylib gnutls_lib = {.soname = SONAME_GNUTLS};

int
lazyetpan_load(char *err, size_t errlen)
{
	if (lazylib_load(&etpan_lib, &lazyetpan, lazyetpan_names, ARRAY_LEN(lazyetpan_names), err,
	        errlen) < 0)
		return -1;
	return lazylib_load(&gnutls_lib, &lazygnutls, lazygnutls_names,
	    ARRAY_LEN(lazygnutls_names), err, errlen);
}

void
lazyetpan_unload(void)
{
#ifdef __SANITIZE_ADDRESS__
	/* GnuTLS has thread-local storage, and LeakSanitizer (GCC 12) can
	 * crash at exit following a thread's pointers into the TLS of a
	 * library closed before: sanitizer builds keep both open. */
	return;
#endif
	lazylib_unload(&gnutls_lib, &lazygnutls, ARRAY_LEN(lazygnutls_names));
	lazylib_unload(&etpan_lib, &lazyetpan, ARRAY_LEN(lazyetpan_names));
}
