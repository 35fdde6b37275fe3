/*
 * fuzz_xdp.c - libFuzzer target for the frames of the AF_XDP path
 * (xdp_pkt.c): the bytes are an Ethernet frame.  A frame the parser takes
 * must have its payload inside the frame; its answer (built in place as
 * xdp.c does, with a payload cut to the socket path's 1280 bytes) must
 * parse back as a clean datagram to the sender, whose answer in turn goes
 * back to the first frame's destination.
 *
 * SECURITY: test code; the input is untrusted by design.
 */
#include "serve/xdp_pkt.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FRAME 4096

static void same_peer(const struct xdp_pkt *a, const struct xdp_pkt *b)
{
	if (a->family != b->family || a->peerlen != b->peerlen ||
	    memcmp(&a->peer, &b->peer, a->peerlen))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t f[FRAME];
	struct xdp_pkt p, r, back;
	size_t dnslen, len;

	if (size > FRAME)
		return 0;
	memcpy(f, data, size);
	if (xdp_pkt_parse(f, size, &p))
		return 0;
	if (p.payload > size || p.paylen > size - p.payload ||
	    (p.family != AF_INET && p.family != AF_INET6))
		abort();
	dnslen = p.paylen < 1280 ? p.paylen : 1280;
	len = xdp_pkt_reply(f, &p, dnslen);
	if (len != p.payload + dnslen || len > FRAME)
		abort();
	/* the answer is clean, and answering it reaches the first sender's
	 * destination; answering that again reaches the first sender */
	if (xdp_pkt_parse(f, len, &r) || r.paylen != dnslen || r.payload != p.payload)
		abort();
	len = xdp_pkt_reply(f, &r, dnslen);
	if (xdp_pkt_parse(f, len, &back))
		abort();
	same_peer(&p, &back);
	return 0;
}
