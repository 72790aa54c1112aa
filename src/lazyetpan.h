/*
 * lazyetpan: libetpan and GnuTLS, opened when a message is parsed or an
 * IMAP connection is made, and closed again while the daemon waits with
 * no IMAP connection open (see lazylib.h).
 *
 * libetpan brings GnuTLS (with p11-kit, libtasn1, libidn2, libunistring,
 * nettle's hogweed and GMP), Berkeley DB, Cyrus SASL and liblockfile:
 * some 2 MB of resident pages that a daemon waiting on a local Maildir
 * keeps for nothing.  Included instead of <libetpan/libetpan.h> and the
 * GnuTLS headers by mime.c and imap.c; each call below goes through the
 * tables lazyetpan_load() fills.  Nothing of libetpan's or GnuTLS's
 * (parse trees, streams, sessions, certificates) may outlive what made
 * it, except an open IMAP connection, which keeps both loaded: the daemon
 * closes them only when it holds none.  Hashing and token MACs use nettle
 * directly (util.c, token.c), so they do not load GnuTLS.
 */
#ifndef INKFLOW_LAZYETPAN_H
#define INKFLOW_LAZYETPAN_H

#include <gnutls/gnutls.h>
#include <gnutls/pkcs7.h>
#include <gnutls/x509.h>
#include <libetpan/libetpan.h>

#include "lazylib.h"

#define LAZYETPAN_FUNCS(X) \
	X(mailimap_capability_data_free) X(mailimap_connect) \
	X(mailimap_fetch_att_new_body_peek_section) \
	X(mailimap_fetch_att_new_body_peek_section_partial) \
	X(mailimap_fetch_att_new_rfc822_size) X(mailimap_fetch_att_new_uid) \
	X(mailimap_fetch_list_free) X(mailimap_fetch_type_free) \
	X(mailimap_fetch_type_new_fetch_att_list_add) \
	X(mailimap_fetch_type_new_fetch_att_list_empty) X(mailimap_flag_list_add) \
	X(mailimap_flag_list_new_empty) X(mailimap_flag_new_deleted) \
	X(mailimap_flag_new_seen) X(mailimap_free) X(mailimap_has_authentication) \
	X(mailimap_has_extension) X(mailimap_has_idle) X(mailimap_has_uidplus) \
	X(mailimap_idle) X(mailimap_idle_done) X(mailimap_idle_get_fd) X(mailimap_login) \
	X(mailimap_new) X(mailimap_parse_response) X(mailimap_read_line) \
	X(mailimap_response_free) X(mailimap_search_key_free) \
	X(mailimap_search_key_new_uid) X(mailimap_search_result_free) \
	X(mailimap_section_new) X(mailimap_select) X(mailimap_send_current_tag) \
	X(mailimap_set_add_single) X(mailimap_set_free) X(mailimap_set_new_empty) \
	X(mailimap_set_new_interval) X(mailimap_set_new_single) X(mailimap_set_timeout) \
	X(mailimap_socket_starttls_with_callback) X(mailimap_store_att_flags_free) \
	X(mailimap_store_att_flags_new_add_flags_silent) X(mailimap_uid_copy) \
	X(mailimap_uid_expunge) X(mailimap_uid_fetch) X(mailimap_uid_move) \
	X(mailimap_uid_search) X(mailimap_uid_store) X(mailimf_address_list_free) \
	X(mailimf_address_list_parse) X(mailimf_crlf_parse) X(mailimf_date_time_free) \
	X(mailimf_date_time_parse) X(mailimf_envelope_and_optional_fields_parse) \
	X(mailimf_fields_free) X(mailimf_optional_fields_parse) \
	X(mailmime_extract_boundary) X(mailmime_fields_free) X(mailmime_fields_parse) \
	X(mailmime_free) X(mailmime_parse) X(mailmime_part_parse) \
	X(mailmime_transfer_encoding_get) X(mailstream_certificate_chain_free) \
	X(mailstream_close) X(mailstream_flush) X(mailstream_get_certificate_chain) \
	X(mailstream_get_low) X(mailstream_low_cancel) X(mailstream_low_close) \
	X(mailstream_low_free) X(mailstream_low_get_cancel) \
	X(mailstream_low_get_certificate_chain) X(mailstream_low_get_fd) \
	X(mailstream_low_new) X(mailstream_low_read) X(mailstream_low_write) \
	X(mailstream_set_low) X(mailstream_set_privacy) X(mailstream_socket_open_timeout) \
	X(mailstream_ssl_open_with_callback_timeout) X(mailstream_ssl_set_server_name) \
	X(mailstream_write) X(mmap_string_unref)

/* GnuTLS for the IMAP certificate check and for the content of opaque
 * S/MIME signed mail; loaded with libetpan, which needs it anyway. */
#define LAZYGNUTLS_FUNCS(X) \
	X(gnutls_certificate_verification_status_print) X(gnutls_free) X(gnutls_strerror) \
	X(gnutls_pkcs7_deinit) X(gnutls_pkcs7_get_embedded_data) X(gnutls_pkcs7_import) \
	X(gnutls_pkcs7_init) \
	X(gnutls_x509_crt_deinit) X(gnutls_x509_crt_import) X(gnutls_x509_crt_init) \
	X(gnutls_x509_trust_list_add_system_trust) \
	X(gnutls_x509_trust_list_add_trust_file) X(gnutls_x509_trust_list_deinit) \
	X(gnutls_x509_trust_list_init) X(gnutls_x509_trust_list_verify_crt2)

LAZYLIB_TABLE(lazyetpan, LAZYETPAN_FUNCS);
LAZYLIB_TABLE(lazygnutls, LAZYGNUTLS_FUNCS);
extern struct lazyetpan lazyetpan;
extern struct lazygnutls lazygnutls;

/* Open libetpan and GnuTLS if they are not open (lazylib's lock).  0, or
 * -1 with err naming the library and the reason. */
int lazyetpan_load(char *err, size_t errlen);

/* Close both if open.  Only while no other thread can be in them and no
 * IMAP connection is open: the daemon calls it before it waits.  A
 * no-op in AddressSanitizer builds (see lazyetpan.c). */
void lazyetpan_unload(void);

/* Function-like, unlike lazyxml's and lazyharu's: libetpan's names are
 * also member names of its stream driver struct (.mailstream_close). */

#define mailimap_capability_data_free(...) ((lazyetpan.mailimap_capability_data_free)(__VA_ARGS__))
#define mailimap_connect(...) ((lazyetpan.mailimap_connect)(__VA_ARGS__))
#define mailimap_fetch_att_new_body_peek_section(...) ((lazyetpan.mailimap_fetch_att_new_body_peek_section)(__VA_ARGS__))
#define mailimap_fetch_att_new_body_peek_section_partial(...) ((lazyetpan.mailimap_fetch_att_new_body_peek_section_partial)(__VA_ARGS__))
#define mailimap_fetch_att_new_rfc822_size(...) ((lazyetpan.mailimap_fetch_att_new_rfc822_size)(__VA_ARGS__))
#define mailimap_fetch_att_new_uid(...) ((lazyetpan.mailimap_fetch_att_new_uid)(__VA_ARGS__))
#define mailimap_fetch_list_free(...) ((lazyetpan.mailimap_fetch_list_free)(__VA_ARGS__))
#define mailimap_fetch_type_free(...) ((lazyetpan.mailimap_fetch_type_free)(__VA_ARGS__))
#define mailimap_fetch_type_new_fetch_att_list_add(...) ((lazyetpan.mailimap_fetch_type_new_fetch_att_list_add)(__VA_ARGS__))
#define mailimap_fetch_type_new_fetch_att_list_empty(...) ((lazyetpan.mailimap_fetch_type_new_fetch_att_list_empty)(__VA_ARGS__))
#define mailimap_flag_list_add(...) ((lazyetpan.mailimap_flag_list_add)(__VA_ARGS__))
#define mailimap_flag_list_new_empty(...) ((lazyetpan.mailimap_flag_list_new_empty)(__VA_ARGS__))
#define mailimap_flag_new_deleted(...) ((lazyetpan.mailimap_flag_new_deleted)(__VA_ARGS__))
#define mailimap_flag_new_seen(...) ((lazyetpan.mailimap_flag_new_seen)(__VA_ARGS__))
#define mailimap_free(...) ((lazyetpan.mailimap_free)(__VA_ARGS__))
#define mailimap_has_authentication(...) ((lazyetpan.mailimap_has_authentication)(__VA_ARGS__))
#define mailimap_has_extension(...) ((lazyetpan.mailimap_has_extension)(__VA_ARGS__))
#define mailimap_has_idle(...) ((lazyetpan.mailimap_has_idle)(__VA_ARGS__))
#define mailimap_has_uidplus(...) ((lazyetpan.mailimap_has_uidplus)(__VA_ARGS__))
#define mailimap_idle(...) ((lazyetpan.mailimap_idle)(__VA_ARGS__))
#define mailimap_idle_done(...) ((lazyetpan.mailimap_idle_done)(__VA_ARGS__))
#define mailimap_idle_get_fd(...) ((lazyetpan.mailimap_idle_get_fd)(__VA_ARGS__))
#define mailimap_login(...) ((lazyetpan.mailimap_login)(__VA_ARGS__))
#define mailimap_new(...) ((lazyetpan.mailimap_new)(__VA_ARGS__))
#define mailimap_parse_response(...) ((lazyetpan.mailimap_parse_response)(__VA_ARGS__))
#define mailimap_read_line(...) ((lazyetpan.mailimap_read_line)(__VA_ARGS__))
#define mailimap_response_free(...) ((lazyetpan.mailimap_response_free)(__VA_ARGS__))
#define mailimap_search_key_free(...) ((lazyetpan.mailimap_search_key_free)(__VA_ARGS__))
#define mailimap_search_key_new_uid(...) ((lazyetpan.mailimap_search_key_new_uid)(__VA_ARGS__))
#define mailimap_search_result_free(...) ((lazyetpan.mailimap_search_result_free)(__VA_ARGS__))
#define mailimap_section_new(...) ((lazyetpan.mailimap_section_new)(__VA_ARGS__))
#define mailimap_select(...) ((lazyetpan.mailimap_select)(__VA_ARGS__))
#define mailimap_send_current_tag(...) ((lazyetpan.mailimap_send_current_tag)(__VA_ARGS__))
#define mailimap_set_add_single(...) ((lazyetpan.mailimap_set_add_single)(__VA_ARGS__))
#define mailimap_set_free(...) ((lazyetpan.mailimap_set_free)(__VA_ARGS__))
#define mailimap_set_new_empty(...) ((lazyetpan.mailimap_set_new_empty)(__VA_ARGS__))
#define mailimap_set_new_interval(...) ((lazyetpan.mailimap_set_new_interval)(__VA_ARGS__))
#define mailimap_set_new_single(...) ((lazyetpan.mailimap_set_new_single)(__VA_ARGS__))
#define mailimap_set_timeout(...) ((lazyetpan.mailimap_set_timeout)(__VA_ARGS__))
#define mailimap_socket_starttls_with_callback(...) ((lazyetpan.mailimap_socket_starttls_with_callback)(__VA_ARGS__))
#define mailimap_store_att_flags_free(...) ((lazyetpan.mailimap_store_att_flags_free)(__VA_ARGS__))
#define mailimap_store_att_flags_new_add_flags_silent(...) ((lazyetpan.mailimap_store_att_flags_new_add_flags_silent)(__VA_ARGS__))
#define mailimap_uid_copy(...) ((lazyetpan.mailimap_uid_copy)(__VA_ARGS__))
#define mailimap_uid_expunge(...) ((lazyetpan.mailimap_uid_expunge)(__VA_ARGS__))
#define mailimap_uid_fetch(...) ((lazyetpan.mailimap_uid_fetch)(__VA_ARGS__))
#define mailimap_uid_move(...) ((lazyetpan.mailimap_uid_move)(__VA_ARGS__))
#define mailimap_uid_search(...) ((lazyetpan.mailimap_uid_search)(__VA_ARGS__))
#define mailimap_uid_store(...) ((lazyetpan.mailimap_uid_store)(__VA_ARGS__))
#define mailimf_address_list_free(...) ((lazyetpan.mailimf_address_list_free)(__VA_ARGS__))
#define mailimf_address_list_parse(...) ((lazyetpan.mailimf_address_list_parse)(__VA_ARGS__))
#define mailimf_crlf_parse(...) ((lazyetpan.mailimf_crlf_parse)(__VA_ARGS__))
#define mailimf_date_time_free(...) ((lazyetpan.mailimf_date_time_free)(__VA_ARGS__))
#define mailimf_date_time_parse(...) ((lazyetpan.mailimf_date_time_parse)(__VA_ARGS__))
#define mailimf_envelope_and_optional_fields_parse(...) ((lazyetpan.mailimf_envelope_and_optional_fields_parse)(__VA_ARGS__))
#define mailimf_fields_free(...) ((lazyetpan.mailimf_fields_free)(__VA_ARGS__))
#define mailimf_optional_fields_parse(...) ((lazyetpan.mailimf_optional_fields_parse)(__VA_ARGS__))
#define mailmime_extract_boundary(...) ((lazyetpan.mailmime_extract_boundary)(__VA_ARGS__))
#define mailmime_fields_free(...) ((lazyetpan.mailmime_fields_free)(__VA_ARGS__))
#define mailmime_fields_parse(...) ((lazyetpan.mailmime_fields_parse)(__VA_ARGS__))
#define mailmime_free(...) ((lazyetpan.mailmime_free)(__VA_ARGS__))
#define mailmime_parse(...) ((lazyetpan.mailmime_parse)(__VA_ARGS__))
#define mailmime_part_parse(...) ((lazyetpan.mailmime_part_parse)(__VA_ARGS__))
#define mailmime_transfer_encoding_get(...) ((lazyetpan.mailmime_transfer_encoding_get)(__VA_ARGS__))
#define mailstream_certificate_chain_free(...) ((lazyetpan.mailstream_certificate_chain_free)(__VA_ARGS__))
#define mailstream_close(...) ((lazyetpan.mailstream_close)(__VA_ARGS__))
#define mailstream_flush(...) ((lazyetpan.mailstream_flush)(__VA_ARGS__))
#define mailstream_get_certificate_chain(...) ((lazyetpan.mailstream_get_certificate_chain)(__VA_ARGS__))
#define mailstream_get_low(...) ((lazyetpan.mailstream_get_low)(__VA_ARGS__))
#define mailstream_low_cancel(...) ((lazyetpan.mailstream_low_cancel)(__VA_ARGS__))
#define mailstream_low_close(...) ((lazyetpan.mailstream_low_close)(__VA_ARGS__))
#define mailstream_low_free(...) ((lazyetpan.mailstream_low_free)(__VA_ARGS__))
#define mailstream_low_get_cancel(...) ((lazyetpan.mailstream_low_get_cancel)(__VA_ARGS__))
#define mailstream_low_get_certificate_chain(...) ((lazyetpan.mailstream_low_get_certificate_chain)(__VA_ARGS__))
#define mailstream_low_get_fd(...) ((lazyetpan.mailstream_low_get_fd)(__VA_ARGS__))
#define mailstream_low_new(...) ((lazyetpan.mailstream_low_new)(__VA_ARGS__))
#define mailstream_low_read(...) ((lazyetpan.mailstream_low_read)(__VA_ARGS__))
#define mailstream_low_write(...) ((lazyetpan.mailstream_low_write)(__VA_ARGS__))
#define mailstream_set_low(...) ((lazyetpan.mailstream_set_low)(__VA_ARGS__))
#define mailstream_set_privacy(...) ((lazyetpan.mailstream_set_privacy)(__VA_ARGS__))
#define mailstream_socket_open_timeout(...) ((lazyetpan.mailstream_socket_open_timeout)(__VA_ARGS__))
#define mailstream_ssl_open_with_callback_timeout(...) ((lazyetpan.mailstream_ssl_open_with_callback_timeout)(__VA_ARGS__))
#define mailstream_ssl_set_server_name(...) ((lazyetpan.mailstream_ssl_set_server_name)(__VA_ARGS__))
#define mailstream_write(...) ((lazyetpan.mailstream_write)(__VA_ARGS__))
#define mmap_string_unref(...) ((lazyetpan.mmap_string_unref)(__VA_ARGS__))

#define gnutls_certificate_verification_status_print(...) ((lazygnutls.gnutls_certificate_verification_status_print)(__VA_ARGS__))
#define gnutls_pkcs7_deinit(...) ((lazygnutls.gnutls_pkcs7_deinit)(__VA_ARGS__))
#define gnutls_pkcs7_get_embedded_data(...) ((lazygnutls.gnutls_pkcs7_get_embedded_data)(__VA_ARGS__))
#define gnutls_pkcs7_import(...) ((lazygnutls.gnutls_pkcs7_import)(__VA_ARGS__))
#define gnutls_pkcs7_init(...) ((lazygnutls.gnutls_pkcs7_init)(__VA_ARGS__))
#define gnutls_strerror(...) ((lazygnutls.gnutls_strerror)(__VA_ARGS__))
#define gnutls_x509_crt_deinit(...) ((lazygnutls.gnutls_x509_crt_deinit)(__VA_ARGS__))
#define gnutls_x509_crt_import(...) ((lazygnutls.gnutls_x509_crt_import)(__VA_ARGS__))
#define gnutls_x509_crt_init(...) ((lazygnutls.gnutls_x509_crt_init)(__VA_ARGS__))
#define gnutls_x509_trust_list_add_system_trust(...) ((lazygnutls.gnutls_x509_trust_list_add_system_trust)(__VA_ARGS__))
#define gnutls_x509_trust_list_add_trust_file(...) ((lazygnutls.gnutls_x509_trust_list_add_trust_file)(__VA_ARGS__))
#define gnutls_x509_trust_list_deinit(...) ((lazygnutls.gnutls_x509_trust_list_deinit)(__VA_ARGS__))
#define gnutls_x509_trust_list_init(...) ((lazygnutls.gnutls_x509_trust_list_init)(__VA_ARGS__))
#define gnutls_x509_trust_list_verify_crt2(...) ((lazygnutls.gnutls_x509_trust_list_verify_crt2)(__VA_ARGS__))

/* A variable, not a function, and a macro in <gnutls/gnutls.h> that
 * also clears its argument: the table holds the variable's address. */
#undef gnutls_free
#define gnutls_free(a) ((*lazygnutls.gnutls_free)((void *)(a)), (a) = NULL)

#endif
