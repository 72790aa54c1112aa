/*
 * lazyharu: see lazyharu.h.
 */
#include "lazyharu.h"

#include "sonames.h"
#include "util.h"

struct lazyharu lazyharu;
struct lazypng lazypng;
static struct lazylib haru_lib = {.soname = SONAME_HPDF};
static struct lazylib png_lib = {.soname = SONAME_PNG};

int
lazyharu_load(char *err, size_t errlen)
{
	return lazylib_load(&haru_lib, &lazyharu, lazyharu_names, ARRAY_LEN(lazyharu_names),
	    err, errlen);
}

int
lazypng_load(char *err, size_t errlen)
{
	return lazylib_load(&png_lib, &lazypng, lazypng_names, ARRAY_LEN(lazypng_names), err,
	    errlen);
}

void
lazyharu_unload(void)
{
	lazylib_unload(&haru_lib, &lazyharu, ARRAY_LEN(lazyharu_names));
	lazylib_unload(&png_lib, &lazypng, ARRAY_LEN(lazypng_names));
}
