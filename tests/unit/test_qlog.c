/*
 * test_qlog.c - the query log line (rbldnsd's -l format).
 */
#include "unit.h"
#include "serve/qlog.h"

#include <arpa/inet.h>
#include <netinet/in.h>

static const uint8_t req[] = {
	0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
	1, '2', 1, '0', 1, '0', 3, '1', '2', '7', 2, 'b', 'l', 0, 0, 16, 0, 1,
};

UNIT_TEST(line_format)
{
	uint8_t resp[40] = { 0x12, 0x34, 0x84, 0x03, 0, 1, 0, 0 };
	struct sockaddr_in sin = { .sin_family = AF_INET };
	char line[256];
	size_t n;

	inet_pton(AF_INET, "192.0.2.7", &sin.sin_addr);
	n = qlog_format(line, sizeof(line), 1700000000, (struct sockaddr *)&sin,
			req, sizeof(req), resp, sizeof(resp));
	CHECK_EQ_STR(line, "1700000000 192.0.2.7 2.0.0.127.bl TXT IN: NXDOMAIN/0/40\n");
	CHECK_EQ_INT(n, strlen(line));
}

UNIT_TEST(garbage_request_gives_no_line)
{
	uint8_t resp[12] = { 0 };
	char line[256];

	CHECK_EQ_INT(qlog_format(line, sizeof(line), 0, NULL, req, 20, resp, 12), 0);
	CHECK_EQ_INT(qlog_format(line, sizeof(line), 0, NULL, req, sizeof(req), resp, 4), 0);
}

UNIT_TEST(short_buffer_gives_no_line)
{
	uint8_t resp[12] = { 0 };
	char line[16];

	CHECK_EQ_INT(qlog_format(line, sizeof(line), 0, NULL, req, sizeof(req), resp, 12), 0);
}

UNIT_MAIN()
