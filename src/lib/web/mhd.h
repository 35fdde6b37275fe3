/*
 * mhd.h - libmicrohttpd, opened when the portal starts (base/dynlib.h).
 *
 * Every file of the portal that calls libmicrohttpd includes this header
 * instead of <microhttpd.h>: the names below then call through the table
 * that web_mhd_load() fills.  Only `rblkit web` pays for the library and
 * the GnuTLS it brings.
 */
#ifndef RBLKIT_WEB_MHD_H
#define RBLKIT_WEB_MHD_H

#include "base/dynlib.h"

#include <stdarg.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <microhttpd.h>

#define MHD_FUNCS(X) \
	X(MHD_add_response_header) \
	X(MHD_create_response_from_buffer) \
	X(MHD_create_response_from_callback) \
	X(MHD_destroy_response) \
	X(MHD_get_connection_info) \
	X(MHD_is_feature_supported) \
	X(MHD_lookup_connection_value) \
	X(MHD_queue_response) \
	X(MHD_resume_connection) \
	X(MHD_start_daemon) \
	X(MHD_stop_daemon) \
	X(MHD_suspend_connection)

struct web_mhd { MHD_FUNCS(DYNLIB_SLOT) };
extern struct web_mhd web_mhd;

/* Open libmicrohttpd: 0, or -1 with what is missing in err. */
int web_mhd_load(char *err, size_t errlen);

#define MHD_add_response_header web_mhd.MHD_add_response_header
#define MHD_create_response_from_buffer web_mhd.MHD_create_response_from_buffer
#define MHD_create_response_from_callback web_mhd.MHD_create_response_from_callback
#define MHD_destroy_response web_mhd.MHD_destroy_response
#define MHD_get_connection_info web_mhd.MHD_get_connection_info
#define MHD_is_feature_supported web_mhd.MHD_is_feature_supported
#define MHD_lookup_connection_value web_mhd.MHD_lookup_connection_value
#define MHD_queue_response web_mhd.MHD_queue_response
#define MHD_resume_connection web_mhd.MHD_resume_connection
#define MHD_start_daemon web_mhd.MHD_start_daemon
#define MHD_stop_daemon web_mhd.MHD_stop_daemon
#define MHD_suspend_connection web_mhd.MHD_suspend_connection

#endif
