/*
 * lazyxml: libxml2, opened when the configuration, a template or an HTML
 * body is parsed and closed again while the daemon is idle (see lazylib.h).
 *
 * Debian's libxml2 brings ICU and the C++ runtime with it: some 2.5 MB of
 * resident pages that an idle daemon, which parses nothing, would keep
 * for nothing.  Included instead of the libxml2 headers by the modules
 * that parse XML or HTML; each call below goes through the table
 * lazyxml_load() fills.  Nothing of libxml2's (documents, contexts, error handlers) may
 * outlive the call that made it: lazyxml_unload() may run between any
 * two passes.
 */
#ifndef INKFLOW_LAZYXML_H
#define INKFLOW_LAZYXML_H

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "lazylib.h"

#define LAZYXML_FUNCS(X)                                                                   \
	X(xmlInitParser) X(xmlCleanupParser) X(xmlNewParserCtxt) X(xmlFreeParserCtxt)        \
	X(xmlCtxtReadMemory) X(htmlReadMemory) X(xmlStopParser) X(xmlSetStructuredErrorFunc) \
	X(xmlDocGetRootElement) X(xmlFreeDoc) X(xmlGetLineNo) X(xmlGetNoNsProp) X(xmlGetProp) \
	X(xmlHasProp) X(xmlStrcasecmp) X(xmlStrncasecmp) X(xmlFree)

LAZYLIB_TABLE(lazyxml, LAZYXML_FUNCS);
extern struct lazyxml lazyxml;

/* Open libxml2 and run xmlInitParser if it is not open (lazylib's lock).
 * 0, or -1 with err naming the library and the reason. */
int lazyxml_load(char *err, size_t errlen);

/* Close libxml2 if it is open (xmlCleanupParser first).  Only while no
 * other thread can be in libxml2: the daemon calls it before it waits. */
void lazyxml_unload(void);

#define xmlInitParser (lazyxml.xmlInitParser)
#define xmlCleanupParser (lazyxml.xmlCleanupParser)
#define xmlNewParserCtxt (lazyxml.xmlNewParserCtxt)
#define xmlFreeParserCtxt (lazyxml.xmlFreeParserCtxt)
#define xmlCtxtReadMemory (lazyxml.xmlCtxtReadMemory)
#define htmlReadMemory (lazyxml.htmlReadMemory)
#define xmlStopParser (lazyxml.xmlStopParser)
#define xmlSetStructuredErrorFunc (lazyxml.xmlSetStructuredErrorFunc)
#define xmlDocGetRootElement (lazyxml.xmlDocGetRootElement)
#define xmlFreeDoc (lazyxml.xmlFreeDoc)
#define xmlGetLineNo (lazyxml.xmlGetLineNo)
#define xmlGetNoNsProp (lazyxml.xmlGetNoNsProp)
#define xmlGetProp (lazyxml.xmlGetProp)
#define xmlHasProp (lazyxml.xmlHasProp)
#define xmlStrcasecmp (lazyxml.xmlStrcasecmp)
#define xmlStrncasecmp (lazyxml.xmlStrncasecmp)
/* A variable, not a function: the table holds its address. */
#define xmlFree (*lazyxml.xmlFree)

#endif
