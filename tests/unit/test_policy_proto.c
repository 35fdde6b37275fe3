/*
 * test_policy_proto.c - the policy protocol reader and reply writer.
 */
#include "policy/proto.h"
#include "unit.h"

#include <stdlib.h>

static const char REQ[] =
	"request=smtpd_access_policy\n"
	"protocol_state=RCPT\n"
	"protocol_name=ESMTP\n"
	"client_address=192.0.2.1\n"
	"client_name=mail.example.com\n"
	"helo_name=mail.example.com\n"
	"sender=foo@example.com\n"
	"recipient=bar@example.org\n"
	"recipient_count=0\n"
	"sasl_username=\n"
	"instance=123.456.7\n"
	"ccert_subject=\n"
	"\n";

UNIT_TEST(full_request)
{
	char buf[sizeof(REQ)];
	struct pp_request r;
	size_t used = 0;

	memcpy(buf, REQ, sizeof(REQ));
	CHECK_EQ_INT(pp_parse(buf, sizeof(REQ) - 1, &r, &used), 1);
	CHECK_EQ_INT(used, sizeof(REQ) - 1);
	CHECK_EQ_STR(r.request, "smtpd_access_policy");
	CHECK_EQ_STR(r.protocol_state, "RCPT");
	CHECK_EQ_STR(r.client_address, "192.0.2.1");
	CHECK_EQ_STR(r.sender, "foo@example.com");
	CHECK_EQ_STR(r.sasl_username, "");
	CHECK_EQ_STR(r.instance, "123.456.7");
	CHECK(r.queue_id == NULL);
	CHECK_EQ_INT(r.nattrs, 12);
	CHECK_EQ_INT(pp_state_of(&r), PS_RCPT);
}

UNIT_TEST(incomplete_at_every_length)
{
	/* every proper prefix is "need more" and leaves the buffer alone */
	for (size_t n = 0; n < sizeof(REQ) - 1; n++) {
		char buf[sizeof(REQ)];
		struct pp_request r;
		size_t used = 0;

		memcpy(buf, REQ, sizeof(REQ));
		CHECK_EQ_INT(pp_parse(buf, n, &r, &used), PP_NEED_MORE);
		CHECK(memcmp(buf, REQ, sizeof(REQ)) == 0);
	}
}

UNIT_TEST(two_requests_in_one_buffer)
{
	char buf[2 * sizeof(REQ)];
	struct pp_request r;
	size_t used = 0, len = 2 * (sizeof(REQ) - 1);

	memcpy(buf, REQ, sizeof(REQ) - 1);
	memcpy(buf + sizeof(REQ) - 1, REQ, sizeof(REQ) - 1);
	CHECK_EQ_INT(pp_parse(buf, len, &r, &used), 1);
	CHECK_EQ_INT(used, sizeof(REQ) - 1);
	CHECK_EQ_INT(pp_parse(buf + used, len - used, &r, &used), 1);
	CHECK_EQ_STR(r.recipient, "bar@example.org");
}

UNIT_TEST(crlf_and_values_with_equals)
{
	char buf[] = "request=smtpd_access_policy\r\nsender=a=b@x\r\n\r\n";
	struct pp_request r;
	size_t used;

	CHECK_EQ_INT(pp_parse(buf, strlen(buf), &r, &used), 1);
	CHECK_EQ_STR(r.request, "smtpd_access_policy");
	CHECK_EQ_STR(r.sender, "a=b@x");
}

UNIT_TEST(garbage)
{
	struct {
		const char *in;
		int rc;
	} cases[] = {
		{ "no equals sign\n\n", PP_ESYNTAX },
		{ "=value\n\n", PP_ESYNTAX },
		{ "\n", PP_ESYNTAX },				/* empty request */
		{ "sender=a\nsender=b\n\n", PP_EDUP },
		{ "request=x\nfoo\n\n", PP_ESYNTAX },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[64];
		struct pp_request r;
		size_t used;

		strcpy(buf, cases[i].in);
		CHECK_EQ_INT(pp_parse(buf, strlen(buf), &r, &used), cases[i].rc);
	}
}

UNIT_TEST(nul_inside_a_line)
{
	char buf[] = "sender=a\0b\n\n";
	struct pp_request r;
	size_t used;

	CHECK_EQ_INT(pp_parse(buf, sizeof(buf) - 1, &r, &used), PP_ESYNTAX);
}

UNIT_TEST(line_limit)
{
	size_t n = PP_MAX_LINE + 10;
	char *buf = malloc(n + 4);
	struct pp_request r;
	size_t used;

	memset(buf, 'a', n);
	buf[0] = 'x';
	buf[1] = '=';
	/* a partial line already too long is refused before its LF comes */
	CHECK_EQ_INT(pp_parse(buf, n, &r, &used), PP_ELINE);
	/* exactly at the limit is fine */
	buf[PP_MAX_LINE] = '\n';
	buf[PP_MAX_LINE + 1] = '\n';
	CHECK_EQ_INT(pp_parse(buf, PP_MAX_LINE + 2, &r, &used), 1);
	/* one more byte is not */
	memset(buf + 2, 'a', n - 2);
	buf[PP_MAX_LINE + 1] = '\n';
	buf[PP_MAX_LINE + 2] = '\n';
	CHECK_EQ_INT(pp_parse(buf, PP_MAX_LINE + 3, &r, &used), PP_ELINE);
	free(buf);
}

UNIT_TEST(attribute_and_size_limits)
{
	char *buf = malloc(PP_MAX_REQUEST * 2);
	struct pp_request r;
	size_t used, off = 0;

	for (int i = 0; i <= PP_MAX_ATTRS; i++)
		off += (size_t)sprintf(buf + off, "a%d=1\n", i);
	buf[off++] = '\n';
	CHECK_EQ_INT(pp_parse(buf, off, &r, &used), PP_EATTRS);
	/* PP_MAX_ATTRS lines are accepted */
	off = 0;
	for (int i = 0; i < PP_MAX_ATTRS; i++)
		off += (size_t)sprintf(buf + off, "a%d=1\n", i);
	buf[off++] = '\n';
	CHECK_EQ_INT(pp_parse(buf, off, &r, &used), 1);
	/* long lines, few of them: the request size limit */
	off = 0;
	for (int i = 0; i < 20; i++) {
		off += (size_t)sprintf(buf + off, "a%d=", i);
		memset(buf + off, 'v', 1000);
		off += 1000;
		buf[off++] = '\n';
	}
	CHECK_EQ_INT(pp_parse(buf, off, &r, &used), PP_ESIZE);
	free(buf);
}

UNIT_TEST(states)
{
	struct pp_request r = { 0 };
	const char *names[] = { "CONNECT", "EHLO", "HELO", "MAIL", "RCPT", "DATA",
				"END-OF-MESSAGE", "VRFY", "rcpt" };
	enum pp_state want[] = { PS_CONNECT, PS_EHLO, PS_EHLO, PS_MAIL, PS_RCPT,
				 PS_DATA, PS_EOM, PS_OTHER, PS_OTHER };

	CHECK_EQ_INT(pp_state_of(&r), PS_OTHER);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		r.protocol_state = names[i];
		CHECK_EQ_INT(pp_state_of(&r), want[i]);
	}
}

UNIT_TEST(reply)
{
	char out[64];

	CHECK_EQ_INT(pp_format_reply(out, sizeof(out), "DUNNO"), 14);
	CHECK_EQ_STR(out, "action=DUNNO\n\n");
	/* a TXT with a line break cannot end the reply early */
	CHECK(pp_format_reply(out, sizeof(out), "554 bad\n\nx\r") > 0);
	CHECK_EQ_STR(out, "action=554 bad  x \n\n");
	CHECK_EQ_INT(pp_format_reply(out, 16, "0123456789"), -1);
}

UNIT_MAIN()
