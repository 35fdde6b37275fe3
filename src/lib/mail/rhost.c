/*
 * rhost.c - reasons from receiving-host families' own error codes; see
 * rhost.h.
 *
 * The tables follow sisimai's Rhost modules (FrancePTT, Cox, Spectrum,
 * GoDaddy, Mimecast, NTTDOCOMO, YahooInc), which transcribe what each
 * provider documents for its codes.  sisimai is Copyright (C) 2014
 * azumakuniyuki, BSD 2-Clause licence (see tests/corpus/sisimai/LICENSE).
 * A code is recognised by its shape ("OFR_506", "LPN007_416",
 * "AUP#CXBL", "AUP#In-1310") where that shape is the provider's own;
 * codes of a common shape ("IB607", a bare reply text) only count when
 * the reply came from the provider's hosts.  Codes for a sending rate
 * ("too many messages this hour") are "speeding", sisimai's newer name
 * for them, not "toomanyconn".
 *
 * SECURITY: untrusted text; read in place up to its NUL, codes copied
 * into fixed buffers with their length checked first.
 */
#define _GNU_SOURCE
#include "mail/rhost.h"
#include "base/util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct code {
	const char *code, *reason;
};

/* Orange and La Poste: the last three digits of OFR_nnn, LPNnnn_nnn, ... */
static const struct code orange_codes[] = {
	{ "101", "blocked" }, { "102", "blocked" }, { "103", "blocked" },
	{ "104", "toomanyconn" }, { "107", "blocked" },
	{ "305", "securityerror" }, { "401", "blocked" },
	{ "402", "securityerror" }, { "403", "rejected" }, { "405", "rejected" },
	{ "415", "rejected" }, { "416", "userunknown" }, { "417", "mailboxfull" },
	{ "418", "userunknown" }, { "420", "suspend" }, { "421", "rejected" },
	{ "426", "suspend" }, { "505", "systemerror" }, { "506", "spamdetected" },
	{ "510", "blocked" }, { "514", "mesgtoobig" }, { "517", "policyviolation" },
	{ "630", "policyviolation" }, { "999", "blocked" },
};

/* Cox: AUP#CODE */
static const struct code cox_codes[] = {
	{ "CXBL", "blocked" }, { "CXTHRT", "securityerror" },
	{ "CXMJ", "securityerror" }, { "CXDNS", "blocked" },
	{ "CXSNDR", "rejected" }, { "CXSMTP", "rejected" },
	{ "CXCNCT", "toomanyconn" }, { "CXMXRT", "speeding" },
	{ "CDRBL", "blocked" }, { "IPBL0001", "blocked" }, { "IPBL0010", "blocked" },
	{ "IPBL0100", "blocked" }, { "IPBL0011", "blocked" }, { "IPBL0101", "blocked" },
	{ "IPBL0110", "blocked" }, { "IPBL0111", "blocked" }, { "IPBL1000", "blocked" },
	{ "IPBL1001", "blocked" }, { "IPBL1010", "blocked" }, { "IPBL1011", "blocked" },
	{ "IPBL1100", "blocked" }, { "IPBL1101", "blocked" }, { "IPBL1110", "blocked" },
	{ "IPBL1111", "blocked" }, { "IPBL00001", "blocked" },
	{ "URLBL011", "spamdetected" }, { "URLBL101", "spamdetected" },
	{ "URLBL110", "spamdetected" }, { "URLBL1001", "spamdetected" },
};

/* Spectrum: AUP#[letters-]NNNN, by ranges of NNNN */
static const struct {
	int lo, hi;
	const char *reason;
} spectrum_ranges[] = {
	{ 1000, 1000, "blocked" }, { 1010, 1010, "rejected" },
	{ 1020, 1080, "rejected" }, { 1090, 1090, "systemerror" },
	{ 1100, 1150, "blocked" }, { 1160, 1190, "policyviolation" },
	{ 1200, 1250, "blocked" }, { 1260, 1260, "networkerror" },
	{ 1300, 1490, "toomanyconn" }, { 1500, 1520, "rejected" },
	{ 1530, 1530, "mesgtoobig" }, { 1540, 1550, "toomanyconn" },
	{ 1560, 1560, "policyviolation" },
};

/* GoDaddy (secureserver.net): IBnnn */
static const struct code godaddy_codes[] = {
	{ "IB103", "blocked" }, { "IB104", "blocked" }, { "IB105", "blocked" },
	{ "IB106", "blocked" }, { "IB007", "toomanyconn" }, { "IB101", "expired" },
	{ "IB108", "blocked" }, { "IB110", "blocked" }, { "IB111", "blocked" },
	{ "IB112", "blocked" }, { "IB113", "blocked" }, { "IB212", "spamdetected" },
	{ "IB401", "securityerror" }, { "IB501", "rejected" }, { "IB502", "rejected" },
	{ "IB504", "speeding" }, { "IB506", "rejected" }, { "IB508", "rejected" },
	{ "IB510", "toomanyconn" }, { "IB607", "speeding" },
	{ "IB705", "virusdetected" },
};

/* Mimecast: reply code and words (lower case) */
static const struct {
	int reply;
	const char *text, *reason;
} mimecast_replies[] = {
	{ 421, "sender address blocked", "blocked" },
	{ 451, "recipient temporarily unavailable", "blocked" },
	{ 451, "ip temporarily blacklisted", "blocked" },
	{ 451, "internal resources are temporarily unavailable", "blocked" },
	{ 550, "local ct ip reputation - (reject)", "blocked" },
	{ 550, "spf sender invalid - envelope rejected", "blocked" },
	{ 550, "dkim sender invalid - envelope rejected", "blocked" },
	{ 550, "dmarc sender invalid - envelope rejected", "blocked" },
	{ 554, "maximum email size exceeded", "mesgtoobig" },
	{ 554, "mail loop detected", "networkerror" },
	{ 451, "open relay not allowed", "norelaying" },
	{ 451, "account inbounds disabled", "notaccept" },
	{ 451, "account outbounds disabled", "onhold" },
	{ 451, "hostname is not authorized", "onhold" },
	{ 550, "journal message past expiration", "onhold" },
	{ 550, "anti-spoofing policy - inbound not allowed", "policyviolation" },
	{ 550, "rejected by header-based anti-spoofing policy", "policyviolation" },
	{ 550, "message bounced due to content examination policy", "policyviolation" },
	{ 554, "host network not allowed", "policyviolation" },
	{ 550, "administrative prohibition envelope blocked", "rejected" },
	{ 550, "envelope rejected - block policy for envelope from address", "rejected" },
	{ 535, "incorrect authentication data", "securityerror" },
	{ 553, "this route requires encryption (tls)", "securityerror" },
	{ 553, "this route requires tls version 1.2 or greater", "securityerror" },
	{ 553, "this route requires high-strength ciphers", "securityerror" },
	{ 554, "configuration is invalid for this certificate", "securityerror" },
	{ 451, "unable to process connection at this time", "systemerror" },
	{ 451, "message ended early", "systemerror" },
	{ 451, "unable to process command", "systemerror" },
	{ 451, "unable to process an email at this time", "systemerror" },
	{ 451, "account service is temporarily unavailable", "toomanyconn" },
	{ 452, "too many recipients", "toomanyconn" },
	{ 550, "exceeding outbound thread limit", "toomanyconn" },
	{ 501, "invalid address", "userunknown" },
	{ 503, "user unknown", "userunknown" },
	{ 550, "invalid recipient", "userunknown" },
	{ 554, "email rejected due to security policies", "virusdetected" },
};

static const char *code_lookup(const struct code *t, size_t n, const char *code)
{
	for (size_t i = 0; i < n; i++)
		if (!strcasecmp(t[i].code, code))
			return t[i].reason;
	return NULL;
}

/* Is host (n bytes) the domain suffix or a name under it? */
static int host_in(const char *host, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);

	if (n < k || strcasecmp(host + n - k, suffix))
		return 0;
	return n == k || host[n - k - 1] == '.';
}

static int word_start(const char *text, const char *p)
{
	return p == text || !isalnum((unsigned char)p[-1]);
}

/* Orange / La Poste: (LPN|LPNAAA|OFR|OUK)(_ddd|ddd[-_]ddd) as a word. */
static const char *orange(const char *diag)
{
	static const struct {
		const char *s;
		size_t len;
	} pre[] = { { "LPNAAA", 6 }, { "LPN", 3 }, { "OFR", 3 }, { "OUK", 3 } };
	/* the first '_' or '-' at or after p: a code has one 3, 6 or 9
	 * bytes past its start, so no code starts more than 9 before it */
	const char *sep = strpbrk(diag, "_-");

	for (const char *p = diag; sep && *p; p++) {
		char c0, c1;

		if (p > sep && (sep = strpbrk(p, "_-")) == NULL)
			break;
		if (sep - p > 9)
			p = sep - 9;
		/* the prefixes start "lp", "of", "ou": one test here for the
		 * letters l and o, which are everywhere in text */
		c0 = *p | 0x20;
		c1 = p[1] | 0x20;
		if (!(c0 == 'l' && c1 == 'p') && !(c0 == 'o' && (c1 == 'f' || c1 == 'u')))
			continue;
		for (size_t i = 0; i < ARRAY_SIZE(pre); i++) {
			const size_t k = pre[i].len;
			const char *q = p + k, *d;

			if ((p[1] | 0x20) != (pre[i].s[1] | 0x20) || strncasecmp(p, pre[i].s, k) ||
			    !word_start(diag, p))
				continue;
			if (q[0] == '_')
				d = q + 1;
			else if (isdigit((unsigned char)q[0]) && isdigit((unsigned char)q[1]) &&
				 isdigit((unsigned char)q[2]) && (q[3] == '-' || q[3] == '_'))
				d = q + 4;
			else
				continue;
			if (!isdigit((unsigned char)d[0]) || !isdigit((unsigned char)d[1]) ||
			    !isdigit((unsigned char)d[2]) || isalnum((unsigned char)d[3]))
				continue;
			return code_lookup(orange_codes, ARRAY_SIZE(orange_codes),
					   (char[]){ d[0], d[1], d[2], 0 });
		}
	}
	return NULL;
}

/* Cox and Spectrum: "AUP#" and a code; Cox's are names, Spectrum's end
 * in four digits. */
static const char *aup(const char *diag)
{
	const char *p = strstr(diag, "AUP#");
	char code[16];
	size_t n = 0;

	if (!p)
		return NULL;
	p += 4;
	while (n + 1 < sizeof(code) && (isalnum((unsigned char)p[n]) || p[n] == '-'))
		n++;
	if (!n || isalnum((unsigned char)p[n]) || p[n] == '-')
		return NULL;
	memcpy(code, p, n);
	code[n] = '\0';
	if (code_lookup(cox_codes, ARRAY_SIZE(cox_codes), code))
		return code_lookup(cox_codes, ARRAY_SIZE(cox_codes), code);
	if (n >= 4 && isdigit((unsigned char)code[n - 4]) &&
	    strspn(code + n - 4, "0123456789") == 4 &&
	    strspn(code, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-") == n - 4) {
		int v = atoi(code + n - 4);

		for (size_t i = 0; i < ARRAY_SIZE(spectrum_ranges); i++)
			if (v >= spectrum_ranges[i].lo && v <= spectrum_ranges[i].hi)
				return spectrum_ranges[i].reason;
	}
	return NULL;
}

/* Does diag hold "[code]" (code: lower case, without the brackets), in
 * any case?  The same as strcasestr() of "[code]", but a bracket is rare
 * in a reply: a search for it is most of the work. */
static int has_bracketed(const char *diag, const char *code)
{
	const size_t n = strlen(code);

	for (const char *p = diag; (p = strchr(p, '[')) != NULL; p++)
		if (!strncasecmp(p + 1, code, n) && p[n + 1] == ']')
			return 1;
	return 0;
}

/* GoDaddy: a blank, "IB" and three digits. */
static const char *godaddy(const char *diag)
{
	for (const char *p = diag; (p = strstr(p, " IB")) != NULL; p++) {
		const char *d = p + 3;

		if (isdigit((unsigned char)d[0]) && isdigit((unsigned char)d[1]) &&
		    isdigit((unsigned char)d[2]) && !isalnum((unsigned char)d[3]))
			return code_lookup(godaddy_codes, ARRAY_SIZE(godaddy_codes),
					   (char[]){ 'I', 'B', d[0], d[1], d[2], 0 });
	}
	return NULL;
}

static const char *mimecast(const char *diag, const char *reply)
{
	int rc = reply && reply[0] ? atoi(reply) : 0;

	for (size_t i = 0; rc && i < ARRAY_SIZE(mimecast_replies); i++)
		if (rc == mimecast_replies[i].reply && strcasestr(diag, mimecast_replies[i].text))
			return mimecast_replies[i].reason;
	return NULL;
}

/* NTT docomo answers "550 Unknown user" to everything it refuses: the
 * status and the command tell what it meant. */
static const char *docomo(const struct rhost_in *in)
{
	const char *st = in->status ? in->status : "";

	if (!strcmp(st, "5.1.1") || !strcmp(st, "5.0.911"))
		return "userunknown";
	if (!strcmp(st, "5.2.0"))
		return "filtered";
	if (strcasestr(in->diag, "552 too much mail data"))
		return "mailboxfull";
	if (strcasestr(in->diag, "552 too many recipients"))
		return "toomanyconn";
	if (strcasestr(in->diag, "503 bad sequence of commands") ||
	    strcasestr(in->diag, "504 command parameter not implemented"))
		return "syntaxerror";
	if (!strcmp(st, "5.0.0") && in->command && !strcmp(in->command, "RCPT"))
		return "userunknown";
	if (!strcmp(st, "5.0.0") && in->command && !strcmp(in->command, "DATA"))
		return "rejected";
	return NULL;
}

/* Yahoo gives [TSS04] also for addresses that do not exist: sisimai
 * reads it as a refusal of the sender, not a reputation verdict.  Yahoo
 * checks recipients after DATA: its "delivery error: dd This user doesn't
 * have a ... account" is a missing mailbox, not a content filter. */
static const char *yahoo(const char *diag)
{
	if (has_bracketed(diag, "tss04"))
		return "rejected";
	if (strcasestr(diag, "delivery error: dd this user doesn't have a"))
		return "userunknown";
	return NULL;
}

const char *rhost_reason(const struct rhost_in *in)
{
	const char *r, *host = in->rhost ? in->rhost : "";
	const size_t hl = strlen(host);

	if (!in->diag || !in->diag[0])
		return NULL;
	if ((r = orange(in->diag)) != NULL || (r = aup(in->diag)) != NULL)
		return r;
	/* Yahoo's "[TSS09] All messages from IP will be permanently
	 * deferred; Retrying will NOT succeed": the sending address is
	 * refused, whatever the 4xx (a code of Yahoo's own shape, read from
	 * any relay's report) */
	if (has_bracketed(in->diag, "tss09"))
		return "blocked";
	/* the rest is by the host's family: no host, no family */
	if (!hl)
		return NULL;
	if (host_in(host, hl, "secureserver.net"))
		return godaddy(in->diag);
	if (host_in(host, hl, "mimecast.com"))
		return mimecast(in->diag, in->reply);
	if (host_in(host, hl, "docomo.ne.jp"))
		return docomo(in);
	if (host_in(host, hl, "yahoodns.net") || host_in(host, hl, "yahoo.com"))
		return yahoo(in->diag);
	return NULL;
}
