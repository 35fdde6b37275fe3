/*
 * test_metrics.c - the metrics listener's HTTP request line reader and the
 * Prometheus text format.
 */
#include "unit.h"
#include "serve/metrics.h"

UNIT_TEST(get_path)
{
	char path[32];
	const char *req = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";

	CHECK_EQ_INT(http_request_path(req, strlen(req), path, sizeof(path)), 0);
	CHECK_EQ_STR(path, "/metrics");
}

UNIT_TEST(rejects_other_methods_and_partial_lines)
{
	char path[32];

	CHECK_EQ_INT(http_request_path("POST / HTTP/1.0\n", 16, path, sizeof(path)), -1);
	/* no end of line yet: not complete */
	CHECK_EQ_INT(http_request_path("GET /metrics", 12, path, sizeof(path)), -1);
	/* empty path */
	CHECK_EQ_INT(http_request_path("GET  HTTP/1.0\n", 14, path, sizeof(path)), -1);
	/* the length given is what counts, not a NUL */
	CHECK_EQ_INT(http_request_path("GET / HTTP/1.0\n", 6, path, sizeof(path)), -1);
}

UNIT_TEST(path_longer_than_buffer_is_refused)
{
	char path[8];
	const char *req = "GET /0123456789 HTTP/1.0\n";

	CHECK_EQ_INT(http_request_path(req, strlen(req), path, sizeof(path)), -1);
}

UNIT_TEST(format_counters_and_escape_labels)
{
	char out[4096];
	const char *zones[2] = { "bl.example", "we\"ird\\zone" };
	uint64_t sum[2][ST_COUNT] = { { 10, 4, 6, 0, 500, 900 }, { 1, 0, 1, 0, 50, 90 } };
	uint64_t g[ST_COUNT] = { 3, 0, 0, 3, 0, 0 };
	size_t n = metrics_format(out, sizeof(out), zones, 2,
				  (const uint64_t (*)[ST_COUNT])sum, g);

	CHECK(n > 0 && n < sizeof(out));
	CHECK(strstr(out, "rblkit_queries_total{zone=\"bl.example\"} 10\n") != NULL);
	CHECK(strstr(out, "rblkit_nxdomain_total{zone=\"bl.example\"} 6\n") != NULL);
	CHECK(strstr(out, "rblkit_queries_total{zone=\"we\\\"ird\\\\zone\"} 1\n") != NULL);
	CHECK(strstr(out, "rblkit_errors_total{zone=\"\"} 3\n") != NULL);
	CHECK(strstr(out, "# TYPE rblkit_bytes_out_total counter\n") != NULL);
}

UNIT_TEST(format_truncates_within_buffer)
{
	char out[64];
	const char *zones[1] = { "bl.example" };
	uint64_t sum[1][ST_COUNT] = { { 1, 2, 3, 4, 5, 6 } }, g[ST_COUNT] = { 0 };
	size_t n = metrics_format(out, sizeof(out), zones, 1,
				  (const uint64_t (*)[ST_COUNT])sum, g);

	CHECK(n < sizeof(out));
	CHECK_EQ_INT(strlen(out), n);
}

UNIT_MAIN()
