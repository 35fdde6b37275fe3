/*
 * xdp_pkt.c - Ethernet/IPv4/IPv6/UDP frames of the AF_XDP path; see
 * xdp_pkt.h.
 *
 * SECURITY: untrusted frames; every offset is checked against the frame
 * length before it is read, and lengths in headers are checked against
 * what was received (RFC 768, RFC 791, RFC 8200 8.1).
 */
#include "serve/xdp_pkt.h"

#include <string.h>
#include <netinet/in.h>

#define ETH_IP4 0x0800
#define ETH_IP6 0x86dd
#define PROTO_UDP 17
#define TTL 64

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The one's complement sum of len bytes (RFC 1071), not yet folded. */
static uint32_t sum16(uint32_t sum, const uint8_t *p, size_t len)
{
	while (len > 1) {
		sum += get16(p);
		p += 2;
		len -= 2;
	}
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* The UDP checksum sum over the pseudo header and the datagram (udp,
 * ulen bytes); addresses of alen bytes each at src and dst. */
static uint32_t udp_sum(const uint8_t *src, const uint8_t *dst, size_t alen,
			const uint8_t *udp, size_t ulen)
{
	uint32_t sum = sum16(0, src, alen);

	sum = sum16(sum, dst, alen);
	sum += PROTO_UDP + (uint32_t)ulen;
	return sum16(sum, udp, ulen);
}

/* A source we must never answer: answers to it would go to many hosts
 * or to none (the socket path's sendmmsg refuses them too).  Nor a
 * destination we cannot answer from (a query to a broadcast or multicast
 * address, which a wildcard listen address lets through). */
static int bad_source4(const uint8_t *a)
{
	return a[0] == 0 || a[0] >= 224 ||     /* 0/8, multicast, 240/4, broadcast */
	       (a[0] == 127);                   /* martian on a wire */
}

static int bad_source6(const uint8_t *a)
{
	static const uint8_t zero[16];

	return a[0] == 0xff || !memcmp(a, zero, 16);   /* multicast, :: */
}

static int parse4(const uint8_t *f, size_t len, struct xdp_pkt *p)
{
	const uint8_t *ip = f + XDP_PKT_ETH, *udp = ip + 20;
	size_t tot, ulen;
	struct sockaddr_in *sin = (struct sockaddr_in *)&p->peer;

	if (len < XDP_PKT_HDR4 || ip[0] != 0x45 || ip[9] != PROTO_UDP ||
	    (get16(ip + 6) & 0x3fff))   /* MF or an offset: a fragment */
		return -1;
	tot = get16(ip + 2);
	if (tot < 28 || tot > len - XDP_PKT_ETH || fold(sum16(0, ip, 20)) != 0xffff)
		return -1;
	ulen = get16(udp + 4);
	if (ulen < 8 || ulen > tot - 20 || bad_source4(ip + 12) || bad_source4(ip + 16) ||
	    !get16(udp) || !get16(udp + 2))
		return -1;
	if (get16(udp + 6) && fold(udp_sum(ip + 12, ip + 16, 4, udp, ulen)) != 0xffff)
		return -1;
	p->family = AF_INET;
	p->payload = XDP_PKT_HDR4;
	p->paylen = ulen - 8;
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	memcpy(&sin->sin_addr, ip + 12, 4);
	memcpy(&sin->sin_port, udp, 2);
	p->peerlen = sizeof(*sin);
	return 0;
}

static int parse6(const uint8_t *f, size_t len, struct xdp_pkt *p)
{
	const uint8_t *ip = f + XDP_PKT_ETH, *udp = ip + 40;
	size_t plen, ulen;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&p->peer;

	if (len < XDP_PKT_HDR6 || (ip[0] >> 4) != 6 || ip[6] != PROTO_UDP)
		return -1;
	plen = get16(ip + 4);
	if (plen < 8 || plen > len - XDP_PKT_ETH - 40)
		return -1;
	ulen = get16(udp + 4);
	if (ulen < 8 || ulen > plen || bad_source6(ip + 8) || bad_source6(ip + 24) ||
	    !get16(udp) || !get16(udp + 2))
		return -1;
	/* RFC 8200 8.1: a zero UDP checksum is invalid on IPv6 */
	if (!get16(udp + 6) || fold(udp_sum(ip + 8, ip + 24, 16, udp, ulen)) != 0xffff)
		return -1;
	p->family = AF_INET6;
	p->payload = XDP_PKT_HDR6;
	p->paylen = ulen - 8;
	memset(sin6, 0, sizeof(*sin6));
	sin6->sin6_family = AF_INET6;
	memcpy(&sin6->sin6_addr, ip + 8, 16);
	memcpy(&sin6->sin6_port, udp, 2);
	p->peerlen = sizeof(*sin6);
	return 0;
}

int xdp_pkt_parse(const uint8_t *frame, size_t len, struct xdp_pkt *p)
{
	uint16_t type;

	if (len < XDP_PKT_ETH)
		return -1;
	type = get16(frame + 12);
	if (type == ETH_IP4)
		return parse4(frame, len, p);
	if (type == ETH_IP6)
		return parse6(frame, len, p);
	return -1;
}

/* Swap n bytes at a and b. */
static void swap(uint8_t *a, uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t t = a[i];

		a[i] = b[i];
		b[i] = t;
	}
}

static void udp_reply(uint8_t *udp, const uint8_t *src, const uint8_t *dst, size_t alen,
		      size_t dnslen)
{
	uint16_t sum;

	swap(udp, udp + 2, 2);
	put16(udp + 4, (uint16_t)(8 + dnslen));
	put16(udp + 6, 0);
	sum = (uint16_t)~fold(udp_sum(src, dst, alen, udp, 8 + dnslen));
	put16(udp + 6, sum ? sum : 0xffff);     /* 0 means "none" (RFC 768) */
}

size_t xdp_pkt_reply(uint8_t *frame, const struct xdp_pkt *p, size_t dnslen)
{
	uint8_t *ip = frame + XDP_PKT_ETH;

	swap(frame, frame + 6, 6);              /* destination and source MAC */
	if (p->family == AF_INET) {
		ip[1] = 0;                      /* TOS */
		put16(ip + 2, (uint16_t)(20 + 8 + dnslen));
		put16(ip + 4, 0);               /* ID: DF is set */
		put16(ip + 6, 0x4000);
		ip[8] = TTL;
		put16(ip + 10, 0);
		swap(ip + 12, ip + 16, 4);
		put16(ip + 10, (uint16_t)~fold(sum16(0, ip, 20)));
		udp_reply(ip + 20, ip + 12, ip + 16, 4, dnslen);
		return XDP_PKT_HDR4 + dnslen;
	}
	ip[0] = 0x60;                           /* traffic class and flow label 0 */
	ip[1] = ip[2] = ip[3] = 0;
	put16(ip + 4, (uint16_t)(8 + dnslen));
	ip[7] = TTL;
	swap(ip + 8, ip + 24, 16);
	udp_reply(ip + 40, ip + 8, ip + 24, 16, dnslen);
	return XDP_PKT_HDR6 + dnslen;
}
