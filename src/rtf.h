/*
 * rtf: the text of rich-text bodies, RTF above all, and text/enriched.
 *
 * An RTF body.  Outlook sends its "Rich Text" mail as
 * RTF: compressed inside a winmail.dat (PR_RTF_COMPRESSED), sometimes as a
 * text/rtf part; often the RTF only wraps the HTML or plain text the
 * message was written in (MS-OXRTFEX).  Nothing in Debian reads RTF as a
 * library, so this is a small reader of our own: groups, control words,
 * code pages (\ansicpg, a font's \fcharset), \u escapes, the ignorable
 * destinations, and the \fromhtml / \fromtext wrapping.
 */
#ifndef INKFLOW_RTF_H
#define INKFLOW_RTF_H

#include <stddef.h>

/* An RTF document as UTF-8 with LF line ends.  *html is set to 1 when the
 * RTF wraps HTML (\fromhtml1): the result is then that HTML, for the
 * caller to reduce to text; else 0 and the result is the text.  Returns
 * NULL when data does not start with "{\rtf".  Never more than about four
 * bytes out per byte in; groups nested deeper than RTF_DEPTH_MAX end the
 * reading there. */
#define RTF_DEPTH_MAX 200
char *rtf_to_text(const char *data, size_t len, int *html);

/* The same reduced to plain text: HTML wrapped in the RTF goes through
 * mime_html_to_text.  *html (when not NULL) says whether it was HTML. */
char *rtf_plain_text(const char *data, size_t len, int *html);

/* Compressed RTF (MS-OXRTFCP, "LZFu", or "MELA" stored as it is) to the
 * RTF it holds: 0 with *out (NUL-terminated, caller frees) and *outlen, or
 * -1 when it is malformed or would be larger than max bytes. */
int rtf_decompress(const unsigned char *in, size_t len, size_t max, char **out,
    size_t *outlen);

/* A text/enriched body (RFC 1896), or with richtext set the older
 * text/richtext (RFC 1341), as plain text: formatting commands dropped,
 * <param> contents left out, "<<" a "<", line breaks as the format means
 * them (one alone joins lines, n of them make n - 1; each counts inside
 * <nofill>).  s is UTF-8 already. */
char *enriched_to_text(const char *s, size_t len, int richtext);

#endif
