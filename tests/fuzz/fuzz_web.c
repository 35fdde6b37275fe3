/*
 * fuzz_web.c - libFuzzer target for the web portal's request parsers
 * (web/parse.h: forms and query strings, cookies, flat JSON objects,
 * Accept-Language) and its escaping writer (web/html.h). The first byte
 * picks the parser; every field found must be a NUL-terminated, valid
 * UTF-8 string inside the decoding buffer, and the escaped output must
 * hold no raw markup character.
 */
#include "base/util.h"
#include "web/html.h"
#include "web/parse.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_kv(const struct web_kv *kv)
{
	if (kv->used > kv->size || kv->n > WEB_KV_MAX)
		abort();
	for (unsigned i = 0; i < kv->n; i++) {
		const char *p[2] = { kv->f[i].k, kv->f[i].v };

		for (int j = 0; j < 2; j++) {
			size_t n;

			if (p[j] < kv->buf || p[j] >= kv->buf + kv->used)
				abort();
			n = strnlen(p[j], (size_t)(kv->buf + kv->used - p[j]));
			if (p[j] + n >= kv->buf + kv->used)
				abort();
			for (size_t k = 0; k < n;) {
				size_t l = utf8_len((const unsigned char *)p[j] + k, n - k);

				if (!l)
					abort();
				k += l;
			}
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const langs[] = { "en", "ja" };
	struct web_kv kv;
	struct web_buf b = { 0 };
	char *buf, *s;
	size_t bs;
	int sel;

	if (size < 1)
		return 0;
	sel = data[0] % 5;
	data++;
	size--;
	bs = web_kv_bufsize(size);
	buf = malloc(bs);
	s = malloc(size + 1);
	if (!buf || !s)
		abort();
	memcpy(s, data, size);
	s[size] = 0;
	web_kv_init(&kv, buf, bs);
	switch (sel) {
	case 0:
		web_form_parse(&kv, s, size);
		check_kv(&kv);
		break;
	case 1:
		web_cookie_parse(&kv, s, size);
		check_kv(&kv);
		break;
	case 2:
		web_json_parse(&kv, s, size);
		check_kv(&kv);
		break;
	case 3:
		if (web_accept_language(s, langs, 2) > 1)
			abort();
		break;
	default: {
		char m[512];

		web_text(&b, s);
		for (size_t i = 0; i < b.len; i++)
			if (b.p[i] == '<' || b.p[i] == '>' || b.p[i] == '"' || b.p[i] == '\'')
				abort();
		web_mask_text(s, m, sizeof(m));
		if (strlen(m) >= sizeof(m))
			abort();
		web_buf_free(&b);
		break;
	}
	}
	free(buf);
	free(s);
	return 0;
}
