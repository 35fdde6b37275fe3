/*
 * fuzz_policy.c - libFuzzer target for the policy daemon's input parsers.
 * The first byte picks the parser:
 *   0, 1  a stream of policy requests, read the way server.c reads a
 *         connection (into a buffer of one maximal request, requests taken
 *         from the front, the rest moved down), with the reply written for
 *         every attribute that goes into a reply;
 *   2     a dnsbl_sites value, then scoring with codes from the input;
 *   3     a configuration file (every error told, within the buffer).
 * Invariants that abort: a request longer than the limits, a field outside
 * the request, a reply without its final empty line.
 */
#include "policy/config.h"
#include "policy/proto.h"
#include "policy/score.h"
#include "policy/sites.h"
#include "base/util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_set_level(LOG_LVL_ERR);	/* parse errors are expected */
	return 0;
}

static void check_field(const char *f, const char *buf, size_t used)
{
	char out[PP_MAX_LINE + 32];
	int n;

	if (!f)
		return;
	if (f < buf || f >= buf + used || strlen(f) >= used)
		abort();
	n = pp_format_reply(out, sizeof(out), f);
	if (n >= 0 && (n < 9 || out[n - 1] != '\n' || out[n - 2] != '\n' ||
		       memchr(out, '\n', (size_t)n - 2)))
		abort();
}

static void requests(const uint8_t *data, size_t size)
{
	static char buf[PP_MAX_REQUEST + 1];
	size_t len = 0, off = 0;

	while (off < size || len) {
		struct pp_request r;
		size_t used = 0, take = size - off;
		int rc;

		if (take > sizeof(buf) - len)
			take = sizeof(buf) - len;
		memcpy(buf + len, data + off, take);
		len += take;
		off += take;
		rc = pp_parse(buf, len, &r, &used);
		if (rc < 0 || (rc == PP_NEED_MORE && (off == size || len == sizeof(buf))))
			return;		/* the daemon closes the connection */
		if (rc == PP_NEED_MORE)
			continue;
		if (used == 0 || used > len || used > PP_MAX_REQUEST || r.nattrs > PP_MAX_ATTRS)
			abort();
		check_field(r.client_address, buf, used);
		check_field(r.sender, buf, used);
		check_field(r.sasl_username, buf, used);
		check_field(r.recipient_count, buf, used);
		(void)pp_state_of(&r);
		memmove(buf, buf + used, len - used);
		len -= used;
	}
}

static void sites(const uint8_t *data, size_t size)
{
	char *text = xstrndup((const char *)data, size), err[256];
	struct sites *s = sites_parse(text, err, sizeof(err));

	if (s) {
		struct score_zone z[SITES_MAX];
		struct score_result r;
		char detail[128];
		bool listed;

		memset(z, 0, sizeof(z));
		for (size_t i = 0; i < s->nzones; i++) {
			z[i].state = (i + size) % 3 ? SZ_DONE : SZ_PENDING;
			z[i].ncodes = size % (SCORE_MAX_CODES + 1);
			for (size_t k = 0; k < z[i].ncodes; k++)
				z[i].codes[k] = 0x7f000000u | (uint32_t)((i * 7 + k * 13 + size) & 0xffffff);
		}
		score_eval(s, z, &r);
		if (r.low > r.high || (r.complete && r.low != r.high))
			abort();
		(void)score_decided(&r, 3, &listed);
		score_detail(s, z, detail, sizeof(detail));
		if (strlen(detail) >= sizeof(detail))
			abort();
	}
	sites_free(s);
	free(text);
}

static void config(const uint8_t *data, size_t size)
{
	char *text = xstrndup((const char *)data, size), err[300];
	struct pcfg *c;

	/* a small buffer: every error is told, cut to fit */
	memset(err, 'x', sizeof(err));
	c = pcfg_parse(text, "fuzz.conf", err, sizeof(err));
	if (!c && !memchr(err, '\0', sizeof(err)))
		abort();
	if (c) {
		const char *vars[128] = { 0 };
		char out[256];

		vars['a'] = "192.0.2.1";
		vars['t'] = "txt";
		pcfg_expand(c->dnsbl_reply, vars, out, sizeof(out));
		if (strlen(out) >= sizeof(out))
			abort();
		(void)pcfg_limits_for(c, "user@example.com");
	}
	pcfg_free(c);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	switch (data[0] & 3) {
	case 0:
	case 1:
		requests(data + 1, size - 1);
		break;
	case 2:
		sites(data + 1, size - 1);
		break;
	case 3:
		config(data + 1, size - 1);
		break;
	}
	return 0;
}
