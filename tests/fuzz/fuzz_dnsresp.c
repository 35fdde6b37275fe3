/*
 * fuzz_dnsresp.c - libFuzzer target for DNS responses as rblkit check
 * reads them: any bytes, asked as A, AAAA, TXT and MX answers to the
 * question they carry, give an answer or a refusal, never a read past
 * the packet.
 */
#include "base/dname.h"
#include "dnsbl/resolve.h"
#include "base/wire.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rs_answer ans;
	static const uint16_t types[] = { 1, 28, 16, 15, 2 };
	uint8_t q[DNAME_MAXLEN];
	struct wire w;

	wire_init(&w, data, size);
	wire_skip(&w, 12);
	size_t qlen = wire_name(&w, q, 0);
	if (!wire_ok(&w) || !qlen)
		memcpy(q, "\0", 1), qlen = 1;
	dname_lower(q, qlen);
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		int r = rs_parse(data, size, q, qlen, types[i], -1, &ans);
		if (r == 1) {
			if (ans.n > RS_MAX_RR || ans.text_used > sizeof(ans.text))
				abort();
			for (size_t j = 0; j < ans.n; j++)
				if (types[i] == 16 && strlen(ans.txt[j]) > sizeof(ans.text))
					abort();
		}
	}
	return 0;
}
