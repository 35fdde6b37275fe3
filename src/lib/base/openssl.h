/*
 * openssl.h - OpenSSL (libssl, libcrypto), opened at the first TLS
 * connection (base/dynlib.h).
 *
 * The TLS clients (watch's webhooks, policy's Redis) include this
 * header instead of <openssl/ssl.h>: the names below, and OpenSSL's macros
 * built on them (SSL_CTX_set_min_proto_version is SSL_CTX_ctrl), then call
 * through the table that openssl_load() fills.  The commands that never
 * speak TLS do not map libcrypto.
 */
#ifndef RBLKIT_OPENSSL_H
#define RBLKIT_OPENSSL_H

#include "base/dynlib.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define OPENSSL_FUNCS(X) \
	X(ERR_clear_error) \
	X(ERR_error_string_n) \
	X(ERR_get_error) \
	X(ERR_reason_error_string) \
	X(SSL_CTX_ctrl) \
	X(SSL_CTX_free) \
	X(SSL_CTX_load_verify_locations) \
	X(SSL_CTX_new) \
	X(SSL_CTX_set_default_verify_paths) \
	X(SSL_CTX_set_verify) \
	X(SSL_connect) \
	X(SSL_ctrl) \
	X(SSL_free) \
	X(SSL_get0_param) \
	X(SSL_get_error) \
	X(SSL_get_verify_result) \
	X(SSL_new) \
	X(SSL_read) \
	X(SSL_set1_host) \
	X(SSL_set_fd) \
	X(SSL_set_hostflags) \
	X(SSL_set_verify) \
	X(SSL_write) \
	X(TLS_client_method) \
	X(X509_VERIFY_PARAM_set1_host) \
	X(X509_VERIFY_PARAM_set1_ip_asc) \
	X(X509_verify_cert_error_string)

struct openssl_api { OPENSSL_FUNCS(DYNLIB_SLOT) };
extern struct openssl_api openssl_api;

/* Open libssl (and its libcrypto): 0, or -1 with what is missing in err.
 * Call before the first SSL_CTX_new(). */
int openssl_load(char *err, size_t errlen);

#define ERR_clear_error openssl_api.ERR_clear_error
#define ERR_error_string_n openssl_api.ERR_error_string_n
#define ERR_get_error openssl_api.ERR_get_error
#define ERR_reason_error_string openssl_api.ERR_reason_error_string
#define SSL_CTX_ctrl openssl_api.SSL_CTX_ctrl
#define SSL_CTX_free openssl_api.SSL_CTX_free
#define SSL_CTX_load_verify_locations openssl_api.SSL_CTX_load_verify_locations
#define SSL_CTX_new openssl_api.SSL_CTX_new
#define SSL_CTX_set_default_verify_paths openssl_api.SSL_CTX_set_default_verify_paths
#define SSL_CTX_set_verify openssl_api.SSL_CTX_set_verify
#define SSL_connect openssl_api.SSL_connect
#define SSL_ctrl openssl_api.SSL_ctrl
#define SSL_free openssl_api.SSL_free
#define SSL_get0_param openssl_api.SSL_get0_param
#define SSL_get_error openssl_api.SSL_get_error
#define SSL_get_verify_result openssl_api.SSL_get_verify_result
#define SSL_new openssl_api.SSL_new
#define SSL_read openssl_api.SSL_read
#define SSL_set1_host openssl_api.SSL_set1_host
#define SSL_set_fd openssl_api.SSL_set_fd
#define SSL_set_hostflags openssl_api.SSL_set_hostflags
#define SSL_set_verify openssl_api.SSL_set_verify
#define SSL_write openssl_api.SSL_write
#define TLS_client_method openssl_api.TLS_client_method
#define X509_VERIFY_PARAM_set1_host openssl_api.X509_VERIFY_PARAM_set1_host
#define X509_VERIFY_PARAM_set1_ip_asc openssl_api.X509_VERIFY_PARAM_set1_ip_asc
#define X509_verify_cert_error_string openssl_api.X509_verify_cert_error_string

#endif
