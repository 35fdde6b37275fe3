/*
 * test_web.c - unit tests for the web portal's parsers and writer: forms
 * and query strings (%-escapes, '+', bad escapes, NUL and invalid UTF-8
 * refused, the field limit), cookies, flat JSON objects (escapes,
 * surrogate pairs, nesting and duplicates refused), Accept-Language, the
 * escaping writer and the masking of mail addresses; and the store's web
 * tables (rate windows, requests decided once).
 */
#include "unit.h"
#include "store/store.h"
#include "store/web.h"
#include "web/html.h"
#include "web/parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char kvbuf[65536];

static int parse(int (*fn)(struct web_kv *, const char *, size_t), struct web_kv *kv,
		 const char *s)
{
	web_kv_init(kv, kvbuf, sizeof(kvbuf));
	return fn(kv, s, strlen(s));
}

UNIT_TEST(form_decodes_escapes_and_plus)
{
	struct web_kv kv;

	CHECK_EQ_INT(parse(web_form_parse, &kv, "q=192.0.2.1&r=a+b%20c%3C&&empty=&flag"), 0);
	CHECK_EQ_INT(kv.n, 4);
	CHECK_EQ_STR(web_kv_get(&kv, "q"), "192.0.2.1");
	CHECK_EQ_STR(web_kv_get(&kv, "r"), "a b c<");
	CHECK_EQ_STR(web_kv_get(&kv, "empty"), "");
	CHECK_EQ_STR(web_kv_get(&kv, "flag"), "");
	CHECK(web_kv_get(&kv, "none") == NULL);
}

UNIT_TEST(form_refuses_bad_escapes_nul_and_bad_utf8)
{
	struct web_kv kv;

	CHECK_EQ_INT(parse(web_form_parse, &kv, "q=%zz"), -1);
	CHECK_EQ_INT(parse(web_form_parse, &kv, "q=%4"), -1);
	CHECK_EQ_INT(parse(web_form_parse, &kv, "q=a%00b"), -1);
	CHECK_EQ_INT(parse(web_form_parse, &kv, "q=%ff"), -1);
	CHECK_EQ_INT(parse(web_form_parse, &kv, "q=%c0%af"), -1);  /* overlong '/' */
	CHECK_EQ_INT(parse(web_form_parse, &kv, "q=%e6%97%a5"), 0);
	CHECK_EQ_STR(web_kv_get(&kv, "q"), "日");
}

UNIT_TEST(form_field_limit)
{
	char s[WEB_KV_MAX * 4 + 16] = "";
	struct web_kv kv;

	for (int i = 0; i < WEB_KV_MAX; i++)
		strcat(s, "a=1&");
	CHECK_EQ_INT(parse(web_form_parse, &kv, s), 0);
	strcat(s, "b=2");
	CHECK_EQ_INT(parse(web_form_parse, &kv, s), -1);
}

UNIT_TEST(cookies)
{
	struct web_kv kv;

	CHECK_EQ_INT(parse(web_cookie_parse, &kv, " csrf=abc ; lang=\"ja\";junk; sid= x=y "), 0);
	CHECK_EQ_STR(web_kv_get(&kv, "csrf"), "abc");
	CHECK_EQ_STR(web_kv_get(&kv, "lang"), "ja");
	CHECK_EQ_STR(web_kv_get(&kv, "sid"), "x=y");
}

UNIT_TEST(json_flat_objects)
{
	struct web_kv kv;

	CHECK_EQ_INT(parse(web_json_parse, &kv,
			   " {\"zone\" : \"bl.test\", \"dry_run\":true, \"n\":-1.5e3, \"z\":null,"
			   " \"u\":\"\\u00e9\\ud83d\\ude00\\n\\\"\"} "), 0);
	CHECK_EQ_STR(web_kv_get(&kv, "zone"), "bl.test");
	CHECK_EQ_STR(web_kv_get(&kv, "dry_run"), "true");
	CHECK_EQ_STR(web_kv_get(&kv, "n"), "-1.5e3");
	CHECK_EQ_STR(web_kv_get(&kv, "z"), "null");
	CHECK_EQ_STR(web_kv_get(&kv, "u"), "é😀\n\"");
	CHECK_EQ_INT(parse(web_json_parse, &kv, "{}"), 0);
	CHECK_EQ_INT(kv.n, 0);
}

UNIT_TEST(json_refuses)
{
	static const char *const bad[] = {
		"", "[]", "{\"a\":{\"b\":1}}", "{\"a\":[1]}", "{\"a\":1,\"a\":2}", "{\"a\":1} x",
		"{\"a\":\"\\ud800\"}", "{\"a\":\"\\udc00\"}", "{\"a\":\"\\u0000\"}", "{\"a\":\"\x01\"}",
		"{\"a\":\"\xff\"}", "{\"a\":1,}", "{\"a\"}", "{\"a\":tru}", "{\"a\":\"x", "{'a':1}",
	};
	struct web_kv kv;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = parse(web_json_parse, &kv, bad[i]);

		if (rc != -1)
			printf("  accepted: %s\n", bad[i]);
		CHECK_EQ_INT(rc, -1);
	}
}

UNIT_TEST(accept_language)
{
	static const char *const l[] = { "en", "ja" };

	CHECK_EQ_INT(web_accept_language("ja,en;q=0.5", l, 2), 1);
	CHECK_EQ_INT(web_accept_language("en-US,ja;q=0.9", l, 2), 0);
	CHECK_EQ_INT(web_accept_language("de, ja;q=0.3, en;q=0.7", l, 2), 0);
	CHECK_EQ_INT(web_accept_language("ja-JP", l, 2), 1);
	CHECK_EQ_INT(web_accept_language("jam", l, 2), -1);
	CHECK_EQ_INT(web_accept_language("de", l, 2), -1);
	CHECK_EQ_INT(web_accept_language(NULL, l, 2), -1);
	CHECK_EQ_INT(web_accept_language("ja;q=0, en;q=0.1", l, 2), 0);
	CHECK_EQ_INT(web_accept_language("ja;q=0.123, en;q=0.5", l, 2), 1 - 1);
	CHECK_EQ_INT(web_accept_language("en;q=0.45, ja;q=0.5", l, 2), 1);
}

UNIT_TEST(writer_escapes)
{
	struct web_buf b = { 0 };

	H_LIT(&b, "<p>");
	web_text(&b, "<a href='x'>\"&\x01\xff");
	H_ATTR(&b, "value", "\"><script>");
	web_text_sub(&b, "x %s y %u", "<b>", "3");
	CHECK_EQ_STR(b.p, "<p>&lt;a href=&#39;x&#39;&gt;&quot;&amp;\xef\xbf\xbd value=\"&quot;&gt;"
			  "&lt;script&gt;\"x &lt;b&gt; y 3");
	web_buf_free(&b);
	web_json(&b, "</script>\"\n");
	CHECK_EQ_STR(b.p, "\"\\u003c/script>\\\"\\n\"");
	web_buf_free(&b);
}

UNIT_TEST(mask_addresses)
{
	char out[256];

	web_mask_text("To: spamtrap@trap.example, <bob@x.test>; no@", out, sizeof(out));
	CHECK_EQ_STR(out, "To: s***@trap.example, <b***@x.test>; no@");
}

static int count_req(void *arg, const struct store_web_request *r)
{
	(*(int *)arg)++;
	return 0;
}

UNIT_TEST(store_web_tables)
{
	char path[] = "/tmp/rblkit-test-web.XXXXXX", dsn[300], err[256];
	struct store *st = NULL;
	struct store_web_request q = { .state = STORE_WEB_PENDING, .created = 100 };
	unsigned n = 0;
	int64_t id = 0;
	int cnt = 0;
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	close(fd);
	unlink(path);
	snprintf(dsn, sizeof(dsn), "sqlite:%s", path);
	CHECK_EQ_INT(store_open(dsn, 0, &st, err, sizeof(err)), 0);
	if (!st)
		return;
	CHECK_EQ_INT(store_web_rate(st, "rm:1", 1000, 0, &n), 0);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT(store_web_rate(st, "rm:1", 1000, 0, &n), 0);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_INT(store_web_rate(st, "rm:1", 2000, 1000, &n), 0);
	CHECK_EQ_INT(n, 1);                       /* a new window counts afresh */
	strcpy(q.zone, "bl.test");
	strcpy(q.key, "192.0.2.1");
	CHECK_EQ_INT(store_web_request_add(st, &q, &id), 0);
	CHECK(id > 0);
	CHECK_EQ_INT(store_web_requests(st, STORE_WEB_PENDING, 0, count_req, &cnt), 0);
	CHECK_EQ_INT(cnt, 1);
	CHECK_EQ_INT(store_web_request_decide(st, id, STORE_WEB_PENDING, STORE_WEB_APPROVED, 200,
					      "op", "ok"), 0);
	/* a second decision finds it decided */
	CHECK_EQ_INT(store_web_request_decide(st, id, STORE_WEB_PENDING, STORE_WEB_DENIED, 201,
					      "op2", ""), STORE_NOTFOUND);
	CHECK_EQ_INT(store_web_request_get(st, id, &q), 0);
	CHECK_EQ_INT(q.state, STORE_WEB_APPROVED);
	CHECK_EQ_STR(q.decided_by, "op");
	store_close(st);
	unlink(path);
	snprintf(dsn, sizeof(dsn), "%s-wal", path);
	unlink(dsn);
	snprintf(dsn, sizeof(dsn), "%s-shm", path);
	unlink(dsn);
}

UNIT_MAIN()
