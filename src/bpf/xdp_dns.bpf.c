/*
 * xdp_dns.bpf.c - the XDP program of `rblkit serve --xdp`: UDP datagrams to
 * one of our (address, port) pairs go to the AF_XDP socket of their receive
 * queue; everything else (TCP, ICMP, ARP, VLAN tags, IP options, fragments,
 * IPv6 extension headers, other ports and addresses) takes the kernel's
 * normal path, untouched.
 *
 * The user-space side (src/lib/serve/xdp.c) fills `ours` with the listen
 * addresses before attaching, and puts one socket per queue into `xsks`.
 * A queue without a socket passes its packets to the kernel (the flags of
 * bpf_redirect_map), so the socket path still answers them.
 *
 * SECURITY: runs in the kernel on every packet of the interface; the
 * verifier checks every read against data_end. It only reads headers and
 * chooses a path: it never writes the packet.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

/* Must match struct xdp_key in src/lib/serve/xdp.c. */
struct xdp_key {
	__u32 family;           /* 4 or 6 */
	__u16 port;             /* network order */
	__u16 pad;
	__u8 addr[16];          /* IPv4 in the first 4 bytes; all zero: any */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct xdp_key);
	__type(value, __u8);
} ours SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u32);
} xsks SEC(".maps");

/* Ours when the exact address or the wildcard of its family is listed. */
static __always_inline int is_ours(struct xdp_key *k)
{
	if (bpf_map_lookup_elem(&ours, k))
		return 1;
	__builtin_memset(k->addr, 0, sizeof(k->addr));
	return bpf_map_lookup_elem(&ours, k) != 0;
}

SEC("xdp")
int rblkit_xdp_dns(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct udphdr *udp;
	struct xdp_key k = { 0 };

	if ((void *)(eth + 1) > end)
		return XDP_PASS;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > end || ip->ihl != 5 || ip->protocol != IPPROTO_UDP ||
		    (ip->frag_off & bpf_htons(0x3fff)))
			return XDP_PASS;        /* options, fragments: the kernel */
		k.family = 4;
		__builtin_memcpy(k.addr, &ip->daddr, 4);
		udp = (void *)(ip + 1);
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > end || ip6->nexthdr != IPPROTO_UDP)
			return XDP_PASS;        /* extension headers: the kernel */
		k.family = 6;
		__builtin_memcpy(k.addr, &ip6->daddr, 16);
		udp = (void *)(ip6 + 1);
	} else {
		return XDP_PASS;
	}
	if ((void *)(udp + 1) > end)
		return XDP_PASS;
	k.port = udp->dest;
	if (!is_ours(&k))
		return XDP_PASS;
	return bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS);
}

char _license[] SEC("license") = "GPL";
