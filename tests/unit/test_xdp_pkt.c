/*
 * test_xdp_pkt.c - the frames of the AF_XDP path: what is taken, what is
 * dropped, and the answer frame (addresses, ports, lengths, checksums).
 */
#include "unit.h"
#include "serve/xdp.h"
#include "serve/xdp_pkt.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <xdp/xsk.h>

/* A query frame: 02:..:01 <- 02:..:02, 198.18.0.2:40000 -> 198.18.0.1:53,
 * payload "abcd", checksums right. */
static size_t frame4(uint8_t *f)
{
	static const uint8_t hdr[] = {
		2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00,
		0x45, 0, 0, 32, 0, 1, 0, 0, 64, 17, 0, 0, 198, 18, 0, 2, 198, 18, 0, 1,
		0x9c, 0x40, 0, 53, 0, 12, 0, 0, 'a', 'b', 'c', 'd',
	};
	uint32_t s = 0;

	memcpy(f, hdr, sizeof(hdr));
	for (int i = 14; i < 34; i += 2)
		s += (uint32_t)(f[i] << 8 | f[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	f[24] = (uint8_t)(~s >> 8);
	f[25] = (uint8_t)~s;
	return sizeof(hdr);     /* UDP checksum 0: none, allowed on IPv4 */
}

/* The one's complement sum over the pseudo header and UDP, folded. */
static unsigned udp_check4(const uint8_t *f, size_t ulen)
{
	uint32_t s = 17 + (uint32_t)ulen;

	for (int i = 26; i < 34; i += 2)
		s += (uint32_t)(f[i] << 8 | f[i + 1]);
	for (size_t i = 0; i < ulen; i += 2)
		s += (uint32_t)(f[34 + i] << 8 | (i + 1 < ulen ? f[35 + i] : 0));
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s;
}

UNIT_TEST(ipv4_query_and_answer)
{
	uint8_t f[256];
	size_t len = frame4(f);
	struct xdp_pkt p;
	const struct sockaddr_in *sin = (const void *)&p.peer;
	char text[32];

	CHECK(xdp_pkt_parse(f, len, &p) == 0);
	CHECK_EQ_INT(p.family, AF_INET);
	CHECK_EQ_INT(p.payload, XDP_PKT_HDR4);
	CHECK_EQ_INT(p.paylen, 4);
	CHECK_EQ_STR(inet_ntop(AF_INET, &sin->sin_addr, text, sizeof(text)), "198.18.0.2");
	CHECK_EQ_INT(ntohs(sin->sin_port), 40000);
	memcpy(f + p.payload, "answer", 6);
	CHECK_EQ_INT(xdp_pkt_reply(f, &p, 6), XDP_PKT_HDR4 + 6);
	CHECK(f[0] == 2 && f[5] == 2 && f[11] == 1);    /* MACs swapped */
	CHECK(f[29] == 1 && f[33] == 2);                /* addresses swapped */
	CHECK(f[34] == 0 && f[35] == 53 && f[36] == 0x9c && f[37] == 0x40);
	CHECK(f[16] == 0 && f[17] == 34 && f[22] == 64);        /* length, TTL */
	CHECK(f[38] == 0 && f[39] == 14);                       /* UDP length */
	CHECK(udp_check4(f, 14) == 0xffff);
	CHECK(f[40] || f[41]);          /* a checksum is always sent */
	CHECK(xdp_pkt_parse(f, XDP_PKT_HDR4 + 6, &p) == 0);
}

UNIT_TEST(ipv4_drops)
{
	uint8_t f[256];
	size_t len = frame4(f);
	struct xdp_pkt p;

	CHECK(xdp_pkt_parse(f, len - 1, &p) == -1);     /* IP length past the frame */
	CHECK(xdp_pkt_parse(f, 13, &p) == -1);
	f[25] ^= 1;
	CHECK(xdp_pkt_parse(f, len, &p) == -1);         /* header checksum */
	len = frame4(f);
	f[41] = 1;
	CHECK(xdp_pkt_parse(f, len, &p) == -1);         /* wrong UDP checksum */
	len = frame4(f);
	f[39] = 40;
	CHECK(xdp_pkt_parse(f, len, &p) == -1);         /* UDP length past IP */
	len = frame4(f);
	f[34] = f[35] = 0;
	CHECK(xdp_pkt_parse(f, len, &p) == -1);         /* source port 0 */
	len = frame4(f);
	CHECK(xdp_pkt_parse(f, len + 20, &p) == 0);     /* Ethernet padding */
	f[12] = 0x81;
	CHECK(xdp_pkt_parse(f, len, &p) == -1);         /* VLAN tag */
}

UNIT_TEST(ipv4_source_not_answered)
{
	static const uint8_t bad[][4] = { { 0, 0, 0, 0 }, { 224, 0, 0, 1 },
					   { 255, 255, 255, 255 }, { 127, 0, 0, 1 } };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t f[256];
		size_t len = frame4(f);
		struct xdp_pkt p;
		uint32_t s = 0;

		memcpy(f + 26, bad[i], 4);
		f[24] = f[25] = 0;
		for (int j = 14; j < 34; j += 2)
			s += (uint32_t)(f[j] << 8 | f[j + 1]);
		while (s >> 16)
			s = (s & 0xffff) + (s >> 16);
		f[24] = (uint8_t)(~s >> 8);
		f[25] = (uint8_t)~s;
		CHECK(xdp_pkt_parse(f, len, &p) == -1);
	}
}

UNIT_TEST(ipv4_broadcast_destination_not_answered)
{
	uint8_t f[256];
	size_t len = frame4(f);
	struct xdp_pkt p;
	uint32_t s = 0;

	/* a query to 255.255.255.255 (a wildcard listen address takes it):
	 * the answer would come from the broadcast address */
	memset(f + 30, 255, 4);
	f[24] = f[25] = 0;
	for (int j = 14; j < 34; j += 2)
		s += (uint32_t)(f[j] << 8 | f[j + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	f[24] = (uint8_t)(~s >> 8);
	f[25] = (uint8_t)~s;
	CHECK(xdp_pkt_parse(f, len, &p) == -1);
	len = frame4(f);
	f[36] = f[37] = 0;
	CHECK(xdp_pkt_parse(f, len, &p) == -1);         /* destination port 0 */
}

UNIT_TEST(ipv6_zero_checksum_dropped_answer_has_one)
{
	uint8_t f[256] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x86, 0xdd,
			   0x60, 0, 0, 0, 0, 12, 17, 64 };
	struct xdp_pkt p;

	inet_pton(AF_INET6, "fd00::2", f + 22);
	inet_pton(AF_INET6, "fd00::1", f + 38);
	memcpy(f + 54, "\x9c\x40\x00\x35\x00\x0c\x00\x00" "abcd", 12);
	CHECK(xdp_pkt_parse(f, 66, &p) == -1);          /* zero: invalid on IPv6 */
	/* make it right by answering it twice (the answer's checksum is set) */
	p.family = AF_INET6;
	p.payload = XDP_PKT_HDR6;
	xdp_pkt_reply(f, &p, 4);
	CHECK(xdp_pkt_parse(f, 66, &p) == 0);
	CHECK_EQ_INT(p.paylen, 4);
	CHECK(f[60] || f[61]);
	xdp_pkt_reply(f, &p, 4);
	CHECK(xdp_pkt_parse(f, 66, &p) == 0);
	CHECK(f[55] == 0x40 && f[21] == 64);            /* back to the first sender */
	f[65] ^= 1;
	CHECK(xdp_pkt_parse(f, 66, &p) == -1);          /* payload changed */
}

/* A fill ring of 4 whose consumer the kernel has not published yet: it
 * looks full although the kernel took every entry and the frames came
 * back.  The old refill() ended the server here ("fill ring full"); the
 * frames must wait and go out once the kernel publishes. */
UNIT_TEST(fill_ring_full_until_kernel_publishes_holds_frames)
{
	uint32_t producer = 4, consumer = 0, flags = 0;
	uint64_t ring[4] = { 0 }, held[8], back[3] = { 0x1000, 0x2000, 0x3000 };
	struct xsk_ring_prod fill = {
		.cached_prod = 4, .cached_cons = 4, .mask = 3, .size = 4,
		.producer = &producer, .consumer = &consumer, .ring = ring, .flags = &flags,
	};
	unsigned n;

	n = xdp_fill_put(&fill, held, 0, back, 2);
	CHECK_EQ_INT(n, 2);                             /* held, not lost */
	CHECK_EQ_INT(producer, 4);
	n = xdp_fill_put(&fill, held, n, back + 2, 1);
	CHECK_EQ_INT(n, 3);
	n = xdp_fill_put(&fill, held, n, NULL, 0);      /* still nothing published */
	CHECK_EQ_INT(n, 3);
	consumer = 2;                                   /* the kernel publishes 2 */
	n = xdp_fill_put(&fill, held, n, NULL, 0);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT(producer, 6);
	CHECK(ring[0] == 0x1000 && ring[1] == 0x2000);  /* in order */
	consumer = 4;
	n = xdp_fill_put(&fill, held, n, NULL, 0);
	CHECK_EQ_INT(n, 0);
	CHECK_EQ_INT(producer, 7);
	CHECK(ring[2] == 0x3000);
	n = xdp_fill_put(&fill, held, 0, back, 1);      /* room: straight in */
	CHECK_EQ_INT(n, 0);
	CHECK_EQ_INT(producer, 8);
	CHECK(ring[3] == 0x1000);
}

UNIT_MAIN()
