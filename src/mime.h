/*
 * mime: turns one raw RFC 5322 message into a decoded struct mime_msg with
 * libetpan's parser, every text converted to UTF-8; and encodes UTF-8 text
 * for outgoing headers (RFC 2047, RFC 2231).  Only mime.c (and imap.c)
 * include libetpan.
 *
 * Mail from real clients breaks the standards in known ways; the ones we
 * tolerate are listed atop mime.c, each with the test that covers it.
 */
#ifndef INKFLOW_MIME_H
#define INKFLOW_MIME_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct mime_limits {
	size_t max_message;     /* raw bytes */
	size_t max_header;      /* bytes of the top-level header section */
	size_t max_header_line; /* bytes of one unfolded header field */
	size_t max_parts;       /* MIME parts in total, all levels */
	size_t max_depth;       /* nesting depth of multiparts/message parts */
	size_t max_attachment;  /* decoded bytes of one attachment */
};

struct mime_att {
	char *filename;      /* decoded UTF-8 as sent (NOT sanitised); may be NULL */
	char *content_type;  /* lowercase "type/subtype" */
	char *content_id;    /* without <>, may be NULL */
	char *data;          /* decoded bytes (owned) */
	size_t len;
	int is_inline;       /* Content-Disposition: inline */
	int shown;           /* has a Content-ID and is inline or a part of a
	                      * multipart/related: the HTML body shows it */
	int is_message;      /* a message/rfc822 part kept whole (data = raw) */
	/* Where the part's encoded body lies in the buffer given to
	 * mime_parse, for a leaf of the top-level message (0, 0 for parts
	 * of embedded messages), and whether it is base64: lets a caller
	 * that parsed a stand-in of the message decode the real body. */
	size_t body_off, body_len;
	int base64;
	char *spill;         /* set by the caller: data is in this file (data NULL) */
};

/* mime_msg.encrypted: which kinds of encryption the message holds. */
#define MIME_ENC_SMIME 1u  /* S/MIME enveloped-data (application/pkcs7-mime) */
#define MIME_ENC_PGP 2u    /* OpenPGP: PGP/MIME or an inline PGP MESSAGE block */
#define MIME_ENC_OTHER 4u  /* multipart/encrypted of another protocol */

struct mime_msg {
	/* Addressing and threading; strings are UTF-8, addresses lowercase. */
	char *message_id;    /* without <>, NULL if absent */
	char *in_reply_to;   /* first msg-id of In-Reply-To, without <> */
	char **refs;         /* References msg-ids without <>, in order */
	size_t nrefs;
	char *from_name;     /* decoded display name, NULL if none */
	char *from_addr;     /* NULL if no usable From */
	char *sender_addr;   /* Sender:, NULL if none */
	char *reply_to_addr; /* first Reply-To address, NULL if none */
	char *to;            /* decoded To: as one display line, NULL if none */
	char *cc;            /* decoded Cc: as one display line, NULL if none */
	char **rcpt_addrs;   /* every To/Cc/Delivered-To/X-Original-To address,
	                      * each once, in order of first appearance */
	size_t nrcpt;
	char *subject;       /* decoded, unfolded; "" if absent */
	time_t date;         /* 0 if absent or unparsable */

	/* Raw (unfolded, trimmed) values of fields used by classification;
	 * NULL when the field is absent.  8-bit bytes are read as UTF-8 or
	 * guessed; encoded words are not decoded; controls become spaces. */
	char *return_path;   /* the address inside <>, lowercase; "" for <> */
	char *auto_submitted;
	char *precedence;
	char *x_autoreply;
	char *x_autorespond;
	char *list_id;
	char *list_unsubscribe;
	char *x_inkflow_loop;
	char *x_failed_recipients;
	/* The same fields' second occurrence, NULL when there is none: when
	 * a list passes mail on, its fields are on top and the original
	 * sender's (a newsletter's, an autoresponder's) follow. */
	char *precedence_next;
	char *list_id_next;
	char *list_unsubscribe_next;
	/* Verdicts of the receiving server's spam filter: SpamAssassin
	 * (X-Spam-Flag, X-Spam-Status), Rspamd (X-Spam), Exchange
	 * (X-MS-Exchange-Organization-SCL, X-Forefront-Antispam-Report). */
	char *x_spam_flag;
	char *x_spam_status;
	char *x_spam;
	char *x_ms_scl;
	char *x_forefront;
	char *content_type;  /* top-level "type/subtype", lowercase */
	char *report_type;   /* report-type parameter of multipart/report */

	/* Body. */
	char *text;          /* best text body as UTF-8 ("" if none); LF line
	                      * ends, format=flowed lines joined, inline text
	                      * parts joined in order */
	int text_from_html;  /* 1 if text was reduced from text/html */
	unsigned encrypted;  /* MIME_ENC_* bits: content that needs the
	                      * recipient's key (its text is not in text) */
	struct mime_att *atts;
	size_t natts;
	char **notes;        /* tolerated defects found, human readable (at
	                      * most 32, no duplicates) */
	size_t nnotes;
};

/* Fill lim with the built-in defaults (those of conf/inkflow.xml): 50 MiB
 * message, 256 KiB header, 64 KiB header field, 500 parts, depth 20, 40 MiB
 * attachment.  mime_parse also uses a default for a NULL lim and for each
 * zero field, and clamps max_depth to 100. */
void mime_limits_default(struct mime_limits *lim);

/* Parse raw[0..len).  On success returns 0 and *out (free with
 * mime_msg_free).  On a message beyond a limit or too broken to read, returns
 * -1 and writes a one-line reason ("part count 1201 exceeds limit 1000") to
 * reason.  Never crashes on any input. */
int mime_parse(const char *raw, size_t len, const struct mime_limits *lim,
    struct mime_msg **out, char *reason, size_t reasonlen);
void mime_msg_free(struct mime_msg *m);

/* 1 for an attachment mime_parse opens to read what it holds (an S/MIME
 * .p7m, Outlook's winmail.dat): it is read from its bytes, so a caller
 * that parses a stand-in of the message with such a part's body cut out
 * must parse the whole message instead. */
int mime_att_opened(const struct mime_att *a);

/* A content type for a file known only by its name and bytes (a file out
 * of a winmail.dat, one uuencoded in a text, one sent under a generic
 * type): the magic bytes of PDF and the usual images first, then the
 * extension; application/octet-stream when neither tells. */
const char *mime_type_guess(const char *name, const char *data, size_t len);

/* Decode a header value holding RFC 2047 encoded words (B and Q, any
 * charset, adjacent words joined, undeclared 8-bit bytes guessed) to UTF-8.
 * Caller frees. */
char *mime_decode_header(const char *value);

/* Convert len bytes in charset (NULL or unknown: guessed) to valid UTF-8.
 * Guessing: valid UTF-8 stays; otherwise Windows-1250 (covers ISO-8859-2's
 * Polish letters as commonly mislabelled, and German umlauts).  Labels are
 * matched loosely (case, "windows-1250"/"cp1250"/"x-cp1250", "latin2", ...).
 * ISO-8859-1 is read as Windows-1252.  Caller frees. */
char *mime_to_utf8(const char *charset, const char *in, size_t len);

/* Conversion keeps a few charset converters open per thread; a thread
 * that parsed mail calls this before it ends, or they are lost. */
void mime_thread_end(void);

/* Reduce HTML to plain text (paragraphs and <br> become line breaks, scripts
 * and styles dropped, entities decoded).  Caller frees. */
char *mime_html_to_text(const char *html, size_t len);

/* Encode UTF-8 text for an unstructured header (Subject) or a display name:
 * returned unchanged when pure printable ASCII (display names get quoted
 * when they hold specials), else as RFC 2047 "=?UTF-8?B?...?=" words of at
 * most 75 characters, split at character boundaries, separated by
 * "\r\n " folds.  name_len is the length of "Field: " so the first line
 * stays under 78 columns.  CR, LF and NUL in the input never reach the
 * output (a CR/LF run becomes one space).  ASCII longer than the line is
 * folded at its spaces (unfolding restores it); an ASCII word too long for
 * a line, or text that looks like an encoded word, is encoded too.  Leading
 * ASCII words stay readable ("Re: [INK-42] " before the encoded rest).
 * Caller frees. */
char *mime_encode_header(const char *utf8, size_t name_len);
/* A display name: as above, except that ASCII holding specials is quoted,
 * and a name whose readable form passes 60 columns is encoded (one word
 * per line), so no line of the field passes RFC 5322's 998 characters. */
char *mime_encode_phrase(const char *utf8);

/* Content-Disposition / Content-Type filename parameters for UTF-8 name:
 * returns e.g. "filename=\"a.pdf\"" for ASCII, or the RFC 2231 form
 * "filename*=UTF-8''Oferta%20%C5%81%C3%B3d%C5%BA.pdf" plus an RFC 2047
 * encoded "name=" fallback when param is "name" (joined by ";\r\n ").
 * A long value (ASCII too) becomes RFC 2231 continuations (filename*0*=...;
 * "\r\n filename*1*=..."), cut between characters.  CR/LF in the value
 * become a space; the result holds no CR or LF except those folds.  Caller
 * frees. */
char *mime_encode_param(const char *param, const char *utf8);

/* Lenient base64 as mime_parse decodes bodies, in pieces: characters
 * outside the alphabet are skipped (counted in junk), '=' ends a block
 * (what is left of it is dropped) and decoding goes on after it.  feed
 * writes at most n / 4 * 3 + 3 bytes to out, end at most 2. */
struct mime_b64 {
	uint32_t acc;
	int k;
	size_t alpha, pads, junk;
};
/* 1 for a character of the base64 alphabet or its padding '='. */
int mime_b64_char(int ch);
size_t mime_b64_feed(struct mime_b64 *st, const char *p, size_t n, unsigned char *out);
size_t mime_b64_end(struct mime_b64 *st, unsigned char *out);

#endif
