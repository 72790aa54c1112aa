/*
 * lazycurl: libcurl, opened on first use (see lazylib.h).  Included after
 * <curl/curl.h> by the modules that use curl; each call below goes through
 * the table smtp_curl_load() fills.
 */
#ifndef INKFLOW_LAZYCURL_H
#define INKFLOW_LAZYCURL_H

#include <curl/curl.h>

#include "lazylib.h"

#define LAZYCURL_FUNCS(X)                                                               \
	X(curl_global_init) X(curl_global_cleanup) X(curl_easy_init) X(curl_easy_setopt) \
	X(curl_easy_perform) X(curl_easy_getinfo) X(curl_easy_cleanup)                  \
	X(curl_easy_strerror) X(curl_slist_append) X(curl_slist_free_all)               \
	X(curl_share_init) X(curl_share_setopt) X(curl_share_cleanup)

LAZYLIB_TABLE(lazycurl, LAZYCURL_FUNCS);
extern struct lazycurl lazycurl;

/* Load libcurl and run curl_global_init, once.  0, or -1 with err. */
int smtp_curl_load(char *err, size_t errlen);

/* curl's type-checking wrappers are macros of these names. */
#undef curl_easy_setopt
#undef curl_easy_getinfo
#undef curl_share_setopt
#define curl_global_init (lazycurl.curl_global_init)
#define curl_global_cleanup (lazycurl.curl_global_cleanup)
#define curl_easy_init (lazycurl.curl_easy_init)
#define curl_easy_setopt (lazycurl.curl_easy_setopt)
#define curl_easy_perform (lazycurl.curl_easy_perform)
#define curl_easy_getinfo (lazycurl.curl_easy_getinfo)
#define curl_easy_cleanup (lazycurl.curl_easy_cleanup)
#define curl_easy_strerror (lazycurl.curl_easy_strerror)
#define curl_slist_append (lazycurl.curl_slist_append)
#define curl_slist_free_all (lazycurl.curl_slist_free_all)
#define curl_share_init (lazycurl.curl_share_init)
#define curl_share_setopt (lazycurl.curl_share_setopt)
#define curl_share_cleanup (lazycurl.curl_share_cleanup)

#endif
