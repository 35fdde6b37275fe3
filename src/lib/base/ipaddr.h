/*
 * ipaddr.h - IPv4/IPv6 text forms as rbldnsd data files write them.
 *
 * SECURITY: parses untrusted data-file text; never reads past the NUL.
 */
#ifndef RBLKIT_IPADDR_H
#define RBLKIT_IPADDR_H

#include <stdint.h>
#include "serve/segmap.h"

/* Leading octets "a[.b[.c[.d]]]": returns 8/16/24/32 bits and the address
 * (host order, missing octets zero), or -1. *end is set past it. */
int ip4_prefix(const char *s, uint32_t *a, const char **end);
/* CIDR "prefix[/bits]" (a bare number needs /bits): returns bits or -1. */
int ip4_cidr(const char *s, uint32_t *a, const char **end);
/* Range or CIDR: "a-b" (see rbldnsd(8)), "prefix/bits", "prefix".
 * Returns prefix bits (32 for a-b ranges) or -1; [*lo, *hi] is the range
 * (lo may keep host bits: callers check). */
int ip4_range(const char *s, uint32_t *lo, uint32_t *hi, const char **end);
/* Mask of the top bits. */
uint32_t ip4_mask(int bits);
/* Dotted quad of a (host order) into buf (16 bytes); returns length. */
int ip4_format(uint32_t a, char *buf);

/* IPv6 "x:x:..." with "::"; returns 16*words bits, 128 with "::", or -1. */
int ip6_prefix(const char *s, uint8_t a[16], const char **end);
/* With optional "/bits"; a bare single word is refused. */
int ip6_cidr(const char *s, uint8_t a[16], const char **end);
/* 1 if a has bits set past the prefix. */
int ip6_host_bits(const uint8_t a[16], int bits);
/* rbldnsd's text form (longest zero run of 2+ words as "::"); buf 40+. */
int ip6_format(const uint8_t a[16], char *buf);

u128 ip6_to_u128(const uint8_t a[16]);
void ip6_from_u128(u128 v, uint8_t a[16]);
u128 ip6_mask(int bits);

#endif
