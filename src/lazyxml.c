/*
 * lazyxml: see lazyxml.h.
 */
#include "lazyxml.h"

#include "sonames.h"
#include "util.h"

struct lazyxml lazyxml;

static void
xml_opened(void)
{
	xmlInitParser();
}

static void
xml_closing(void)
{
	xmlCleanupParser();
}

static struct lazylib xml_lib = {
    .soname = SONAME_XML, .opened = xml_opened, .closing = xml_closing};

int
lazyxml_load(char *err, size_t errlen)
{
	return lazylib_load(&xml_lib, &lazyxml, lazyxml_names, ARRAY_LEN(lazyxml_names), err,
	    errlen);
}

void
lazyxml_unload(void)
{
	lazylib_unload(&xml_lib, &lazyxml, ARRAY_LEN(lazyxml_names));
}
