/*
 * udp_refuse.c - the socket limit for bench/xdp.sh: a UDP "DNS server" that
 * does no lookup at all.  It reads batches of 32 datagrams with recvmmsg,
 * turns each query into a REFUSED response in place (QR set, RCODE 5, the
 * rest as received) and sends the batch back with sendmmsg: the same
 * socket path as `rblkit serve` with rblkit's own work taken out.
 *
 * SECURITY: benchmark tool only; answers whatever arrives on its port.
 *
 * Usage: udp_refuse ADDR PORT    (runs until killed)
 * Build: cc -O2 -o udp_refuse udp_refuse.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define BATCH 32

int main(int argc, char **argv)
{
	static unsigned char buf[BATCH][2048];
	struct mmsghdr msg[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_storage peer[BATCH];
	struct sockaddr_storage sa;
	socklen_t salen;
	int fd;

	memset(&sa, 0, sizeof(sa));
	if (argc != 3) {
		fprintf(stderr, "usage: udp_refuse ADDR PORT\n");
		return 2;
	}
	if (inet_pton(AF_INET, argv[1], &((struct sockaddr_in *)&sa)->sin_addr) == 1) {
		sa.ss_family = AF_INET;
		((struct sockaddr_in *)&sa)->sin_port = htons((unsigned short)atoi(argv[2]));
		salen = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, argv[1], &((struct sockaddr_in6 *)&sa)->sin6_addr) == 1) {
		sa.ss_family = AF_INET6;
		((struct sockaddr_in6 *)&sa)->sin6_port = htons((unsigned short)atoi(argv[2]));
		salen = sizeof(struct sockaddr_in6);
	} else {
		fprintf(stderr, "udp_refuse: bad address %s\n", argv[1]);
		return 2;
	}
	fd = socket(sa.ss_family, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, salen)) {
		perror("udp_refuse");
		return 1;
	}
	for (;;) {
		int n;

		for (int i = 0; i < BATCH; i++) {
			iov[i].iov_base = buf[i];
			iov[i].iov_len = sizeof(buf[i]);
			memset(&msg[i].msg_hdr, 0, sizeof(msg[i].msg_hdr));
			msg[i].msg_hdr.msg_iov = &iov[i];
			msg[i].msg_hdr.msg_iovlen = 1;
			msg[i].msg_hdr.msg_name = &peer[i];
			msg[i].msg_hdr.msg_namelen = sizeof(peer[i]);
		}
		n = recvmmsg(fd, msg, BATCH, MSG_WAITFORONE, NULL);
		if (n <= 0)
			continue;
		for (int i = 0; i < n; i++) {
			if (msg[i].msg_len >= 12) {
				buf[i][2] |= 0x80;
				buf[i][3] = (unsigned char)((buf[i][3] & 0xf0) | 5);
			}
			iov[i].iov_len = msg[i].msg_len;
		}
		sendmmsg(fd, msg, (unsigned)n, 0);
	}
}
