/*
 * tls.c - HTTPS of `rblkit web` itself (tls_cert, tls_key): the PEM files
 * read at start-up for libmicrohttpd's MHD_USE_TLS (GnuTLS underneath),
 * with errors that name the file.
 *
 * SECURITY: the files are the operator's; the key is read before the
 * privilege drop (the process may lose the right to read it after) and
 * kept in memory only as long as libmicrohttpd needs it, then wiped.
 */
#include "web/web_int.h"
#include "web/mhd.h"
#include "web/sodium.h"
#include "base/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PEM_MAX (1u << 20)      /* a certificate chain or key larger than this is refused */

/* Read path (a PEM file holding what) into a NUL-terminated buffer;
 * NULL with why (naming the file) in err. */
static char *read_pem(const char *path, const char *what, char *err, size_t el)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	struct stat sb;
	size_t n;

	if (!f) {
		snprintf(err, el, "%s %s: %s", what, path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &sb) || !S_ISREG(sb.st_mode) || sb.st_size <= 0 ||
	    (unsigned long long)sb.st_size > PEM_MAX) {
		snprintf(err, el, "%s %s: not a PEM file of 1 to %u bytes", what, path, PEM_MAX);
		goto out;
	}
	buf = xmalloc((size_t)sb.st_size + 1);
	n = fread(buf, 1, (size_t)sb.st_size, f);
	buf[n] = 0;
	if (n != (size_t)sb.st_size || !strstr(buf, "-----BEGIN ")) {
		snprintf(err, el, "%s %s: %s", what, path,
			 n != (size_t)sb.st_size ? "cannot be read" : "no PEM block (-----BEGIN ...)");
		sodium_memzero(buf, n);
		free(buf);
		buf = NULL;
	}
out:
	fclose(f);
	return buf;
}

int web_tls_load(const struct web_conf *c, char **cert, char **key, char *err, size_t el)
{
	*cert = *key = NULL;
	if (!c->tls_cert || !*c->tls_cert)
		return 0;
	if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		snprintf(err, el, "tls_cert %s: this libmicrohttpd was built without TLS (GnuTLS); "
			 "put TLS in a reverse proxy instead", c->tls_cert);
		return -1;
	}
	if (!(*cert = read_pem(c->tls_cert, "tls_cert", err, el)))
		return -1;
	if (!(*key = read_pem(c->tls_key, "tls_key", err, el))) {
		free(*cert);
		*cert = NULL;
		return -1;
	}
	return 0;
}

void web_tls_free(char *cert, char *key)
{
	if (key) {
		sodium_memzero(key, strlen(key));
		free(key);
	}
	free(cert);
}

int web_conf_check_files(const struct web_conf *c, char *err, size_t el)
{
	char *cert, *key;

	if (web_mhd_load(err, el) || web_sodium_load(err, el) ||
	    web_tls_load(c, &cert, &key, err, el))
		return -1;
	web_tls_free(cert, key);
	return 0;
}
