/*
 * lazyxml: see lazyxml.h.
 */
#include "lazyxml.h"

#include <pthread.h>

#include "sonames.h"
#include "util.h"

struct lazyxml lazyxml;
static struct lazylib xml_lib = {.soname = SONAME_XML};
/* The config loader, the template loader and the ingest's parse thread
 * may ask at the same time. */
static pthread_mutex_t xml_lock = PTHREAD_MUTEX_INITIALIZER;

int
lazyxml_load(char *err, size_t errlen)
{
	pthread_mutex_lock(&xml_lock);
	int was = xml_lib.state;
	int rc = lazylib_load(&xml_lib, &lazyxml, lazyxml_names, ARRAY_LEN(lazyxml_names), err,
	    errlen);
	if (rc == 0 && was == 0)
		xmlInitParser();
	pthread_mutex_unlock(&xml_lock);
	return rc;
}

void
lazyxml_unload(void)
{
	pthread_mutex_lock(&xml_lock);
	if (xml_lib.state == 1) {
		xmlCleanupParser();
		lazylib_unload(&xml_lib, &lazyxml, ARRAY_LEN(lazyxml_names));
	}
	pthread_mutex_unlock(&xml_lock);
}
