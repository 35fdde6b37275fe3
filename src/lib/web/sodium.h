/*
 * sodium.h - libsodium, opened when the portal or its user tools start
 * (base/dynlib.h).
 *
 * The portal's files include this header instead of <sodium.h>; the names
 * below then call through the table that web_sodium_load() fills.  No
 * other command maps libsodium.
 */
#ifndef RBLKIT_WEB_SODIUM_H
#define RBLKIT_WEB_SODIUM_H

#include "base/dynlib.h"

#include <sodium.h>

#define SODIUM_FUNCS(X) \
	X(crypto_hash_sha256) \
	X(crypto_pwhash_str) \
	X(crypto_pwhash_str_verify) \
	X(randombytes_buf) \
	X(sodium_bin2hex) \
	X(sodium_init) \
	X(sodium_memcmp) \
	X(sodium_memzero)

struct web_sodium { SODIUM_FUNCS(DYNLIB_SLOT) };
extern struct web_sodium web_sodium;

/* Open libsodium and initialise it: 0, or -1 with why in err.  Call
 * before any other function of it. */
int web_sodium_load(char *err, size_t errlen);

#define crypto_hash_sha256 web_sodium.crypto_hash_sha256
#define crypto_pwhash_str web_sodium.crypto_pwhash_str
#define crypto_pwhash_str_verify web_sodium.crypto_pwhash_str_verify
#define randombytes_buf web_sodium.randombytes_buf
#define sodium_bin2hex web_sodium.sodium_bin2hex
#define sodium_init web_sodium.sodium_init
#define sodium_memcmp web_sodium.sodium_memcmp
#define sodium_memzero web_sodium.sodium_memzero

#endif
