/*
 * xdp_pkt.h - the Ethernet/IP/UDP frames of the AF_XDP path (xdp.c): read
 * a query frame as the kernel's UDP input would (lengths, IPv4 header
 * checksum, UDP checksum; mandatory on IPv6), and turn it into its answer
 * in place (MACs, addresses and ports swapped, checksums computed).
 *
 * Only what the XDP program redirects is expected: untagged Ethernet,
 * IPv4 without options and unfragmented, IPv6 with UDP as the next header.
 * Anything else is refused here as well, never guessed at.
 *
 * SECURITY: the frame is untrusted bytes from the network (any length);
 * every read is checked against the frame length first.  Runs in the
 * serving threads, unprivileged after start-up.
 */
#ifndef RBLKIT_XDP_PKT_H
#define RBLKIT_XDP_PKT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define XDP_PKT_ETH 14
#define XDP_PKT_HDR4 (XDP_PKT_ETH + 20 + 8)    /* headers before the payload */
#define XDP_PKT_HDR6 (XDP_PKT_ETH + 40 + 8)

struct xdp_pkt {
	int family;             /* AF_INET or AF_INET6 */
	size_t payload;         /* offset of the UDP payload in the frame */
	size_t paylen;          /* its length (from the UDP header) */
	struct sockaddr_storage peer;   /* the sender's address and port */
	socklen_t peerlen;
};

/* Read frame (len bytes) into p.  Returns 0 for a clean UDP datagram from
 * a unicast sender, or -1 for one the kernel would drop or that we never
 * answer (short, bad lengths or checksums, fragments, IP options, a
 * multicast, broadcast or unspecified source or destination, port 0). */
int xdp_pkt_parse(const uint8_t *frame, size_t len, struct xdp_pkt *p);

/* Turn the query frame read by xdp_pkt_parse() into its answer: the DNS
 * payload of dnslen bytes must already be at frame + p->payload.  Swaps
 * the MACs, addresses and ports, writes fresh IP and UDP headers with
 * their checksums.  Returns the frame length (the caller checked the room
 * for p->payload + dnslen bytes). */
size_t xdp_pkt_reply(uint8_t *frame, const struct xdp_pkt *p, size_t dnslen);

#endif
