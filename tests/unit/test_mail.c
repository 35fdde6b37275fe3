/*
 * test_mail.c - unit tests of the mail reader: headers, MIME decodings and
 * charsets, status and reply codes, reasons, dates and Received fields,
 * mbox splitting.
 */
#include "mail/batch.h"
#include "mail/diagnose.h"
#include "mail/dsn.h"
#include "mail/smtp.h"
#include "mail/mime.h"
#include "mail/msg.h"
#include "mail/reason.h"
#include "mail/rhost.h"
#include "mail/received.h"
#include "unit.h"

#include <stdlib.h>
#include <unistd.h>

UNIT_TEST(normalize_line_endings)
{
	size_t n;
	char *s = msg_normalize("a\r\nb\rc\n\r\r\n", 10, &n);

	CHECK_EQ_STR(s, "a\nb\nc\n\n\n");
	CHECK_EQ_INT(n, 8);
	free(s);
}

UNIT_TEST(header_unfolding_and_body)
{
	const char *t = "From MAILER-DAEMON x\nSubject: one\n two\n\tthree  \n"
			"X-Empty:\nTo : a@b.c\n\nbody\n";
	struct msg m;

	msg_parse(&m, t, strlen(t));
	CHECK_EQ_INT(m.nf, 3);
	CHECK_EQ_STR(msg_get(&m, "subject"), "one two three");
	CHECK_EQ_STR(msg_get(&m, "X-EMPTY"), "");
	CHECK_EQ_STR(msg_get(&m, "To"), "a@b.c");
	CHECK_EQ_STR(m.body, "body\n");
	CHECK(!m.cut);
	msg_free(&m);
}

UNIT_TEST(header_limits)
{
	size_t n = 2000 * 8 + 40000;
	char *t = malloc(n), *p = t;
	struct msg m;

	for (int i = 0; i < 2000; i++)
		p += sprintf(p, "X-%04d:v\n", i);
	p += sprintf(p, "Subject: ");
	memset(p, 'x', 30000);
	p += 30000;
	p += sprintf(p, "\n\nb");
	msg_parse(&m, t, (size_t)(p - t));
	CHECK_EQ_INT(m.nf, MSG_MAX_HEADERS);
	CHECK(m.cut);
	CHECK_EQ_STR(m.body, "b");
	msg_free(&m);
	free(t);
}

UNIT_TEST(not_a_header_section)
{
	struct msg m;

	msg_parse(&m, "hello world\nsecond", 18);
	CHECK_EQ_INT(m.nf, 0);
	CHECK_EQ_INT(m.blen, 18);
	msg_free(&m);
}

UNIT_TEST(base64_and_qp)
{
	char out[64];
	size_t n = mime_b64_decode("aGVs\nbG8g\r\nd29y bGQ=", 20, out);

	out[n] = '\0';
	CHECK_EQ_STR(out, "hello world");
	n = mime_qp_decode("caf=C3=A9=\nlatte =3D x=ZZ", 25, out);
	out[n] = '\0';
	CHECK_EQ_STR(out, "caf\xc3\xa9latte = x=ZZ");
}

UNIT_TEST(encoded_words)
{
	char *s = mime_decode_words("=?UTF-8?B?w6k=?= =?utf-8?q?a_b?= c =?bogus", 42);

	CHECK_EQ_STR(s, "\xc3\xa9" "a b c =?bogus");
	free(s);
	/* ISO-2022-JP (the subject of many Japanese bounces) */
	s = mime_decode_words("=?ISO-2022-JP?B?GyRCJWEhPCVrJSglaSE8RExDThsoQg==?=",
			      strlen("=?ISO-2022-JP?B?GyRCJWEhPCVrJSglaSE8RExDThsoQg==?="));
	CHECK_EQ_STR(s, "メールエラー通知");
	free(s);
	/* a multibyte character split between two words (real mailers do) */
	s = mime_decode_words("=?iso-2022-jp?B?GyRCJWEh?= =?iso-2022-jp?B?PCVrGyhC?=", strlen("=?iso-2022-jp?B?GyRCJWEh?= =?iso-2022-jp?B?PCVrGyhC?="));
	CHECK_EQ_STR(s, "メール");
	free(s);
	s = mime_decode_words("=?UTF-8?B?w6k=?= =?broken", strlen("=?UTF-8?B?w6k=?= =?broken"));
	CHECK_EQ_STR(s, "\xc3\xa9 =?broken");
	free(s);
}

UNIT_TEST(charsets)
{
	size_t n;
	char *s = mime_to_utf8("\x83\x81\x81\x5b\x83\x8b", 6, "Shift_JIS", &n);

	CHECK_EQ_STR(s, "メール");
	free(s);
	s = mime_to_utf8("\xa5\xe1\xa1\xbc\xa5\xeb", 6, "EUC-JP", &n);
	CHECK_EQ_STR(s, "メール");
	free(s);
	s = mime_to_utf8("caf\xe9", 4, "iso-8859-1", &n);
	CHECK_EQ_STR(s, "caf\xc3\xa9");
	free(s);
	/* unlabelled ISO-2022-JP is recognised by its escapes */
	s = mime_to_utf8("\x1b$B%a!<%k\x1b(B", 12, NULL, &n);
	CHECK_EQ_STR(s, "メール");
	free(s);
	/* bad bytes become U+FFFD, never invalid UTF-8 */
	s = mime_to_utf8("a\xff" "b", 3, "utf-8", &n);
	CHECK_EQ_STR(s, "a\xef\xbf\xbd" "b");
	free(s);
	s = mime_to_utf8("x\x1b$B\xff\xff", 6, "iso-2022-jp", &n);
	CHECK(n > 0 && s[0] == 'x');
	free(s);
}

UNIT_TEST(multipart_walk)
{
	const char *t = "Content-Type: multipart/report; boundary=\"B\"\n\npreamble\n"
			"--B\nContent-Type: text/plain\n\nhuman\n"
			"--B\nContent-Type: message/delivery-status\n"
			"Content-Transfer-Encoding: base64\n\nU3RhdHVzOiA1LjEuMQ==\n"
			"--B--\nepilogue\n";
	struct msg m;
	struct mime mm;

	msg_parse(&m, t, strlen(t));
	mime_walk(&mm, &m);
	CHECK_EQ_INT(mm.n, 2);
	CHECK_EQ_STR(mm.p[0].type, "text/plain");
	CHECK_EQ_STR(mm.p[0].data, "human");
	CHECK_EQ_STR(mm.p[1].type, "message/delivery-status");
	CHECK_EQ_STR(mm.p[1].data, "Status: 5.1.1");
	mime_free(&mm);
	msg_free(&m);
}

UNIT_TEST(media_parts_keep_type_only)
{
	const char *t = "Content-Type: multipart/mixed; boundary=B\n\n"
			"--B\nContent-Type: text/plain\n\nhello\n"
			"--B\nContent-Type: image/png\nContent-Transfer-Encoding: base64\n\n"
			"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg==\n"
			"--B--\n";
	struct msg m;
	struct mime mm;

	msg_parse(&m, t, strlen(t));
	mime_walk(&mm, &m);
	CHECK_EQ_INT(mm.n, 2);
	CHECK_EQ_STR(mm.p[1].type, "image/png");
	CHECK_EQ_STR(mm.p[1].data, "");
	CHECK_EQ_INT(mm.p[1].len, 0);
	CHECK_EQ_STR(mm.p[0].data, "hello");
	mime_free(&mm);
	msg_free(&m);
}

UNIT_TEST(nested_messages_are_bounded)
{
	/* every attached message is a leaf holding all that follows it: 17
	 * levels of message/rfc822 over 9 MB must not keep 17 copies */
	const size_t body = 9u << 20;
	size_t hl = strlen("Content-Type: message/rfc822\n\n"), n = 0, total = 0;
	char *t = malloc(20 * hl + 16 + body);
	struct msg m;
	struct mime mm;

	for (int i = 0; i < 20; i++, n += hl)
		memcpy(t + n, "Content-Type: message/rfc822\n\n", hl);
	memcpy(t + n, "Subject: x\n\n", 12);
	n += 12;
	memset(t + n, 'a', body);
	n += body;
	msg_parse(&m, t, n);
	mime_walk(&mm, &m);
	for (size_t i = 0; i < mm.n; i++)
		total += mm.p[i].len;
	CHECK(total <= 2 * (size_t)MAIL_MAX_SIZE);
	CHECK(mm.cut);
	CHECK(mm.n > 0 && !strcmp(mm.p[0].type, "message/rfc822"));
	mime_free(&mm);
	msg_free(&m);
	free(t);
}

UNIT_TEST(forwarded_report_is_read)
{
	/* a help desk forwards a bounce as an attachment: the report inside
	 * is read, the outer mail has none of its own */
	const char *t =
		"From: helpdesk@example.org\nTo: admin@example.org\nSubject: Fwd: bounce\n"
		"Content-Type: multipart/mixed; boundary=o\n\n"
		"--o\nContent-Type: text/plain\n\nplease look\n"
		"--o\nContent-Type: message/rfc822\n\n"
		"From: MAILER-DAEMON@mx.example.org\nSubject: Undelivered Mail\n"
		"Content-Type: multipart/report; report-type=delivery-status; boundary=i\n\n"
		"--i\nContent-Type: text/plain\n\nbounced\n"
		"--i\nContent-Type: message/delivery-status\n\n"
		"Reporting-MTA: dns; mx.example.org\n\n"
		"Final-Recipient: rfc822; bob@example.net\nAction: failed\nStatus: 5.2.2\n"
		"Diagnostic-Code: smtp; 552 5.2.2 Mailbox full\n"
		"--i--\n--o--\n";
	struct diag d;
	char err[64];

	CHECK(diag_read(&d, t, strlen(t), NULL, err, sizeof(err)) == 0);
	CHECK_EQ_INT(d.kind, DSN_BOUNCE);
	CHECK_EQ_INT(d.dsn.n, 1);
	if (d.dsn.n) {
		CHECK_EQ_STR(d.dsn.r[0].recipient, "bob@example.net");
		CHECK_EQ_STR(d.dsn.r[0].reason, "mailboxfull");
		CHECK_EQ_STR(d.dsn.r[0].reply, "552");
	}
	diag_free(&d);
}

/* The same "user unknown" notice, plain and from a filtering gateway
 * whose format never names the SMTP command. */
static const char *gateway_reason(const char *extra_field)
{
	char t[512];
	struct diag d;
	char err[64];
	static const char *reason;

	snprintf(t, sizeof(t),
		 "From: postmaster@gw.example.org\n%sSubject: Delivery Status\n\n"
		 "<bob@example.net>: 550 Unknown user bob@example.net\n", extra_field);
	reason = NULL;
	if (diag_read(&d, t, strlen(t), NULL, err, sizeof(err)) == 0 && d.dsn.n == 1)
		reason = d.dsn.r[0].reason;
	diag_free(&d);
	return reason ? reason : "(none)";
}

UNIT_TEST(stageless_formats)
{
	CHECK_EQ_STR(gateway_reason(""), "userunknown");
	CHECK_EQ_STR(gateway_reason("X-NAI-Header: Modified by McAfee Email Gateway\n"),
		     "filtered");
	CHECK_EQ_STR(gateway_reason("X-NAI-Header: something else\n"), "userunknown");
	CHECK_EQ_STR(gateway_reason("X-MXL-Hash: 0123\n"), "filtered");
}

UNIT_TEST(status_and_reply_codes)
{
	char st[16], rc[4];

	CHECK(smtp_find_status("host 192.0.2.1 said: 550 5.1.1 <a@b>", st, sizeof(st)) == 0);
	CHECK_EQ_STR(st, "5.1.1");
	CHECK(smtp_find_status("(#5.5.0)", st, sizeof(st)) == 0);
	CHECK_EQ_STR(st, "5.5.0");
	CHECK(smtp_find_status("connect to 5.1.2.3 failed", st, sizeof(st)) == -1);
	CHECK(smtp_find_status("554 4.4.7 expired <421 4.4.2 timed out>", st, sizeof(st)) == 0);
	CHECK_EQ_STR(st, "4.4.2");
	CHECK(smtp_find_reply("host [192.0.2.20]: 550 5.7.0 no", rc) == 0);
	CHECK_EQ_STR(rc, "550");
	CHECK(smtp_find_reply("SIZE=1543 at 19:15:24 2010", rc) == -1);
	CHECK(smtp_find_reply("said: 421-4.7.0 try later", rc) == 0);
	CHECK_EQ_STR(rc, "421");
}

static const char *why(const char *st, const char *cmd, const char *text)
{
	struct reason_in in = { st, "", "", cmd, text, 0, 0 };

	return reason_classify(&in);
}

/* the same, for a bounce format that never names the SMTP command */
static const char *why_stageless(const char *st, const char *cmd, const char *text)
{
	struct reason_in in = { st, "", "", cmd, text, 0, 1 };

	return reason_classify(&in);
}

UNIT_TEST(reasons)
{
	CHECK_EQ_STR(why("5.1.1", "RCPT", "550 5.1.1 <a@b>: User unknown"), "userunknown");
	CHECK_EQ_STR(why("5.0.0", "DATA", "550 Unknown user a@b"), "filtered");
	CHECK_EQ_STR(why("4.2.2", "", "452 4.2.2 Mailbox full"), "mailboxfull");
	CHECK_EQ_STR(why("5.7.1", "RCPT",
			 "554 5.7.1 Service unavailable; Client host [192.0.2.1] "
			 "blocked using zen.spamhaus.org"), "blocked");
	CHECK_EQ_STR(why("5.1.8", "MAIL", "501 5.1.8 Sender address rejected"), "rejected");
	/* the word "spam" after DATA is the content judged spam; an
	 * "Anti-Spam" product's name in a signature is no verdict */
	CHECK_EQ_STR(why("", "DATA", "554 Your message scored 8.4 spam points"), "spamdetected");
	CHECK_EQ_STR(why("", "", "-- mx.example.net - protected by ExampleCorp Anti-Spam Gateway"),
		     "onhold");
	CHECK_EQ_STR(why("4.4.7", "", "delivery time expired"), "expired");
	CHECK_EQ_STR(why("2.0.0", "", "250 ok"), "delivered");
	CHECK_EQ_STR(why("", "", ""), "undefined");
	CHECK_EQ_STR(why("", "", "something odd"), "onhold");
	CHECK_EQ_STR(why("5.4.4", "", "Sorry, I couldn't find a mail exchanger or IP "
			 "address. (#5.4.4)"), "notaccept");
	CHECK_EQ_STR(why("5.1.2", "", "550 Host unknown"), "hostunknown");
	CHECK_EQ_STR(why("5.7.0", "", "554 554 5.7.0 Header error (state 18)."), "filtered");
	CHECK_EQ_STR(why("5.1.1", "", "550 550 5.1.1 <a@b>... User Unknown (state 14)."),
		     "userunknown");
	CHECK_EQ_STR(why("5.7.0", "", "554 Header error (state 18"), "policyviolation");
	/* "user unknown" without a command: the RCPT stage's answer, unless
	 * the format never names one (a filtering gateway's notice) */
	CHECK_EQ_STR(why("", "", "550 User unknown"), "userunknown");
	CHECK_EQ_STR(why_stageless("", "", "550 User unknown"), "filtered");
	CHECK_EQ_STR(why_stageless("", "RCPT", "550 User unknown"), "userunknown");
	CHECK_EQ_STR(why_stageless("5.1.1", "", "550 5.1.1 User unknown"), "userunknown");
	/* phrase syntax: blanks squeezed, no case; "*" one word, at least
	 * one byte; "^" the start of the text */
	CHECK_EQ_STR(reason_of_text("MAILBOX\t\n exceeds   HER  quota"), "mailboxfull");
	{
		const char *r = reason_of_text("the message exceeds  quota");	/* no word */

		CHECK(!r || strcmp(r, "mailboxfull"));
	}
	CHECK_EQ_STR(reason_of_text("lookup of example.org responded with code NXDOMAIN"),
		     "networkerror");
	{
		struct reason_in in = { "5.3.0", "", "", "", "procmail: Quota exceeded", 1, 0 };
		struct reason_in mid = { "5.3.0", "", "", "", "x procmail: Quota exceeded", 1, 0 };

		CHECK_EQ_STR(reason_classify(&in), "mailererror");
		/* not at the start: the words, not the program, decide */
		CHECK_EQ_STR(reason_classify(&mid), "mailboxfull");
	}
	CHECK(reason_is_hard("userunknown", "5.1.1", "550"));
	CHECK(!reason_is_hard("mailboxfull", "5.2.2", "552"));
	CHECK(!reason_is_hard("notaccept", "4.0.932", "450"));
}

static const char *rh(const char *host, const char *st, const char *reply,
		      const char *cmd, const char *text)
{
	struct rhost_in in = { host, "", st, reply, cmd, text };

	return rhost_reason(&in);
}

UNIT_TEST(rhost_codes)
{
	/* Orange / La Poste codes are their own signature, whoever relayed */
	CHECK_EQ_STR(rh("", "5.2.0", "550", "", "550 5.2.0 Mail rejected. OFR_506 [506]"),
		     "spamdetected");
	CHECK_EQ_STR(rh("mx.example", "5.5.0", "550", "",
			"550 5.5.0 Invalid recipient. LPN007_416"), "userunknown");
	CHECK_EQ_STR(rh("", "4.2.0", "421", "", "421 Service refused OFR005_505 [505]"),
		     "systemerror");
	CHECK(rh("", "5.5.0", "550", "", "550 XLPN007_416 is no code") == NULL);
	CHECK(rh("", "5.5.0", "550", "", "550 LPN007_41 short") == NULL);
	/* Cox names, Spectrum numbers */
	CHECK_EQ_STR(rh("", "5.1.0", "550", "MAIL", "550 sender rejected. AUP#CDRBL"),
		     "blocked");
	CHECK_EQ_STR(rh("", "5.1.0", "550", "", "550 sender rejected. AUP#In-1310"),
		     "toomanyconn");
	CHECK(rh("", "5.1.0", "550", "", "550 AUP#XYZZY") == NULL);
	CHECK(rh("", "5.1.0", "550", "", "550 AUP#") == NULL);
	/* codes of a common shape need the provider's host */
	CHECK_EQ_STR(rh("smtp.secureserver.net", "5.1.1", "550", "RCPT",
			"550 too many recipients this hour. IB607"), "speeding");
	CHECK(rh("smtp.example.net", "5.1.1", "550", "RCPT",
		 "550 too many recipients this hour. IB607") == NULL);
	CHECK(rh("notsecureserver.net", "5.1.1", "550", "", "550 x IB607") == NULL);
	CHECK_EQ_STR(rh("service1.mimecast.com", "", "554", "DATA",
			"554 email rejected due to security policies - x"), "virusdetected");
	CHECK(rh("service1.mimecast.com", "", "550", "DATA",
		 "550 email rejected due to security policies - x") == NULL);
	CHECK_EQ_STR(rh("mfsmax.docomo.ne.jp", "5.0.0", "550", "DATA",
			"550 Unknown user a@b"), "rejected");
	CHECK_EQ_STR(rh("mfsmax.docomo.ne.jp", "5.0.0", "550", "RCPT",
			"550 Unknown user a@b"), "userunknown");
	CHECK_EQ_STR(rh("mta6.am0.yahoodns.net", "4.7.0", "421", "MAIL",
			"421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred"),
		     "rejected");
	CHECK(rh("mx.example", "4.7.0", "421", "MAIL", "421 4.7.0 [TSS04] x") == NULL);
	CHECK_EQ_STR(rh("mta5.am0.yahoodns.net", "5.0.0", "554", "DATA",
			"554 delivery error: dd This user doesn't have a yahoo.com account "
			"(a@yahoo.com) [0] - mta1"), "userunknown");
	CHECK(rh("mx.example", "", "", "", "") == NULL);
}

UNIT_TEST(pseudo_status)
{
	char st[16];

	reason_pseudo_status("userunknown", 0, st);
	CHECK_EQ_STR(st, "5.0.911");
	reason_pseudo_status("expired", 1, st);
	CHECK_EQ_STR(st, "4.0.947");
	reason_pseudo_status("userunknown", 1, st);	/* never soft */
	CHECK_EQ_STR(st, "5.0.911");
}

UNIT_TEST(dates)
{
	int64_t t;

	CHECK(rcvd_parse_date("Fri, 1 Oct 2010 19:15:24 +0900 (JST)", &t) == 0);
	CHECK_EQ_INT(t, 1285928124);
	CHECK(rcvd_parse_date("24 Apr 2013 00:00:00 +0900", &t) == 0);
	CHECK_EQ_INT(t, 1366729200);
	CHECK(rcvd_parse_date("Sat, 1 Jan 00 00:00 GMT", &t) == 0);
	CHECK_EQ_INT(t, 946684800);
	CHECK(rcvd_parse_date("Mon, 2 Mar 2026 10:00:00 EST", &t) == 0);
	CHECK_EQ_INT(t, 1772463600);
	CHECK(rcvd_parse_date("yesterday", &t) == -1);
	CHECK(rcvd_parse_date("1 Foo 2010 10:00", &t) == -1);
	CHECK(rcvd_parse_date("99 Jan 2010 10:00", &t) == -1);
}

UNIT_TEST(received_fields)
{
	struct rcvd_hop h;

	rcvd_parse("from e1.example.org (r135.example.net [192.0.2.128]) by mx.example.jp "
		   "(8.14.4/8.14.4) with ESMTP id o91 for <a@b.c>; Fri, 1 Oct 2010 19:15:24 +0900",
		   &h);
	CHECK_EQ_STR(h.from, "e1.example.org");
	CHECK_EQ_STR(h.by, "mx.example.jp");
	CHECK_EQ_STR(h.with, "ESMTP");
	CHECK_EQ_STR(h.ip, "192.0.2.128");
	CHECK(h.has_t && h.t == 1285928124);
	rcvd_parse("from relay (HELO rr41) (192.0.2.4) by mx4s with SMTP; 24 Apr 2013 00:00:00 +0900",
		   &h);
	CHECK_EQ_STR(h.ip, "192.0.2.4");
	rcvd_parse("from x ([IPv6:2001:db8::25]) by y; Mon, 2 Mar 2026 10:00:00 +0000", &h);
	CHECK_EQ_STR(h.ip, "2001:db8::25");
	/* the receiver's TCP-info beats the address the client claimed */
	rcvd_parse("from [192.0.2.202] (c1.example.net. [192.0.2.135]) by mx.google.com "
		   "with ESMTPSA id x; Fri, 18 Jul 2014 00:31:01 -0700 (PDT)", &h);
	CHECK_EQ_STR(h.from, "[192.0.2.202]");
	CHECK_EQ_STR(h.ip, "192.0.2.135");
	rcvd_parse("(qmail 10000 invoked by uid 99); 24 Apr 2013 00:00:00 +0900", &h);
	CHECK_EQ_STR(h.ip, "");
	CHECK_EQ_STR(h.by, "");
	CHECK(h.has_t);
	CHECK(!rcvd_ip_public("10.1.2.3") && !rcvd_ip_public("::1") &&
	      !rcvd_ip_public("fe80::1") && rcvd_ip_public("192.0.2.1"));
	/* IPv4-mapped addresses are as private as the IPv4 address inside */
	CHECK(!rcvd_ip_public("::ffff:10.1.2.3") && !rcvd_ip_public("::ffff:127.0.0.1") &&
	      !rcvd_ip_public("::ffff:192.168.0.1") && rcvd_ip_public("::ffff:192.0.2.1"));
}

UNIT_TEST(received_protocol_whole)
{
	struct rcvd_hop h;

	/* Microsoft's protocol is several words and a TLS comment */
	rcvd_parse("from A.prod.outlook.com (2603:10b6:805:a9::17) by B.prod.outlook.com "
		   "(2603:10b6:805:b2::22) with Microsoft SMTP Server (version=TLS1_2,  "
		   "cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.7270.16; "
		   "Thu, 3 Dec 2026 09:15:39 +0000", &h);
	CHECK_EQ_STR(h.with, "Microsoft SMTP Server (version=TLS1_2, "
		     "cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384)");
	CHECK_EQ_STR(h.by, "B.prod.outlook.com");
	CHECK(h.has_t);
	/* a "with" inside a comment is not the clause */
	rcvd_parse("from a (a [192.0.2.1]) (using TLSv1.3 with cipher X (256/256 bits)) "
		   "by b (Postfix) with ESMTPS id 1; Thu, 3 Dec 2026 09:15:39 +0000", &h);
	CHECK_EQ_STR(h.with, "ESMTPS");
	rcvd_parse("from a by b with ESMTP idX for <c@d>; Thu, 3 Dec 2026 09:15:39 +0000", &h);
	CHECK_EQ_STR(h.with, "ESMTP");
	/* a protocol longer than the field is cut, never overrun */
	{
		char v[600];

		snprintf(v, sizeof(v), "from a by b with Microsoft %0300d x; Thu, 3 Dec 2026", 0);
		rcvd_parse(v, &h);
		CHECK(strlen(h.with) < sizeof(h.with) && !strncmp(h.with, "Microsoft 000", 13));
	}
}

UNIT_TEST(japanese_reasons)
{
	/* decoded UTF-8 text, no code: the words decide */
	CHECK_EQ_STR(reason_of_text("宛先のメールアドレスは存在しません（ユーザー不明）"),
		     "userunknown");
	CHECK_EQ_STR(reason_of_text("メールボックスが一杯です"), "mailboxfull");
	CHECK_EQ_STR(reason_of_text("サイズが大きすぎます"), "mesgtoobig");
	CHECK_EQ_STR(reason_of_text("宛先のドメインが存在しません"), "hostunknown");
	CHECK_EQ_STR(reason_of_text("受信拒否設定により配信されませんでした"), "filtered");
	CHECK_EQ_STR(reason_of_text("送信元IPアドレスがブラックリストに登録されています"), "blocked");
}

UNIT_TEST(mbox_split)
{
	const char *box = "From a x\nS: 1\n\nb\nFrom b y\nS: 2\n\n>From c\n";
	size_t pos = 0, ml;
	const char *m;
	int n = 0;

	while (diag_mbox_next(box, strlen(box), &pos, &m, &ml))
		n++;
	CHECK_EQ_INT(n, 2);
	pos = 0;
	CHECK(diag_mbox_next("X: y\n\nFrom inside body\n", 24, &pos, &m, &ml));
	CHECK_EQ_INT(ml, 24);	/* not an mbox: one message */
	/* mail concatenated without an envelope line at the top: split where
	 * one follows an empty line, not at prose that starts with From */
	{
		const char *cat = "X: 1\n\nFrom here on at 10:30 in 2026\n"
				  "\nFrom MAILER-DAEMON  Thu Apr 29 23:34:45 2015\nX: 2\n\nb\n";

		pos = 0;
		n = 0;
		while (diag_mbox_next(cat, strlen(cat), &pos, &m, &ml))
			n++;
		CHECK_EQ_INT(n, 2);
	}
}

UNIT_TEST(diagnose_errors)
{
	struct diag d;
	char err[128];

	CHECK(diag_read(&d, "", 0, NULL, err, sizeof(err)) == -1);
	diag_free(&d);
	CHECK(diag_read(&d, "\x01\x02 no headers", 13, NULL, err, sizeof(err)) == -1);
	CHECK(strstr(err, "header") != NULL);
	diag_free(&d);
}

/* Issue 16: the rules that generalise, each by its general statement. */
UNIT_TEST(reasons_by_phase_and_class)
{
	const char *step, *phrase;

	/* a recipient refused at the end of DATA is a filter, whatever code */
	CHECK_EQ_STR(why("5.1.1", "DATA", "550 5.1.1 <a@b>: Recipient address rejected: "
			 "User unknown (in reply to end of DATA command)"), "filtered");
	reason_last_rule(&step, &phrase);
	CHECK_EQ_STR(step, "1:filtered/after-data");
	CHECK_EQ_STR(phrase, "recipient address rejected: user");
	/* a transcript's ">>> DATA" then a pipelined RCPT refusal is not */
	CHECK_EQ_STR(why("5.1.1", "DATA", "550 5.1.1 <a@b>... User Unknown"), "userunknown");
	/* spam words: after DATA the content, before DATA the sender */
	CHECK_EQ_STR(why("5.7.1", "DATA", "550 5.7.1 spam rejection"), "spamdetected");
	CHECK_EQ_STR(why("5.7.1", "RCPT", "554 5.7.1 <a@b>: Denied due to spam list"), "blocked");
	reason_last_rule(&step, &phrase);
	CHECK_EQ_STR(step, "1:blocked/spam-before-data");
	CHECK_EQ_STR(why("", "", "550 Message appears to be SPAM"), "spamdetected");
	/* X.7.28: mail flood, a rate limit */
	CHECK_EQ_STR(why("4.7.28", "DATA", "421 4.7.28 unusual rate of unsolicited mail"),
		     "speeding");
	/* a domain that does not exist, at any stage */
	CHECK_EQ_STR(why("5.1.2", "", "550 5.1.2 The domain x.example does not exist"),
		     "hostunknown");
	CHECK_EQ_STR(why_stageless("", "", "550 Recipient address rejected: Domain x.example "
				   "does not exist"), "hostunknown");
	CHECK_EQ_STR(why("", "RCPT", "550 No mail box available for this user"), "userunknown");
	/* the trace names the status when the status decided */
	CHECK_EQ_STR(why("5.2.2", "RCPT", "552 over"), "mailboxfull");
	reason_last_rule(&step, &phrase);
	CHECK(step != NULL);
}

/* Issue 16: recipients that are not, and a success code that is not the
 * outcome of a failure report. */
UNIT_TEST(prose_bounce_recipients_and_outcome)
{
	const char *imail = "From: postmaster@mx.example.net\nSubject: Undeliverable Mail\n"
		"X-Mailer: <SMTP32 v8.22>\n\nDelivery failed 3 attempts: k@example.net\n\n"
		"Original message follows.\n\nFrom: n@example.jp\nTo: k@example.net\n"
		"X-Mailer: Mailer 2.0.0\nSubject: hi\n\nHello\n";
	const char *contact = "From: Mail Delivery Subsystem <MAILER-DAEMON@mail.example.jp>\n"
		"Subject: Returned mail: see transcript for details\n\n"
		"<20260303.X@mail.example.jp>\n\n"
		"   ----- The following addresses had permanent fatal errors -----\n"
		"<k@example.net>\n    (reason: 550 5.1.1 <k@example.net>... User unknown)\n\n"
		"If you need help, write to:\npostmaster@mail.example.jp\n\n"
		"   ----- Original message follows -----\nFrom: n@example.jp\n"
		"To: k@example.net\nMessage-ID: <20260303.X@mail.example.jp>\n\nHello\n";
	const char *x400 = "From: MAILER-DAEMON@example.jp\nSubject: Undeliverable\n"
		"Content-Type: multipart/report; report-type=delivery-status; boundary=b\n\n"
		"--b\nContent-Type: text/plain\n\nfailed\n--b\n"
		"Content-Type: message/delivery-status\n\nReporting-MTA: dns; a.example\n\n"
		"Final-Recipient: X400; /c=JP/s=Neko/\nOriginal-Recipient: rfc822; k@example.net\n"
		"Action: failed\nStatus: 5.1.1\n\n"
		"Final-Recipient: rfc822;SMTP=m@example.net\nAction: failed\nStatus: 5.1.1\n\n"
		"Final-Recipient: rfc822; \"q..r\"@example.net\n"
		"Original-Recipient: rfc822;q..r@example.net\nAction: failed\nStatus: 5.1.1\n--b--\n";
	/* a postmaster the original was sent to is a recipient */
	const char *pm = "From: Mail Delivery System <MAILER-DAEMON@mx.example.jp>\n"
		"Subject: Returned mail\n\n   ----- The following addresses had delivery problems -----\n"
		"postmaster@mx.example.jp\n\n   ----- Non-delivered information -----\n"
		"The number of messages in recipient's mailbox exceeded the local limit.\n\n"
		"   ----- Original message follows -----\nFrom: n@example.org\n"
		"To: <postmaster@mx.example.jp>\nSubject: hi\n\nHello\n";
	char err[256];
	struct diag d;

	CHECK(diag_read(&d, imail, strlen(imail), NULL, err, sizeof(err)) == 0);
	CHECK_EQ_INT(d.dsn.n, 1);
	if (d.dsn.n == 1) {
		CHECK_EQ_STR(d.dsn.r[0].action, "failed");
		CHECK_EQ_STR(d.dsn.r[0].reason, "expired");
	}
	diag_free(&d);
	CHECK(diag_read(&d, contact, strlen(contact), NULL, err, sizeof(err)) == 0);
	CHECK_EQ_INT(d.dsn.n, 1);
	if (d.dsn.n == 1)
		CHECK_EQ_STR(d.dsn.r[0].recipient, "k@example.net");
	diag_free(&d);
	CHECK(diag_read(&d, x400, strlen(x400), NULL, err, sizeof(err)) == 0);
	CHECK_EQ_INT(d.dsn.n, 3);
	if (d.dsn.n == 3) {
		CHECK_EQ_STR(d.dsn.r[0].recipient, "k@example.net");
		CHECK_EQ_STR(d.dsn.r[1].recipient, "m@example.net");
		CHECK_EQ_STR(d.dsn.r[2].recipient, "\"q..r\"@example.net");
	}
	diag_free(&d);
	CHECK(diag_read(&d, pm, strlen(pm), NULL, err, sizeof(err)) == 0);
	CHECK_EQ_INT(d.dsn.n, 1);
	if (d.dsn.n == 1) {
		CHECK_EQ_STR(d.dsn.r[0].recipient, "postmaster@mx.example.jp");
		CHECK_EQ_STR(d.dsn.r[0].reason, "mailboxfull");
	}
	diag_free(&d);
	mime_thread_cleanup();
}

/* The last resort of a prose report, the addresses its sentences name:
 * each line is read for its own words (the words of one line name no
 * address of the next), and a line of 10000 addresses (220 KB) is read
 * once, not once per address (it took seconds). */
UNIT_TEST(prose_sentence_addresses_by_line)
{
	static const char head[] = "From: MAILER-DAEMON@mx.example.com\n"
		"To: n@example.org\nSubject: Undelivered Mail\n\nWe could not deliver mail ";
	static const char tail[] = "\nPlease see bob@example.com about it.\n"
		"The mailbox of carol@example.net is unavailable.\n";
	size_t len = sizeof(head) + 10000 * 32 + sizeof(tail), o;
	char *t = malloc(len), err[64];
	struct diag d;

	CHECK(t != NULL);
	if (!t)
		return;
	memcpy(t, head, sizeof(head) - 1);
	o = sizeof(head) - 1;
	for (int i = 0; i < 10000; i++)
		o += (size_t)sprintf(t + o, "from x%05d@b.example ", i);
	memcpy(t + o, tail, sizeof(tail));
	CHECK(diag_read(&d, t, o + sizeof(tail) - 1, NULL, err, sizeof(err)) == 0);
	CHECK_EQ_INT(d.dsn.n, 1);
	if (d.dsn.n == 1)
		CHECK_EQ_STR(d.dsn.r[0].recipient, "carol@example.net");
	diag_free(&d);
	free(t);
	mime_thread_cleanup();
}

/* A prose report's sentence that offers an address for help names no
 * recipient; a sentence before it that says "contact" about something
 * else does not hide the next one's. */
UNIT_TEST(prose_sentence_contact_addresses)
{
	const char *help = "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\n"
		"To: n@example.org\nSubject: Mail delivery failed\n\n"
		"The mailbox is unavailable. Questions? Write to it-help@example.net.\n";
	const char *conn = "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\n"
		"To: n@example.org\nSubject: Mail delivery failed\n\n"
		"Could not contact the server; delivery to bob@example.net failed.\n";
	char err[64];
	struct diag d;

	CHECK(diag_read(&d, help, strlen(help), NULL, err, sizeof(err)) == 0);
	CHECK_EQ_INT(d.dsn.n, 0);
	diag_free(&d);
	CHECK(diag_read(&d, conn, strlen(conn), NULL, err, sizeof(err)) == 0);
	CHECK_EQ_INT(d.dsn.n, 1);
	if (d.dsn.n == 1)
		CHECK_EQ_STR(d.dsn.r[0].recipient, "bob@example.net");
	diag_free(&d);
	mime_thread_cleanup();
}

/* Exim writes "(generated from a@b)" right under the address it failed;
 * under "an undisclosed address" that is the recipient's only name, also
 * when another recipient came before it. */
UNIT_TEST(exim_generated_from)
{
	const char *t = "From: Mail Delivery System <Mailer-Daemon@mx.example.org>\n"
		"To: n@example.org\nSubject: Mail delivery failed: returning message to sender\n\n"
		"A message that you sent could not be delivered to one or more of its\n"
		"recipients. This is a permanent error. The following address(es) failed:\n\n"
		"  bob@example.net\n    (generated from list@example.org)\n"
		"    550 5.1.1 <bob@example.net>: User unknown\n"
		"  an undisclosed address\n    (generated from team@example.org)\n"
		"    550 5.2.2 <t.hidden@mx.example.net>: Mailbox full\n";
	char err[64];
	struct diag d;

	CHECK(diag_read(&d, t, strlen(t), NULL, err, sizeof(err)) == 0);
	CHECK_EQ_INT(d.dsn.n, 2);
	if (d.dsn.n == 2) {
		CHECK_EQ_STR(d.dsn.r[0].recipient, "bob@example.net");
		CHECK_EQ_STR(d.dsn.r[0].reason, "userunknown");
		CHECK_EQ_STR(d.dsn.r[1].recipient, "team@example.org");
		CHECK_EQ_STR(d.dsn.r[1].reason, "mailboxfull");
	}
	diag_free(&d);
	mime_thread_cleanup();
}

/* Bare names under "the following recipients ...:" are mailboxes of the
 * reporting domain (AOL); a single word under a colon of another
 * paragraph ("The remote server said:") is not. */
UNIT_TEST(prose_bare_names_need_the_sentence_colon)
{
	const char *t = "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\n"
		"To: n@example.org\nSubject: Mail delivery failed\n\n"
		"Delivery to the following recipient has been delayed and finally failed.\n\n"
		"The remote server said:\n    Timeout\n\nNo more attempts will be made.\n";
	const char *aol = "From: Mail Delivery Subsystem <MAILER-DAEMON@aol.com>\n"
		"To: n@example.org\nSubject: Mail Delivery Problem\n\n"
		"Your mail to the following recipients could not be delivered because\n"
		"they are not accepting mail from n@example.org:\n\tkijitora\n\n";
	char err[64];
	struct diag d;

	CHECK(diag_read(&d, t, strlen(t), NULL, err, sizeof(err)) == 0);
	CHECK_EQ_INT(d.dsn.n, 0);
	diag_free(&d);
	CHECK(diag_read(&d, aol, strlen(aol), NULL, err, sizeof(err)) == 0);
	CHECK_EQ_INT(d.dsn.n, 1);
	if (d.dsn.n == 1)
		CHECK_EQ_STR(d.dsn.r[0].recipient, "kijitora@aol.com");
	diag_free(&d);
	mime_thread_cleanup();
}

/*
 * A measuring hook, not a check: with RBLKIT_RULE_TRACE=LIST (a file of
 * paths, one per line) and RBLKIT_RULE_TRACE_OUT=OUT, every message of
 * every file is read and OUT gets one line per recipient:
 * "file<TAB>n<TAB>reason<TAB>rule<TAB>phrase" (n counts the recipients
 * of the file, all its messages).  tests/integration/
 * test_diagnose_corpus.py uses it to count the rules that decide for one
 * file only.  Without the variables it does nothing.
 */
static void trace_file(FILE *out, const char *path)
{
	FILE *f = fopen(path, "rb");
	const char *base = strrchr(path, '/'), *msg;
	char *text = NULL, err[256];
	size_t cap = 0, len = 0, pos = 0, mlen, n = 0, k;

	if (!f)
		return;
	for (;;) {
		if (len == cap && !(text = realloc(text, cap = cap ? cap * 2 : 65536)))
			break;
		if ((k = fread(text + len, 1, cap - len, f)) == 0)
			break;
		len += k;
	}
	fclose(f);
	base = base ? base + 1 : path;
	while (text && diag_mbox_next(text, len, &pos, &msg, &mlen)) {
		struct diag d;

		if (diag_read(&d, msg, mlen, NULL, err, sizeof(err)) == 0)
			for (size_t i = 0; i < d.dsn.n; i++)
				fprintf(out, "%s\t%zu\t%s\t%s\t%s\n", base, ++n,
					d.dsn.r[i].reason, d.dsn.r[i].rule ? d.dsn.r[i].rule : "-",
					d.dsn.r[i].phrase ? d.dsn.r[i].phrase : "-");
		diag_free(&d);
	}
	free(text);
}

UNIT_TEST(rule_trace_hook)
{
	const char *list = getenv("RBLKIT_RULE_TRACE"), *outp = getenv("RBLKIT_RULE_TRACE_OUT");
	char line[4096];
	FILE *in, *out;

	if (!list || !outp || !(in = fopen(list, "r")))
		return;
	if (!(out = fopen(outp, "w"))) {
		fclose(in);
		return;
	}
	while (fgets(line, sizeof(line), in)) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0])
			trace_file(out, line);
	}
	fclose(in);
	CHECK(fclose(out) == 0);
	mime_thread_cleanup();
}

UNIT_MAIN()

static size_t kept;

static void keep_count(void *arg, const char *name, unsigned idx, struct diag *d,
		       const char *err)
{
	(void)arg;
	(void)name;
	(void)idx;
	(void)err;
	kept++;
	diag_free(d);
}

/* batch_run: the same reports in the same order with one thread and with
 * three; an unreadable and an empty input are reported and counted. */
UNIT_TEST(batch_threads_write_what_one_writes)
{
	char dir[] = "/tmp/rblkit-batch-XXXXXX", path[4][64];
	char *names[6];
	const char *bounce = "From: MAILER-DAEMON@mx.example.org\nSubject: Undelivered\n\n"
			     "<a@example.com>: host mx.example.com said: 550 5.1.1 "
			     "User unknown (in reply to RCPT TO command)\n";
	char *one = NULL, *many = NULL;
	size_t lone = 0, lmany = 0, e1, e3, ek;
	char err[256];
	FILE *f;

	CHECK(mkdtemp(dir) != NULL);
	for (int i = 0; i < 4; i++)
		snprintf(path[i], sizeof(path[i]), "%s/%d.eml", dir, i);
	for (int i = 0; i < 3; i++) {
		f = fopen(path[i], "w");
		if (i < 2)
			for (int k = 0; k <= i * 20; k++)	/* 1, then an mbox of 21 */
				fprintf(f, "From x@y Thu Jan  1 00:00:00 2026\n%s\n", bounce);
		fclose(f);	/* the third is empty */
	}
	names[0] = path[0];
	names[1] = path[3];	/* missing */
	names[2] = path[1];
	names[3] = path[2];
	{
		struct batch_opts o = { .fmt = BATCH_JSON, .jobs = 1 };

		o.out = open_memstream(&one, &lone);
		CHECK_EQ_INT(batch_run(&o, names, 4, &e1, err, sizeof(err)), 0);
		fclose(o.out);
		o.jobs = 3;
		o.out = open_memstream(&many, &lmany);
		CHECK_EQ_INT(batch_run(&o, names, 4, &e3, err, sizeof(err)), 0);
		fclose(o.out);
		o.keep = keep_count;
		o.jobs = 3;		/* keeping reads with one thread */
		CHECK_EQ_INT(batch_run(&o, names, 4, &ek, err, sizeof(err)), 0);
		CHECK_EQ_INT(ek, 2);
	}
	CHECK_EQ_INT(e1, 2);
	CHECK_EQ_INT(e3, 2);
	CHECK_EQ_INT(kept, 24);		/* 1 + 21 messages, 2 inputs not read */
	CHECK(lone > 1000 && lone == lmany && !memcmp(one, many, lone));
	CHECK(strstr(one, "cannot read") && strstr(one, "empty input"));
	free(one);
	free(many);
	for (int i = 0; i < 3; i++)
		unlink(path[i]);
	rmdir(dir);
	mime_thread_cleanup();
	report_thread_cleanup();
}

#include <errno.h>

/* Issue 11: batch_run never exits.  The mbox of 40 bounces, read with
 * 3 jobs. */
static char *batch_mbox(char *dir, char *path, size_t len)
{
	const char *bounce = "From: MAILER-DAEMON@mx.example.org\nSubject: Undelivered\n\n"
			     "<a@example.com>: host mx.example.com said: 550 5.1.1 "
			     "User unknown (in reply to RCPT TO command)\n";
	FILE *f;

	if (!mkdtemp(dir))
		return NULL;
	snprintf(path, len, "%s/box", dir);
	f = fopen(path, "w");
	if (!f)
		return NULL;
	for (int k = 0; k < 40; k++)
		fprintf(f, "From x@y Thu Jan  1 00:00:00 2026\n%s\n", bounce);
	fclose(f);
	return path;
}

static int batch_into(unsigned jobs, char *path, char **text, size_t *len,
		      size_t *unread, char *err, size_t errlen)
{
	struct batch_opts o = { .fmt = BATCH_JSON, .jobs = jobs };
	char *names[1] = { path };
	int rc;

	o.out = open_memstream(text, len);
	rc = batch_run(&o, names, 1, unread, err, errlen);
	fclose(o.out);
	return rc;
}

/* Threads that cannot start: the run goes on with those that did, or
 * with the calling thread alone, and writes the same reports. */
UNIT_TEST(batch_threads_that_cannot_start)
{
	char dir[] = "/tmp/rblkit-batchf-XXXXXX", path[64], err[256] = "";
	char *one = NULL, *some = NULL, *none = NULL;
	size_t lone = 0, lsome = 0, lnone = 0, u1 = 9, u2 = 9, u3 = 9;

	CHECK(batch_mbox(dir, path, sizeof(path)) != NULL);
	CHECK_EQ_INT(batch_into(1, path, &one, &lone, &u1, err, sizeof(err)), 0);
	batch_test_faults(1, -1);	/* 1 of the 2 workers starts */
	CHECK_EQ_INT(batch_into(3, path, &some, &lsome, &u2, err, sizeof(err)), 0);
	batch_test_faults(0, -1);	/* none starts */
	CHECK_EQ_INT(batch_into(3, path, &none, &lnone, &u3, err, sizeof(err)), 0);
	batch_test_faults(-1, -1);
	CHECK_EQ_INT(u1 + u2 + u3, 0);
	CHECK(lone > 1000 && lone == lsome && lone == lnone);
	CHECK(one && some && none && !memcmp(one, some, lone) && !memcmp(one, none, lone));
	free(one);
	free(some);
	free(none);
	unlink(path);
	rmdir(dir);
	mime_thread_cleanup();
	report_thread_cleanup();
}

/* No memory for a report buffer: an error (code and words), the output
 * stops at the last whole report and has no end. */
UNIT_TEST(batch_report_buffer_fails)
{
	char dir[] = "/tmp/rblkit-batchm-XXXXXX", path[64], err[256] = "";
	char *text = NULL;
	size_t len = 0, unread = 9;

	CHECK(batch_mbox(dir, path, sizeof(path)) != NULL);
	batch_test_faults(-1, 1);	/* the second buffer fails */
	CHECK_EQ_INT(batch_into(3, path, &text, &len, &unread, err, sizeof(err)), -ENOMEM);
	batch_test_faults(-1, -1);
	CHECK(strstr(err, "report buffer") && strstr(err, strerror(ENOMEM)));
	CHECK_EQ_INT(unread, 0);
	/* no end: it does not look whole */
	CHECK(text && len > 0 && text[0] == '[' &&
	      (len < 3 || memcmp(text + len - 3, "\n]\n", 3)));
	/* and again without the fault: whole, and longer */
	char *whole = NULL;
	size_t lwhole = 0;
	CHECK_EQ_INT(batch_into(3, path, &whole, &lwhole, &unread, err, sizeof(err)), 0);
	CHECK(whole && lwhole > len && !memcmp(whole + lwhole - 3, "\n]\n", 3));
	CHECK(text && whole && !memcmp(text, whole, len));
	free(text);
	free(whole);
	unlink(path);
	rmdir(dir);
	mime_thread_cleanup();
	report_thread_cleanup();
}
