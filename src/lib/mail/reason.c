/*
 * reason.c - bounce reasons from status codes and reply texts; see
 * reason.h.
 *
 * The vocabulary (reason names, the status-code table, the internal
 * "5.0.9xx" codes) is sisimai's, so that readings can be compared with
 * that well-known reference; the phrase lists are what MTAs and mail
 * providers actually answer, gathered per reason.  sisimai is
 * Copyright (C) 2014 azumakuniyuki, BSD 2-Clause licence (see
 * tests/corpus/sisimai/LICENSE).
 *
 * Pattern syntax: lower-case text; '*' stands for one word (a run of
 * non-blank characters); a leading '^' anchors at the start of the text.
 *
 * SECURITY: untrusted text, lower-cased into a bounded buffer first.
 */
#include "mail/reason.h"
#include "base/util.h"

#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEXT_MAX 4096

/* The phrase lists, numbered: a text's matches are a bit per list. */
enum {
	L_mailboxfull,
	L_mesgtoobig,
	L_exceedlimit,
	L_suspend,
	L_hasmoved,
	L_norelaying,
	L_authfailure,
	L_userunknown,
	L_filtered,
	L_requireptr,
	L_notcompliantrfc,
	L_badreputation,
	L_rejected,
	L_hostunknown,
	L_spamdetected,
	L_speeding,
	L_toomanyconn,
	L_blocked,
	L_policyviolation,
	L_virusdetected,
	L_securityerror,
	L_systemerror,
	L_networkerror,
	L_expired,
	L_contenterror,
	L_systemfull,
	L_notaccept,
	L_nomx,
	L_mailererror,
	L_failedstarttls,
	L_syntaxerror,
	L_vacation,
	L_refused,		/* the recipient's own refusal (Japanese carriers) */
	L_COUNT
};

struct rule {
	const char *reason;
	int list;		/* L_* */
};

static const char *const p_mailboxfull[] = {
	"mailbox full", "mailbox is full", "mailbox quota", "mailbox size limit",
	"mailbox exceeded", "mailbox has exceeded", "mailbox would exceed",
	"over quota", "over the quota", "overquota", "quota exceeded",
	"exceeded storage", "quota violation", "disk quota", "disc quota",
	"box space not enough",
	"quota usage exceeded", "exceeds * quota", "exceeding * quota",
	"exceeding their quota", "full mailbox", "mailfolder is full",
	"not enough storage", "insufficient storage", "does not have enough space",
	"too much mail data", "user has too many messages", "boite du destinataire pleine",
	"mail file size exceeds the maximum size allowed for mail delivery",
	"recipient reached disk quota", "maildir over quota", "over its quota",
	"account is full", "inbox is full", "mailbox is over",
	"user's mailbox is full", "is over disk quota", "mailbox_full",
	"user over quota", "storage quota", "exceeds its mailbox quota",
	"exceeded its storage", "the user has exceeded", "mailbox exceeds allowed size",
	"over the allowed quota", "has exceeded quota", NULL };
static const char *const p_mesgtoobig[] = {
	"message too big", "message too large", "message is too big",
	"message is too large", "message size exceeds", "message file too big",
	"message length exceeds", "max message size", "maximum message size",
	"exceeded maximum inbound message size", "size limit", "mail size",
	"exceeds size limit", "taille limite du message atteinte",
	"message exceeds the maximum", "line limit exceeded", "maximum incoming message size",
	NULL };
static const char *const p_exceedlimit[] = {
	"message header size exceeds limit", "exceeds the local limit",
	"recipient list exceeds", "too many received headers", NULL };
static const char *const p_suspend[] = {
	"is currently suspended", "has been suspended", "account suspended",
	"user suspended", "mailbox currently suspended", "temporary locked",
	"temporarily locked", "mailbox is frozen", "account is disabled",
	"account has been disabled", "account disabled", "mailbox is disabled",
	"mailbox disabled", "this mailbox is disabled",
	"email account that you tried to reach is disabled",
	"is a deactivated mailbox", "deactivated", "invalid/inactive user",
	"inactive user", "recipient suspend the service",
	"boite du destinataire archivee", "account is locked",
	"account has been locked", "temporarily inactive",
	"disabled or discontinued", "mailbox unavailable or access denied",
	"account is inactive", "is inactive", "has been deactivated",
	"account is temporarily limited", NULL };
static const char *const p_hasmoved[] = {
	" has been replaced by ", "has moved", "no longer at this address",
	"address has changed", NULL };
static const char *const p_norelaying[] = {
	"relay access denied", "relaying denied", "relay denied", "no relaying",
	"relay not permitted", "relaying not allowed", "not allowed to relay",
	"unable to relay", "we do not relay", "not permitted to relay",
	"insecure mail relay", "as a relay", "relaying mail to ",
	"not configured to relay", "open relay", "not a gateway",
	"allowed rcpthosts",
	"not local host", "relay prohibited", "relaying prohibited",
	"requires authentication when attempting to send to a non-local", NULL };
static const char *const p_authfailure[] = {
	"spf fail", "spf check failed", "spf check: fail", "spf validation",
	"spf: ", "bad spf records", "does not designate", "sender policy framework",
	"not allowed to send mail from", "per it's spf record",
	"is not allowed to send from", "dmarc", "authentication checks",
	"domain authentication fail", "sender authentication",
	"unauthenticated email", "dkim verification", "dkim check", "dkim fail",
	"dkim=fail", "dkim signature verification", NULL };
static const char *const p_userunknown[] = {
	"user unknown", "unknown user", "unknown recipient", "recipient unknown",
	"unknown mailbox", "unknown local part", "unknown local-part",
	"unknown e-mail address", "unknown email address", "unknown address",
	"no such user", "no such mailbox", "no such recipient", "no such address",
	"no such person", "no such local user", "no mailbox", "no account by that name",
	"does not exist", "doesn't exist", "user not exist", "address invalid",
	"invalid recipient", "invalid mailbox", "invalid address", "invalid user",
	"bad recipient", "bad-recipient", "bad_recipient", "bad destination mailbox",
	"bad address", "recipient not found", "user not found", "mailbox not found",
	"address not found", "not found in directory", "address unknown",
	"mailbox unavailable", "mailbox is unavailable", "mailbox not available",
	"recipient address rejected: user", "recipient address rejected: invalid",
	"recipient address rejected: unknown", "recipient address rejected: access denied",
	"recipient address rejected: user", "recipient address rejected: invalid",
	"recipient not ok", "is not a valid mailbox",
	"not a valid recipient", "not a valid user", "not a known user",
	"no valid recipients", "recipient address rejected.",
	"user doesn't have a", "user does not have a", "this user doesn't have",
	"there is no one at this address", "no one by that name",
	"account * does not exist", "email account that you tried to reach does not exist",
	"address no longer accepts mail", "not a local address", "is not local",
	"rejected: account unavailable", "archived recipient", "non-existent user",
	"nonexistent user", "non existent user", "sorry, user unknown", "badrcptto",
	"no mailbox here by that name", "envelope recipient has been denied",
	"in my validrcptto list", "in my badrecipientto list",
	"resolver.adr.recipnotfound", "recipnotfound", "recipient does not exist",
	"recipientnotfound",
	"destination addresses were unknown", "addressee unknown", "unknown or illegal alias",
	"the following recipients was undeliverable", "user's email name is not found",
	"mailbox * does not exist", "user * not found", "user * does not exist",
	"no such user here", "user not exist", "not our customer", "no existe",
	"unknown to address", "rcpt * does not exist", "recipient is not local",
	"mailbox does not exist", "nessun utente", "utilisateur inconnu",
	"adresse d au moins un destinataire invalide", "invalid mailbox path",
	"is not an active address", "no such account", "account unavailable",
	"not listed in domino directory",
	"not listed in public name & address book", "recipient name is not recognized",
	"no mail box", "user is unknown", "recipient is unknown", "mailbox is unknown",
	"no such e-mail address", "address you entered couldn't be found",
	/* IMail's "Invalid final delivery userid", a directory gateway's
	 * "does not have a final email delivery point", Exim's local "User
	 * not known", and the French of "does not exist" */
	"invalid final delivery userid", "final email delivery point", "user not known",
	"address is wrong or no longer valid", "n'existe pas", NULL };
static const char *const p_filtered[] = {
	"user reject", "refused due to recipient preferences",
	"only accepting mail from specific", "is not accepting any mail",
	"message rejected due to user rules", "you have been blocked by the recipient",
	"has restricted sms e-mail", "this account is protected by",
	"resolver.rst.notauthorized", "not found recipient account",
	"recipient id refuse to receive mail", "bounced address",
	"due to extended inactivity new mail is not currently being accepted",
	"rejected by recipient", "recipient has blocked", "message filtered", NULL };
static const char *const p_requireptr[] = {
	"ptr record", "reverse dns", "reverse lookup", "rdns", "reverse-dns",
	"no ptr", "cannot find your hostname", "cannot resolve your address",
	"can't resolve your address", "ip name lookup failed",
	"hostname does not match", "fix reverse dns", "with no reverse dns",
	"dynamic ip", "generic dns ptr", "dns ptr", "looks like a dynamic",
	"fcrdns", "reverse name", "client host rejected: cannot find your",
	"your hostname", "unverifyable sending ip", "unverifiable sending ip",
	"mismatches client ip", NULL };
static const char *const p_notcompliantrfc[] = {
	"rfc 5322", "rfc5322", "rfc 2822", "rfc2822", "rfc-5322", "not rfc",
	"multiple addresses in from", "duplicate header", "message is not rfc",
	"not compliant with rfc", "has multiple from", "header is missing",
	"missing message-id", "bare lf", "bare linefeed", NULL };
static const char *const p_badreputation[] = {
	"poor reputation", "poor email reputation", "low reputation",
	"bad reputation", "reputation problem", "ip/domain reputation",
	"sender reputation", "reputation score", "domain reputation",
	"reputation is too low", "limited due to ip reputation",
	"temporarily rate limited due to ip reputation",
	"temporarily deferred due to unexpected volume or user complaints",
	"due to user complaints", NULL };
static const char *const p_rejected[] = {
	"sender rejected", "sender address rejected", "invalid sender",
	"sender verify failed", "sender verification", "sender is spammer",
	"sender not pre-approved", "sender domain is empty", "domain of sender address",
	"unroutable sender address", "null sender is not allowed",
	"empty envelope senders not allowed", "bogus mail from",
	"mail from not owned by user", "administrative prohibition",
	"batv", "backscatter", "no third-party dsns", "unsigned dsn",
	"returned mail not accepted here", "invalid domain, see",
	"fully qualified email address required", "sender email address rejected",
	"sender address has been blacklisted", "sender is in my black list",
	"you are not allowed to post to this mailing list",
	"from: domain is invalid", "email address is not verified",
	"this server does not accept mail from", "emetteur invalide",
	"envelope blocked", "access denied (in reply to mail from",
	"delivery not authorized, message refused", "is not a registered gateway user",
	"rejected by senderfilter", "senderfilterconfig", "sender denied",
	"sender address is not", "sender not allowed", "not allowed to post",
	"isn't allowed to send", "sending to/from an address that has been blacklisted",
	"can't determine purported responsible address", "does not exist e2110",
	"domain is invalid", "'send mail as'", "recipient addresses rejected : access denied",
	"without a valid sender domain", "denied [bouncedeny]", "valid-address-filter",
	"your access to submit messages", NULL };
static const char *const p_hostunknown[] = {
	"host unknown", "unknown host", "host or domain name not found",
	"domain does not exist", "no such domain", "domain not found",
	"domain must exist", "domain is not reachable", "unrouteable mail domain",
	"name or service not known", "recipient domain must exist",
	"unknown domain", "unrouteable address", "unroutable address", "mail domain mentioned in email address is unknown",
	"the account or domain may not exist", "host not found",
	"domain name not found", "dns lookup failure",
	"could not be found", "domain lookup failed", "domain * does not exist",
	"domain * not found", "domaine * n'existe pas", "domaine n'existe pas", NULL };
static const char *const p_spamdetected[] = {
	"spam detected", "spam content", "as spam", "is spam", "spam message",
	"spam score", "spamassassin", "spam filter", "spam policy", "likely spam",
	"considered spam", "spam rejected", "spam email", "spam blocked",
	"spam refused", "identified as spam", "spam-like", "spam classification",
	"- spam", "spam check", "spam not accepted", "spam reporting",
	"spam exceeded", "spamming", "sending spam", "spam mail", "spam (",
	"blocked for spam", "spam]", "incident de spam",
	"unsolicited", "bulk mail", "bulk email", "content filter",
	"message content rejected", "rejecting banned content", "banned content",
	"message filtered", "blacklisted url", "high probability of",
	"appears to be unsolicited", "detected as", "looks like",
	"considered as junk", "junk mail", "probable spam",
	"mail content denied", "greylisted", "message refused by",
	"message rejected as", "rejected due to suspected", "suspicious",
	"spam list", "spam block", "(spam)", "be spam", "spam rejection", "mass mailer",
	NULL };
static const char *const p_speeding[] = {
	"rate limit", "rate-limit", "ratelimit", "rate limited",
	"sending rate", "too many messages", "too many emails",
	"sending too fast", "message submission rate", "exceeded the max emails",
	"receiving mail at a rate", "unusual rate", "throttl",
	"sent to too many recipients", NULL };
static const char *const p_toomanyconn[] = {
	"too many connections", "too many concurrent", "connection rate limit",
	"connection limit", "too many smtp sessions", "too many sessions",
	"maximum connection limit", "too many errors from your ip",
	"trop de connexions", "too many simultaneous", "frequency limited",
	"too many recipients",
	"exceeds per-domain connection", NULL };
static const char *const p_blocked[] = {
	"blocked using", "blocked by", "ip blocked", "is blocked", "blocked for",
	"been blocked", "host blocked", "address blocked", "blocked -", "blocked.",
	"blocked ip", "[bl]", "blacklist", "black list", "blocklist", "block list",
	"denylist", "listed in", "listed on", "listed at", "is listed", "dnsbl", " rbl", "rbl:", "rbl ", "spamhaus", "spamcop",
	"barracuda", "sorbs", "uceprotect", "abuseat", "not allowed to connect",
	"refused to talk to me", "go away", "banned",
	"connection refused", "connection dropped", "connection reset",
	"not currently accepting mail from your ip", "not accepting connections",
	"access from ip address", "client host rejected", "helo command rejected",
	"ip address rejected", "sender ip", "your ip", "network is on our",
	"host network not allowed", "please use the smtp server of your isp",
	"use your isp", "dynamic", "dial-up", "dialup", "residential",
	"zombie", "extreme bad ip", "abusive", "confirm this mail server",
	"sending ip", "rejected because the sending mta",
	"not authorized to send", "service not available, closing transmission",
	"smtp error from remote mail server after initial connection",
	"esmtp not accepting connections", "ips with missing ptr",
	"invalid ip for sending", "has been temporarily blocked",
	"too many unwanted messages", "messages from * weren't sent",
	"not accepted from this ip", NULL };
static const char *const p_policyviolation[] = {
	"policy violation", "policy reasons", "local policy", "denied by policy",
	"organization policy", "organizational settings", "security policies",
	"members-only list", "closed mailing list", "not subscribed to this group",
	"illegal attachment", "multiple addresses", "protocol violation",
	"header error", "header are not accepted", "low priority",
	"message bounced due to", "not accepted for policy", "policy rejection",
	"prohibited attachment", "attachments are not allowed",
	"solving a captcha", "content presents a potential", "policy",
	"we do not accept messages containing", NULL };
static const char *const p_virusdetected[] = {
	"virus", "malware", "infected", "potentially executable attachment",
	"executable attachment", NULL };
static const char *const p_securityerror[] = {
	"authentication required", "authentication failure",
	"authentication credentials invalid", "authentication failed",
	"authentication is required", "not authorized to perform ses:",
	"account not subscribed to ses", "unauthenticated senders not allowed",
	"verification failure", "tls required", "must issue a starttls",
	"encryption required", "insecure mail relay", "dead domain",
	"executable files are not allowed in compressed files",
	"you don't authenticate", "you dont authenticate",
	"authentification requise", "authentification invalide",
	"turn on smtp authentication", NULL };
static const char *const p_systemerror[] = {
	"local configuration error", "local error in processing",
	"temporary local problem", "system config error",
	"server configuration error", "mail system configuration error",
	"remote server is misconfigured", "internal error", "internal server error",
	"queue file write error", "interrupted system call",
	"mail loop", "loops back to myself", "forwarding loop", "loop was found",
	"timeout waiting for input", "could not load drd",
	"error while being processed", "service currently unavailable",
	"transaction failed", "system error", "server error",
	"aliasing/forwarding loop", NULL };
static const char *const p_networkerror[] = {
	"no route to host", "host is unreachable", "host unreachable",
	"network is unreachable", "host name lookup failure",
	"malformed name server reply", "malformed or unexpected name server",
	"unable to resolve route", "could not connect",
	"name server timeout", "dns records for the destination computer",
	"message looping", "mail forwarding loop", "maximum forwarding loop",
	"too many hops", "hop count exceeded", "routing loop",
	"wasn't able to establish an smtp connection",
	"message probably in a routing loop", "lost connection",
	"connection closed", "temporary dns", "dns error",
	"host not found, try again",
	"lookup of * responded with code", NULL };
static const char *const p_expired[] = {
	"delivery time expired", "message expired", "expired after",
	"retry timeout exceeded", "retry time not reached", "giving up on",
	"too long in the queue", "in the queue too long", "been in the queue",
	"queue too long", "could not be delivered for more than",
	"delivery attempts will continue", "has been delayed", "not yet been delivered",
	"message timed out", "timeout exceeded", "have been failing for a long time",
	"unable to deliver message after multiple retries",
	"was not reachable within the allowed queue period", "server did not respond",
	"it has not been collected after", "failed to deliver to domain",
	"could not find a gateway for", "delivery expired", "still undelivered",
	"will retry", "retrying", "is delayed", "deferred", "queue period",
	"delivery attempts", "temporarily deferred", "connection timed out",
	"could not deliver for the last", "retried for",
	"did not accept our requests to connect", "unable to connect successfully",
	"failed * attempts", "not delivered within",
	NULL };
static const char *const p_contenterror[] = {
	"header size exceeds", "improper use of 8-bit data", "8bit data",
	"mime complexity", "invalid mime", "improperly-formatted binary",
	"unnecessary base64", "content error", "contains invalid characters",
	"message header size", "routing loop detected -- too many received", NULL };
static const char *const p_systemfull[] = {
	"mail system full", "exceeded storage allocation", "system full",
	"insufficient system storage", "out of disk", "no space left",
	"insufficient disk space", NULL };
static const char *const p_notaccept[] = {
	"does not accept mail", "null mx", "nullmx", "host does not accept",
	"host/domain does not accept mail", "no mx record found for domain",
	"no route for current request", "name server: .: host not found",
	"smtp protocol returned a permanent error", "not accepting mail",
	"accepts no mail", "doesn't receive email", "does not receive email",
	"no smtp service", NULL };
/* no mail exchanger for the domain at all (qmail's words) */
static const char *const p_nomx[] = {
	"couldn't find a mail exchanger", "could not find a mail exchanger", NULL };
static const char *const p_mailererror[] = {
	"^procmail:", "bin/procmail", "bin/maildrop", "command failed:",
	"command died with status", "command output:", "exit ", "mailer error",
	"pipe to |", "x-unix; ", "local delivery failed", NULL };
static const char *const p_failedstarttls[] = {
	"starttls failed", "failed starttls", "starttls negotiation",
	"tls negotiation failed", "tls handshake", "ssl handshake",
	"does not support tls", "does not support starttls",
	"certificate verification failed", NULL };
static const char *const p_syntaxerror[] = {
	"syntax error", "malformed address", "command unrecognized", "command not recognized",
	"unrecognized command", "line too long", "bad command", "invalid command",
	"bad sequence of commands", NULL };
static const char *const p_vacation[] = {
	"i am away on vacation", "i am away until", "i am out of the office",
	"i will be traveling for work", "out of office", "out of the office",
	"on vacation", "on holiday", "away from the office", "away from my desk",
	"auto-reply", "autoreply", "automatic reply", NULL };

/* Text rules, first match wins; the order is the priority. */
static const struct rule first_pass[] = {
	{ "mailboxfull", L_mailboxfull }, { "mesgtoobig", L_mesgtoobig },
	{ "exceedlimit", L_exceedlimit }, { "suspend", L_suspend },
	{ "hasmoved", L_hasmoved }, { "norelaying", L_norelaying },
	{ "authfailure", L_authfailure }, { "filtered", L_refused },
	{ "userunknown", L_userunknown },
	{ "filtered", L_filtered }, { "requireptr", L_requireptr },
	{ "notcompliantrfc", L_notcompliantrfc },
	{ "badreputation", L_badreputation }, { "rejected", L_rejected },
	{ "hostunknown", L_hostunknown }, { "spamdetected", L_spamdetected },
	{ "speeding", L_speeding }, { "toomanyconn", L_toomanyconn },
	{ "blocked", L_blocked },
};
static const struct rule second_pass[] = {
	{ "mailboxfull", L_mailboxfull }, { "virusdetected", L_virusdetected },
	{ "policyviolation", L_policyviolation }, { "norelaying", L_norelaying },
	{ "failedstarttls", L_failedstarttls }, { "securityerror", L_securityerror },
	{ "systemerror", L_systemerror }, { "notaccept", L_notaccept },
	{ "networkerror", L_networkerror }, { "suspend", L_suspend },
	{ "expired", L_expired }, { "contenterror", L_contenterror },
	{ "systemfull", L_systemfull }, { "mailererror", L_mailererror },
	{ "syntaxerror", L_syntaxerror },
};

/* The lists by number. */
static const char *const *const lists[L_COUNT] = {
	[L_mailboxfull] = p_mailboxfull,
	[L_mesgtoobig] = p_mesgtoobig,
	[L_exceedlimit] = p_exceedlimit,
	[L_suspend] = p_suspend,
	[L_hasmoved] = p_hasmoved,
	[L_norelaying] = p_norelaying,
	[L_authfailure] = p_authfailure,
	[L_userunknown] = p_userunknown,
	[L_filtered] = p_filtered,
	[L_requireptr] = p_requireptr,
	[L_notcompliantrfc] = p_notcompliantrfc,
	[L_badreputation] = p_badreputation,
	[L_rejected] = p_rejected,
	[L_hostunknown] = p_hostunknown,
	[L_spamdetected] = p_spamdetected,
	[L_speeding] = p_speeding,
	[L_toomanyconn] = p_toomanyconn,
	[L_blocked] = p_blocked,
	[L_policyviolation] = p_policyviolation,
	[L_virusdetected] = p_virusdetected,
	[L_securityerror] = p_securityerror,
	[L_systemerror] = p_systemerror,
	[L_networkerror] = p_networkerror,
	[L_expired] = p_expired,
	[L_contenterror] = p_contenterror,
	[L_systemfull] = p_systemfull,
	[L_notaccept] = p_notaccept,
	[L_nomx] = p_nomx,
	[L_mailererror] = p_mailererror,
	[L_failedstarttls] = p_failedstarttls,
	[L_syntaxerror] = p_syntaxerror,
	[L_vacation] = p_vacation,
	[L_refused] = NULL,	/* Japanese only: ja_lists */
};

/*
 * Japanese ISPs and mobile carriers (docomo, au/KDDI, SoftBank, nifty,
 * OCN, So-net, BIGLOBE, ...) explain a bounce in Japanese, often with no
 * SMTP code at all.  The text is matched after MIME and charset decoding
 * (ISO-2022-JP, Shift_JIS, EUC-JP all arrive here as UTF-8), so these are
 * UTF-8 phrases; the matcher compares bytes, and a UTF-8 pattern can only
 * match at the start of a character.  Both spellings of the long vowel
 * ("ユーザー", "ユーザ") are listed; no phrase is a bare word that other
 * messages use ("存在しません" alone would take "ドメインが存在しません").
 */
static const char *const ja_userunknown[] = {
	"ユーザー不明", "ユーザ不明", "宛先不明", "あて先不明", "受取人不明",
	"アドレスは存在しません", "アドレスが存在しません", "宛先は存在しません",
	"宛先が存在しません", "ユーザーは存在しません", "ユーザーが存在しません",
	"ユーザは存在しません", "ユーザが存在しません", "アカウントは存在しません",
	"アカウントが存在しません", "受信者が存在しません", "存在しないユーザ",
	"存在しないメールアドレス", "存在しないアドレス", "存在しない宛先",
	"ユーザーが見つかりません", "ユーザが見つかりません", "宛先が見つかりません",
	"アドレスが見つかりません", "アドレスは登録されていません",
	"アドレスが登録されていません", "現在使われておりません", "現在使われていません",
	"無効なメールアドレス", "無効な宛先",
	/* half-width katakana (JIS X 0201), as older Shift_JIS notices write */
	"ﾕｰｻﾞｰ不明", "ﾕｰｻﾞ不明", "ｱﾄﾞﾚｽは存在しません", "ｱﾄﾞﾚｽが存在しません", NULL };
static const char *const ja_mailboxfull[] = {
	"メールボックスが一杯", "メールボックスがいっぱい", "メールボックスが満杯",
	"メールボックスの容量", "メールボックス容量", "容量オーバー", "容量超過",
	"容量を超過", "容量制限を超え", "容量の上限を超え", "容量が不足", "容量不足",
	"空き容量がありません", "保存容量を超え", "ディスク容量",
	"ﾒｰﾙﾎﾞｯｸｽが一杯", "ﾒｰﾙﾎﾞｯｸｽがいっぱい", "容量ｵｰﾊﾞｰ", NULL };
static const char *const ja_mesgtoobig[] = {
	"サイズが大きすぎ", "サイズが大き過ぎ", "サイズ超過", "サイズオーバー",
	"サイズが上限を超え", "サイズの上限を超え", "サイズ制限を超え",
	"サイズが制限を超え", "容量が大きすぎ", "メールが大きすぎ",
	"添付ファイルが大きすぎ", "ｻｲｽﾞが大きすぎ", "ｻｲｽﾞ超過", NULL };
static const char *const ja_suspend[] = {
	"利用停止", "アカウントが停止", "アカウントは停止", "アカウントが無効",
	"アカウントは無効", "休止中", NULL };
static const char *const ja_hostunknown[] = {
	"ホスト不明", "ホストが見つかりません", "ホストが存在しません",
	"ホスト名が見つかりません", "ドメイン不明", "ドメインが存在しません",
	"ドメインは存在しません", "ドメイン名が存在しません", "ドメインが見つかりません",
	"ドメイン名が見つかりません", "存在しないドメイン", "ﾎｽﾄ不明", "ﾄﾞﾒｲﾝが存在しません",
	NULL };
static const char *const ja_rejected[] = {
	"差出人アドレスが不正", "送信者アドレスが不正", "送信元アドレスが不正",
	"差出人アドレスが拒否", "送信者アドレスが拒否", NULL };
static const char *const ja_spamdetected[] = {
	"迷惑メールと判定", "迷惑メールと判断", "迷惑メールとして", "スパムと判定",
	"スパムと判断", NULL };
static const char *const ja_blocked[] = {
	"接続を拒否", "送信元ipアドレス", "ブラックリスト", "ブロックリスト", NULL };
static const char *const ja_norelaying[] = {
	"中継を拒否", "中継は許可", "中継が許可", "リレーを拒否", "中継できません", NULL };
static const char *const ja_expired[] = {
	"配送期限", "配信期限", "再送期限", "期限を過ぎ", "期限切れ", NULL };
static const char *const ja_networkerror[] = {
	"接続できません", "応答がありません", NULL };
static const char *const ja_systemerror[] = {
	"システムエラー", "内部エラー", "サーバーエラー", "システム障害", NULL };
/* the recipient's own settings refuse the sender: a carrier's "受信拒否"
 * (reception refused) and its mail filters; the recipient's filter,
 * whatever the stage */
static const char *const ja_refused[] = {
	"受信拒否", "受信を拒否", "拒否設定", "迷惑メール設定", "指定受信",
	"受け取りを拒否", "受信が許可されていません", "受信許可されていない", NULL };

static const char *const *const ja_lists[L_COUNT] = {
	[L_userunknown] = ja_userunknown,
	[L_mailboxfull] = ja_mailboxfull,
	[L_mesgtoobig] = ja_mesgtoobig,
	[L_suspend] = ja_suspend,
	[L_hostunknown] = ja_hostunknown,
	[L_rejected] = ja_rejected,
	[L_spamdetected] = ja_spamdetected,
	[L_blocked] = ja_blocked,
	[L_norelaying] = ja_norelaying,
	[L_expired] = ja_expired,
	[L_networkerror] = ja_networkerror,
	[L_systemerror] = ja_systemerror,
	[L_refused] = ja_refused,
};

struct status_reason {
	const char *code, *reason;
};

static const struct status_reason status_table[] = {
	{ "4.1.6", "hasmoved" }, { "4.1.7", "rejected" }, { "4.1.8", "rejected" },
	{ "4.1.9", "systemerror" }, { "4.2.1", "suspend" },
	{ "4.2.2", "mailboxfull" }, { "4.2.3", "exceedlimit" },
	{ "4.2.4", "filtered" }, { "4.3.1", "systemfull" },
	{ "4.3.2", "notaccept" }, { "4.3.3", "systemerror" },
	{ "4.3.4", "mesgtoobig" }, { "4.3.5", "systemerror" },
	{ "4.4.1", "expired" }, { "4.4.2", "networkerror" },
	{ "4.4.4", "networkerror" }, { "4.4.5", "systemfull" },
	{ "4.4.6", "networkerror" }, { "4.4.7", "expired" },
	{ "4.5.3", "systemerror" }, { "4.5.5", "systemerror" },
	{ "4.6.0", "contenterror" }, { "4.6.2", "contenterror" },
	{ "4.6.5", "contenterror" }, { "4.7.1", "blocked" },
	{ "4.7.2", "blocked" }, { "4.7.5", "securityerror" },
	{ "4.7.6", "securityerror" }, { "4.7.7", "securityerror" },
	{ "4.7.12", "securityerror" }, { "4.7.15", "securityerror" },
	{ "4.7.16", "mesgtoobig" }, { "4.7.24", "authfailure" },
	{ "4.7.25", "requireptr" }, { "4.7.26", "authfailure" },
	{ "5.1.0", "userunknown" }, { "5.1.1", "userunknown" },
	{ "5.1.2", "hostunknown" }, { "5.1.3", "userunknown" },
	{ "5.1.4", "filtered" }, { "5.1.6", "hasmoved" },
	{ "5.1.7", "rejected" }, { "5.1.8", "rejected" },
	{ "5.1.9", "systemerror" }, { "5.1.10", "notaccept" },
	{ "5.2.0", "filtered" }, { "5.2.1", "filtered" },
	{ "5.2.2", "mailboxfull" }, { "5.2.3", "exceedlimit" },
	{ "5.2.4", "filtered" }, { "5.3.0", "systemerror" },
	{ "5.3.1", "systemfull" }, { "5.3.2", "notaccept" },
	{ "5.3.3", "systemerror" }, { "5.3.4", "mesgtoobig" },
	{ "5.3.5", "systemerror" }, { "5.4.0", "networkerror" },
	{ "5.4.3", "systemerror" }, { "5.4.4", "hostunknown" },
	{ "5.4.2", "networkerror" }, { "5.4.6", "networkerror" },
	{ "5.4.7", "expired" },
	{ "5.5.3", "toomanyconn" }, { "5.5.4", "systemerror" },
	{ "5.5.5", "systemerror" }, { "5.5.6", "securityerror" },
	{ "5.6.0", "contenterror" }, { "5.6.1", "contenterror" },
	{ "5.6.2", "contenterror" }, { "5.6.3", "contenterror" },
	{ "5.6.5", "contenterror" }, { "5.6.6", "contenterror" },
	{ "5.6.7", "contenterror" }, { "5.6.8", "contenterror" },
	{ "5.6.9", "contenterror" }, { "5.7.0", "securityerror" },
	{ "5.7.1", "securityerror" }, { "5.7.2", "securityerror" },
	{ "5.7.3", "securityerror" }, { "5.7.4", "securityerror" },
	{ "5.7.5", "securityerror" }, { "5.7.6", "securityerror" },
	{ "5.7.7", "securityerror" }, { "5.7.8", "securityerror" },
	{ "5.7.9", "securityerror" }, { "5.7.10", "securityerror" },
	{ "5.7.11", "securityerror" }, { "5.7.13", "suspend" },
	{ "5.7.14", "securityerror" }, { "5.7.15", "securityerror" },
	{ "5.7.16", "mesgtoobig" }, { "5.7.17", "hasmoved" },
	{ "5.7.18", "hasmoved" }, { "5.7.19", "securityerror" },
	{ "5.7.20", "authfailure" }, { "5.7.21", "authfailure" },
	{ "5.7.22", "authfailure" }, { "5.7.23", "authfailure" },
	{ "5.7.24", "authfailure" }, { "5.7.25", "requireptr" },
	{ "5.7.26", "authfailure" }, { "5.7.27", "notaccept" },
	/* X.7.28, "mail flood detected" (IANA's registry): a rate limit */
	{ "4.7.28", "speeding" }, { "5.7.28", "speeding" },
};

static const struct { const char *reason, *code; } pseudo_table[] = {
	{ "authfailure", "5.0.911" }, { "badreputation", "5.0.972" },
	{ "blocked", "5.0.971" }, { "contenterror", "5.0.960" },
	{ "exceedlimit", "5.0.923" }, { "expired", "5.0.947" },
	{ "failedstarttls", "5.0.976" }, { "filtered", "5.0.910" },
	{ "hasmoved", "5.0.916" }, { "hostunknown", "5.0.912" },
	{ "mailboxfull", "5.0.922" }, { "mailererror", "5.0.939" },
	{ "mesgtoobig", "5.0.934" }, { "networkerror", "5.0.944" },
	{ "norelaying", "5.0.909" }, { "notaccept", "5.0.932" },
	{ "notcompliantrfc", "5.0.900" }, { "onhold", "5.0.901" },
	{ "policyviolation", "5.0.972" }, { "rejected", "5.0.918" },
	{ "requireptr", "5.0.973" }, { "securityerror", "5.0.970" },
	{ "spamdetected", "5.0.980" }, { "speeding", "5.0.946" },
	{ "suspend", "5.0.921" }, { "syntaxerror", "5.0.902" },
	{ "systemerror", "5.0.930" }, { "systemfull", "5.0.931" },
	{ "toomanyconn", "5.0.945" }, { "undefined", "5.0.900" },
	{ "userunknown", "5.0.911" }, { "virusdetected", "5.0.971" },
};

/* Reasons that a later, more specific rule may overrule. */
static int retryable(const char *r)
{
	static const char *const list[] = { "undefined", "onhold", "systemerror",
		"securityerror", "networkerror", "hostunknown", "userunknown", NULL };

	for (int i = 0; list[i]; i++)
		if (!strcmp(r, list[i]))
			return 1;
	return 0;
}

/*
 * Matching.  Patterns are looked up by their first bytes, in levels: a
 * pattern with 4 to 7 bytes before any '*' by its first four, one with 8
 * to 15 by its first eight, a longer one by its first sixteen.  At each
 * place of a text, a hash of the four bytes there picks a slot of the
 * first level: the slot holds that level's patterns to compare, and says
 * whether a longer pattern begins with four bytes of the same hash; only
 * then is a slot of the next level looked up, by eight bytes, and from
 * that one by sixteen.  Bounce texts are full of words that dozens of
 * patterns begin with ("message ", "recipient", "mailbox "): a place
 * costs a look-up per level, not a compare per pattern of the word.
 * Patterns with fewer than four bytes before a '*' (none today) are
 * compared at every place, anchored ones at the start only.  Each one
 * that matches sets its list's bit; the rules then only test bits.
 */
#define LEVELS 3
static const size_t level_len[LEVELS] = { 4, 8, 16 };

#define SLOT_BITS 12
#define SLOTS (1u << SLOT_BITS)	/* per level */

#define HEAD 16			/* bytes of a pattern compared as two words,
				   the last level's length */

struct ipat {
	const char *pat;	/* without a leading '^' */
	size_t pre;		/* bytes before the '*', or all */
	const char *post;	/* after the '*', or NULL: no star */
	size_t postlen;
	/* The first HEAD bytes before the '*' (fewer when pre is shorter;
	 * zero after them) and a mask of 0xff over those bytes: two word
	 * compares rule out the patterns of a slot that another pattern's
	 * bytes hashed into, or match a short pattern whole, without a call
	 * to memcmp. */
	uint64_t head[2], mask[2];
	int list;
	int level;		/* of its slot; -1: short or anchored */
	uint16_t next;		/* in the same chain, 0 at the end */
};

/* A slot is a word: 0 when there is nothing to look at from it, so that
 * most places of a text cost one test. */
#define SLOT_CHAIN 0xffffu	/* its chain of patterns, 0: none; every
				   first-level chain ends in the short ones */
#define SLOT_DEEPER (1u << 16)	/* a longer pattern's bytes hash here too:
				   look at the next level */

static struct {
	struct ipat *p;		/* p[0] is none: 0 ends a chain, and an empty
				   slot is all zero */
	size_t n;
	uint32_t slot[LEVELS][SLOTS];
	uint16_t shorts;	/* fewer than four bytes before a '*' */
	unsigned char fold[256];	/* lower case; blanks to ' ' */
	uint16_t anchored;	/* '^': at the start of the text only */
	/* status_table in strcmp order, for a binary search (the table
	 * itself stays in the order a reader looks a code up in; each code
	 * is in it once) */
	const struct status_reason *by_code[ARRAY_SIZE(status_table)];
} ix;
static pthread_once_t ix_once = PTHREAD_ONCE_INIT;

static uint32_t load4(const char *s)
{
	uint32_t v;

	memcpy(&v, s, 4);
	return v;
}

static uint64_t load8(const char *s)
{
	uint64_t v;

	memcpy(&v, s, 8);
	return v;
}

/* The slot of level lv for the first level_len[lv] bytes at s (which
 * has HEAD bytes to read); a pattern's own bytes give the same. */
static unsigned slot_of(const char *s, int lv)
{
	uint32_t v = load4(s);

	if (lv >= 1)
		v += load4(s + 4) * 0x85ebca6bu;
	if (lv >= 2)
		v += load4(s + 8) * 0xc2b2ae35u + load4(s + 12) * 0x27d4eb2fu;
	return (v * 2654435761u) >> (32 - SLOT_BITS);
}

/* Fill e->head and e->mask from e->pat and e->pre. */
static void ix_head(struct ipat *e)
{
	size_t h = e->pre < HEAD ? e->pre : HEAD;
	char hb[HEAD] = { 0 }, mb[HEAD] = { 0 };

	/* bytes, not shifts: the words compare in the order they are loaded
	 * from the text, whatever the machine's byte order */
	memcpy(hb, e->pat, h);
	memset(mb, 0xff, h);
	e->head[0] = load8(hb);
	e->head[1] = load8(hb + 8);
	e->mask[0] = load8(mb);
	e->mask[1] = load8(mb + 8);
}

/* Put e (four bytes or more before any '*', head filled) in the chain of
 * its level's slot, and mark the slots above that lead down to it. */
static void ix_level(struct ipat *e, uint16_t k)
{
	char hb[HEAD];
	uint32_t *sl;

	memcpy(hb, &e->head[0], 8);
	memcpy(hb + 8, &e->head[1], 8);
	e->level = 0;
	while (e->level + 1 < LEVELS && e->pre >= level_len[e->level + 1])
		e->level++;
	for (int lv = 0; lv < e->level; lv++)
		ix.slot[lv][slot_of(hb, lv)] |= SLOT_DEEPER;
	sl = &ix.slot[e->level][slot_of(hb, e->level)];
	e->next = (uint16_t)(*sl & SLOT_CHAIN);
	*sl = (*sl & ~SLOT_CHAIN) | k;
}

static void ix_add(const char *pat, int list)
{
	uint16_t k = (uint16_t)ix.n++;
	struct ipat *e = &ix.p[k];
	const char *star;
	uint16_t *chain;

	e->list = list;
	e->level = -1;
	if (pat[0] == '^') {
		/* anchored: a literal, a '*' included */
		e->pat = pat + 1;
		e->pre = strlen(pat + 1);
		ix_head(e);
		chain = &ix.anchored;
	} else {
		e->pat = pat;
		star = strchr(pat, '*');
		e->pre = star ? (size_t)(star - pat) : strlen(pat);
		if (star) {
			e->post = star + 1;
			e->postlen = strlen(star + 1);
		}
		ix_head(e);
		if (e->pre >= level_len[0]) {
			ix_level(e, k);
			return;
		}
		chain = &ix.shorts;
	}
	e->next = *chain;
	*chain = k;
}

static int code_cmp(const void *a, const void *b)
{
	const struct status_reason *const *x = a, *const *y = b;

	return strcmp((*x)->code, (*y)->code);
}

static void ix_build(void)
{
	size_t n = 1;

	for (int l = 0; l < L_COUNT; l++) {
		for (size_t i = 0; lists[l] && lists[l][i]; i++)
			n++;
		for (size_t i = 0; ja_lists[l] && ja_lists[l][i]; i++)
			n++;
	}
	if (n > UINT16_MAX)
		panic("reason: %zu patterns, more than a chain can number", n);
	ix.p = xcalloc(n, sizeof(*ix.p));
	ix.n = 1;
	for (size_t i = 0; i < ARRAY_SIZE(status_table); i++)
		ix.by_code[i] = &status_table[i];
	qsort(ix.by_code, ARRAY_SIZE(status_table), sizeof(ix.by_code[0]), code_cmp);
	for (int c = 0; c < 256; c++)
		ix.fold[c] = isspace(c) ? ' ' : (unsigned char)tolower(c);
	for (int l = 0; l < L_COUNT; l++) {
		for (size_t i = 0; lists[l] && lists[l][i]; i++)
			ix_add(lists[l][i], l);
		for (size_t i = 0; ja_lists[l] && ja_lists[l][i]; i++)
			ix_add(ja_lists[l][i], l);
	}
	/* the short patterns are tried at every place, after the first
	 * level's own: a place costs one walk */
	if (ix.shorts)
		for (size_t h = 0; h < SLOTS; h++) {
			uint32_t *sl = &ix.slot[0][h];
			int k = *sl & SLOT_CHAIN;

			if (!k)
				*sl |= ix.shorts;
			else {
				while (ix.p[k].next)
					k = ix.p[k].next;
				ix.p[k].next = ix.shorts;
			}
		}
}

/* Does pattern e match at s (rest bytes to the end)?  "a * b": "a ",
 * then a word (a run of non-blanks, at least one), then " b".  w is the
 * text's HEAD bytes at s, read from a text padded with HEAD zero bytes:
 * a pattern (which has no NUL) longer than the rest fails on the zeros. */
static int ix_match(const struct ipat *e, const uint64_t w[2], const char *s, size_t rest)
{
	size_t q;

	if ((w[0] & e->mask[0]) != e->head[0] || (w[1] & e->mask[1]) != e->head[1])
		return 0;
	if (e->pre > HEAD && (e->pre > rest || memcmp(s + HEAD, e->pat + HEAD, e->pre - HEAD)))
		return 0;
	if (!e->post)
		return 1;
	q = e->pre;
	if (q >= rest || s[q] == ' ')
		return 0;
	while (q < rest && s[q] != ' ')
		q++;
	return e->postlen <= rest - q && !memcmp(s + q, e->post, e->postlen);
}

/* A text being classified: lower-cased, blanks squeezed, and the lists
 * it has a phrase of. */
struct text {
	char s[TEXT_MAX + HEAD];	/* NUL-padded: see ix_match() */
	size_t len;
	uint64_t hit;		/* bit L_*: a phrase of that list is in s */
	int first[L_COUNT];	/* per list hit: the first of its patterns found */
};

/* Does pattern a go before pattern b when both match at one place?  The
 * one the scan has always tried first there: listed later, a short one
 * after all others (reason_last_rule() names it). */
static int tried_before(int a, int b)
{
	int short_a = ix.p[a].level < 0, short_b = ix.p[b].level < 0;

	return short_a != short_b ? short_b : a > b;
}

/* Pattern k matched: its list's bit added to hit, which holds the lists
 * found at this place so far (and no list found at an earlier one). */
static uint64_t found(struct text *t, uint64_t hit, int k)
{
	int l = ix.p[k].list;

	if (!(hit >> l & 1) || tried_before(k, t->first[l]))
		t->first[l] = k;
	return hit | 1ull << l;
}

/* The lists with a pattern that matches at s (rest bytes to the end, then
 * HEAD zero bytes) added to hit; sl is the first level's slot for s. */
static uint64_t scan_at(struct text *t, const char *s, size_t rest, uint32_t sl, uint64_t hit)
{
	const uint64_t w[2] = { load8(s), load8(s + 8) };
	/* a list found at an earlier place has its first phrase */
	const uint64_t done = hit;

	for (int lv = 0;;) {
		for (int k = sl & SLOT_CHAIN; k; k = ix.p[k].next)
			if (!(done >> ix.p[k].list & 1) && ix_match(&ix.p[k], w, s, rest))
				hit = found(t, hit, k);
		if (!(sl & SLOT_DEEPER) || ++lv == LEVELS)
			return hit;
		sl = ix.slot[lv][slot_of(s, lv)];
	}
}

/* Which rule decided the last reason_classify() of this thread: a
 * measuring aid (reason_last_rule()), never part of any output. */
static __thread struct {
	const char *step;	/* "first:userunknown/rcpt", "status", ... */
	const char *phrase;	/* the pattern that made the step's list hit */
} trace;

/* Record that step decided (with the phrase of list l, or -1: none). */
static void traced(const struct text *t, const char *step, int l)
{
	trace.step = step;
	trace.phrase = l >= 0 && t && (t->hit >> l & 1) ? ix.p[t->first[l]].pat : NULL;
}

/* Fold s into t->s: lower case, each run of blanks one ' ', at most
 * TEXT_MAX - 1 bytes.  Sets t->len; returns the bytes of s read (all of
 * them, unless the text was cut). */
static size_t text_fold(struct text *t, const char *s)
{
	const unsigned char *in = (const unsigned char *)s;
	size_t n = strnlen(s, TEXT_MAX - 1), i, o;
	const char *two;
	char last = ' ';

	/* a byte for a byte until two blanks meet, which most texts never
	 * have (their senders folded the lines already): a loop without a
	 * test per byte, unrolled as the compiler does not at -O2 (a text
	 * is a hundred bytes or more) */
#pragma GCC unroll 8
	for (i = 0; i < n; i++)
		t->s[i] = (char)ix.fold[in[i]];
	t->s[n] = '\0';
	if ((two = strstr(t->s, "  ")) == NULL) {
		t->len = n;
		return n;
	}
	/* from the first blank of the two on, squeezed, and read on past
	 * n as long as squeezing leaves room */
	for (o = i = (size_t)(two - t->s) + 1; in[i] && o + 1 < TEXT_MAX; i++) {
		char c = (char)ix.fold[in[i]];

		if (c == ' ' && last == ' ')
			continue;
		t->s[o++] = last = c;
	}
	t->len = o;
	return i;
}

/* Fold s into t and scan it; returns the bytes of s read (all of them,
 * unless the text was cut at TEXT_MAX). */
static size_t text_init(struct text *t, const char *s)
{
	size_t n, o;
	uint64_t hit = 0;

	pthread_once(&ix_once, ix_build);
	n = text_fold(t, s);
	o = t->len;
	memset(t->s + o, 0, HEAD);
	for (size_t p = 0; p < o; p++) {
		uint32_t sl = ix.slot[0][slot_of(t->s + p, 0)];

		/* near the end the bytes hashed take in padding: no pattern of
		 * that length matches there, whatever slot they pick */
		if (sl)
			hit = scan_at(t, t->s + p, o - p, sl, hit);
	}
	for (int k = ix.anchored; k; k = ix.p[k].next)
		if (ix.p[k].pre <= o && !memcmp(t->s, ix.p[k].pat, ix.p[k].pre)) {
			hit |= 1ull << ix.p[k].list;
			t->first[ix.p[k].list] = k;
		}
	t->hit = hit;
	return n;
}

/* The last text this thread read, with the words it was read from:
 * dsn.c asks reason_of_text() about a recipient's words and then
 * reason_classify() reads the same words again. */
static __thread struct {
	struct text t;
	char raw[TEXT_MAX];	/* the words, when they fit (else raw_ok 0) */
	int raw_ok;
} memo;

/* s (NULL: "") folded and scanned, from memo when it holds the same
 * words.  The text is this thread's until its next call. */
static const struct text *text_of(const char *s)
{
	size_t n;

	if (!s)
		s = "";
	if (memo.raw_ok && !strcmp(memo.raw, s))
		return &memo.t;
	n = text_init(&memo.t, s);
	memo.raw_ok = !s[n] && n < sizeof(memo.raw);
	if (memo.raw_ok)
		memcpy(memo.raw, s, n + 1);
	return &memo.t;
}

static int has(const struct text *t, int list)
{
	return (int)(t->hit >> list & 1);
}

/* Is w (lower case) in the text as a word of its own ("spam", "SPAM:",
 * not "spamcop"), and not the end of an "anti-" name? */
static int has_word(const struct text *t, const char *w)
{
	size_t n = strlen(w);

	for (const char *p = t->s; (p = strstr(p, w)) != NULL; p++)
		if ((p == t->s || !isalnum((unsigned char)p[-1])) &&
		    !isalnum((unsigned char)p[n]) &&
		    /* "Anti-Spam Gateway", "anti spam": a filter's name, no verdict */
		    !(p - t->s >= 5 && (!strncmp(p - 5, "anti-", 5) || !strncmp(p - 5, "anti ", 5))))
			return 1;
	return 0;
}

static int code_key_cmp(const void *key, const void *elem)
{
	const struct status_reason *const *e = elem;

	return strcmp(key, (*e)->code);
}

const char *reason_of_status(const char *status)
{
	const struct status_reason *const *e;

	if (!status)
		return NULL;
	pthread_once(&ix_once, ix_build);
	e = bsearch(status, ix.by_code, ARRAY_SIZE(status_table), sizeof(ix.by_code[0]),
		    code_key_cmp);
	return e ? (*e)->reason : NULL;
}

static const char *match_rules(const struct text *t, const struct rule *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (has(t, r[i].list))
			return r[i].reason;
	return NULL;
}

const char *reason_of_text(const char *text)
{
	const struct text *t = text_of(text);
	const char *r;

	r = match_rules(t, first_pass, ARRAY_SIZE(first_pass));
	return r ? r : match_rules(t, second_pass, ARRAY_SIZE(second_pass));
}

int reason_is_vacation(const char *text)
{
	return has(text_of(text), L_vacation);
}

static int is(const char *a, const char *b)
{
	/* the rules ask this of every reason and command in turn: most
	 * differ in their first byte, which rules them out without a call */
	return a && b && a[0] == b[0] && !strcmp(a, b);
}

/* Does the text say reason? */
#define M(r) has(t, L_##r)
/* Return reason r, decided by rule step (with the phrase of list l). */
#define DECIDE(step, l, r) return (traced(t, step, l), (r))
#define NONE (-1)

/* The first pass: each reason is true by its status code or its words,
 * with the conditions that keep one reason from taking another's mail
 * (the SMTP command matters: "user unknown" after DATA is a filter). */
static const char *first_true(const struct text *t, const char *bs, const char *cmd, int stageless)
{
	/* without a command, "user unknown" is read as the RCPT stage's
	 * answer, unless the format is one that never says (a filtering
	 * gateway's own notice): then, as in sisimai, it is a filter's */
	int rcpt_like = is(cmd, "RCPT") || (!cmd && !stageless);
	int pre_data = is(cmd, "CONN") || is(cmd, "EHLO") || is(cmd, "HELO") ||
		       is(cmd, "MAIL") || is(cmd, "RCPT");

	if (is(bs, "mailboxfull") || M(mailboxfull))
		DECIDE("1:mailboxfull", L_mailboxfull, "mailboxfull");
	if (is(bs, "mesgtoobig") || (!is(bs, "exceedlimit") && M(mesgtoobig)))
		DECIDE("1:mesgtoobig", L_mesgtoobig, "mesgtoobig");
	if (is(bs, "exceedlimit") || M(exceedlimit))
		DECIDE("1:exceedlimit", L_exceedlimit, "exceedlimit");
	if (is(bs, "suspend") || M(suspend))
		DECIDE("1:suspend", L_suspend, "suspend");
	if (is(bs, "hasmoved") || M(hasmoved))
		DECIDE("1:hasmoved", L_hasmoved, "hasmoved");
	if (!is(cmd, "CONN") && !is(cmd, "EHLO") && !is(cmd, "HELO") && M(norelaying))
		DECIDE("1:norelaying", L_norelaying, "norelaying");
	if (is(bs, "authfailure") || M(authfailure))
		DECIDE("1:authfailure", L_authfailure, "authfailure");
	if (M(refused))
		DECIDE("1:refused", L_refused, "filtered");
	/* a mailbox-status code (5.2.x) with "user unknown" and no sign of
	 * the RCPT stage: a filter after the envelope was accepted */
	if (is(bs, "filtered") && !is(cmd, "RCPT") && (M(userunknown) || M(filtered)))
		DECIDE("1:filtered/5.2.x-not-rcpt", M(userunknown) ? L_userunknown : L_filtered,
		       "filtered");
	/* a recipient refused at the end of DATA (the reply says so, as
	 * Postfix's "in reply to end of DATA command" and Exim's "after end
	 * of data" do): the envelope was accepted, so the mailbox exists and
	 * a filter refused the mail, whatever the code.  A transcript's
	 * ">>> DATA" followed by a RCPT's pipelined refusal is not that. */
	if (is(cmd, "DATA") && (M(userunknown) || M(filtered)) && !M(hostunknown) &&
	    (strstr(t->s, "end of data") || strstr(t->s, "after data")))
		DECIDE("1:filtered/after-data", M(filtered) ? L_filtered : L_userunknown,
		       "filtered");
	if (is(bs, "userunknown")) {
		if (M(filtered))
			DECIDE("1:filtered/5.1.x-words", L_filtered, "filtered");
		if (!M(norelaying) && !M(blocked) && !M(mailboxfull) &&
		    !M(hasmoved) && !M(rejected) && !M(notaccept))
			DECIDE("1:userunknown/5.1.x", L_userunknown, "userunknown");
	} else if (rcpt_like && M(userunknown) && !M(hostunknown) && !is(bs, "hostunknown")) {
		DECIDE("1:userunknown/rcpt", L_userunknown, "userunknown");
	}
	if (is(bs, "filtered")) {
		if (M(userunknown) || M(filtered))
			DECIDE("1:filtered/5.2.x", M(filtered) ? L_filtered : L_userunknown,
			       "filtered");
	} else if ((cmd || stageless) && !is(cmd, "RCPT") && !is(cmd, "MAIL") &&
		   !M(hostunknown) && !is(bs, "hostunknown")) {
		/* (a domain that does not exist is that, at any stage) */
		if (M(filtered) || M(userunknown))
			DECIDE("1:filtered/after-rcpt", M(filtered) ? L_filtered : L_userunknown,
			       "filtered");
	}
	if (is(bs, "requireptr") || M(requireptr))
		DECIDE("1:requireptr", L_requireptr, "requireptr");
	if (M(notcompliantrfc))
		DECIDE("1:notcompliantrfc", L_notcompliantrfc, "notcompliantrfc");
	if (M(badreputation))
		DECIDE("1:badreputation", L_badreputation, "badreputation");
	if (is(bs, "rejected"))
		DECIDE("1:rejected/status", NONE, "rejected");
	if ((is(cmd, "MAIL") || (is(cmd, "DATA") && !is(bs, "userunknown")) ||
	     !bs || is(bs, "securityerror") || is(bs, "systemerror")) && M(rejected))
		DECIDE("1:rejected", L_rejected, "rejected");
	/* a domain without a mail exchanger (no MX, null MX, an MX lookup
	 * that fails) accepts no mail: more precise than its 5.4.4 */
	if (has(t, L_nomx))
		DECIDE("1:notaccept/nomx", L_nomx, "notaccept");
	/* DNS trouble ("host not found, try again", "DNS Error: ...") is a
	 * network error, not a domain that does not exist */
	if ((is(bs, "hostunknown") || M(hostunknown)) && !M(networkerror))
		DECIDE("1:hostunknown", L_hostunknown, "hostunknown");
	/* the status names a rate limit (X.7.28): the words say why */
	if (is(bs, "speeding"))
		DECIDE("1:speeding/status", NONE, "speeding");
	if (is(bs, "spamdetected") || (!pre_data && M(spamdetected)))
		DECIDE("1:spamdetected", L_spamdetected, "spamdetected");
	if (is(bs, "toomanyconn") || M(toomanyconn))
		DECIDE("1:toomanyconn", L_toomanyconn, "toomanyconn");
	if (M(speeding))
		DECIDE("1:speeding", L_speeding, "speeding");
	if (is(bs, "blocked") || M(blocked))
		DECIDE("1:blocked", L_blocked, "blocked");
	/* spam words before DATA: no content was seen yet, the receiver
	 * judged the sender (its address, a list it is on): a block */
	if (pre_data && M(spamdetected))
		DECIDE("1:blocked/spam-before-data", L_spamdetected, "blocked");
	return NULL;
}

/* Gmail's relay ends a remote reply with the SMTP state it failed in,
 * "(state 18)."; states 15, 17 and 18 are the DATA stage, where the
 * refusal is the receiver's filter whatever its words (sisimai's Gmail
 * module reads them the same way).  NULL for any other state or none. */
static const char *gmail_state(const struct text *t)
{
	const char *p = strstr(t->s, "(state ");
	int v = 0;

	if (!p)
		return NULL;
	for (p += 7; *p >= '0' && *p <= '9' && v < 1000; p++)
		v = v * 10 + (*p - '0');
	if (p[0] != ')' || p[1] != '.')
		return NULL;
	return v == 15 || v == 17 || v == 18 ? "filtered" : NULL;
}

/* The second pass's first match, traced. */
static const char *second_true(const struct text *t)
{
	for (size_t i = 0; i < ARRAY_SIZE(second_pass); i++)
		if (has(t, second_pass[i].list)) {
			traced(t, "2:words", second_pass[i].list);
			return second_pass[i].reason;
		}
	return NULL;
}

const char *reason_classify(const struct reason_in *in)
{
	const struct text *t = NULL;
	const char *st = in->status ? in->status : "";
	const char *bs = reason_of_status(st), *r;
	const char *cmd = in->command && in->command[0] ? in->command : NULL;

	if (st[0] == '2')
		DECIDE("0:delivered/2.x.x", NONE, "delivered");
	t = text_of(in->diag);
	/* a local program's failure (X-Unix, X-Postfix): the program's own
	 * words first ("procmail: ... No such user" is not a missing mailbox) */
	if (in->unix_mailer && has(t, L_mailererror))
		DECIDE("0:mailererror/x-unix", L_mailererror, "mailererror");
	if ((r = gmail_state(t)) != NULL)
		DECIDE("0:gmail-state", NONE, r);
	if ((r = first_true(t, bs, cmd, in->stageless)) != NULL)
		return r;
	/* the status code, unless it is one a text may make more precise */
	if (bs && !retryable(bs) && !is(bs, "expired") && !in->unix_mailer)
		DECIDE("s:status", NONE, bs);
	if ((r = second_true(t)) != NULL)
		return r;
	/* the word "spam" in a refusal of the message itself (after DATA,
	 * or by a filter that names no stage) that no phrase above read:
	 * "scored 8.4 spam points", "is probably spam", "may consider spam",
	 * "5.9.8 Spam" (sisimai SpamDetected: the content was judged spam) */
	if ((!cmd || is(cmd, "DATA")) && has_word(t, "spam"))
		DECIDE("c:spam-word", NONE, "spamdetected");
	if (bs)
		DECIDE("s:status/late", NONE, bs);
	if ((st[0] == '4' || st[0] == '5') && st[1] == '.' && st[2] == '6')
		DECIDE("c:x.6-class", NONE, "contenterror");
	if ((st[0] == '4' || st[0] == '5') && st[1] == '.' && st[2] == '7')
		DECIDE("c:x.7-class", NONE, "securityerror");
	if (in->unix_mailer)
		DECIDE("c:x-unix", NONE, "mailererror");
	if (in->reply && in->reply[0] && in->reply[1] == '0' && in->reply[2] <= '7' &&
	    strcmp(in->reply, "500") >= 0)
		DECIDE("c:reply-50x", NONE, "syntaxerror");
	if (in->action && (!strcmp(in->action, "delayed") || !strcmp(in->action, "expired")))
		DECIDE("c:action-delayed", NONE, "expired");
	if (is(cmd, "EHLO") || is(cmd, "HELO") || is(cmd, "CONN"))
		DECIDE("c:greeting-stage", NONE, "blocked");
	if (has(t, L_vacation))
		DECIDE("c:vacation", L_vacation, "vacation");
	if (t->s[0])
		DECIDE("c:onhold", NONE, "onhold");
	DECIDE("c:undefined", NONE, "undefined");
}

void reason_last_rule(const char **step, const char **phrase)
{
	*step = trace.step;
	*phrase = trace.phrase;
}

void reason_pseudo_status(const char *reason, int temporary, char out[16])
{
	static const char *const soft[] = { "blocked", "contenterror", "expired",
		"filtered", "mailboxfull", "networkerror", "notaccept", "onhold",
		"rejected", "securityerror", "spamdetected", "systemerror",
		"systemfull", "toomanyconn", "undefined", "speeding",
		"badreputation", "requireptr", NULL };
	for (size_t i = 0; i < ARRAY_SIZE(pseudo_table); i++) {
		if (strcmp(reason, pseudo_table[i].reason))
			continue;
		if (temporary)
			for (int k = 0; soft[k]; k++)
				if (!strcmp(soft[k], reason)) {
					snprintf(out, 16, "4%s", pseudo_table[i].code + 1);
					return;
				}
		str_copy(out, 16, pseudo_table[i].code);
		return;
	}
	out[0] = '\0';
}

int reason_is_hard(const char *reason, const char *status, const char *reply)
{
	int temp = (status && status[0] == '4') || (reply && reply[0] == '4');

	if (!strcmp(reason, "userunknown") || !strcmp(reason, "hostunknown") ||
	    !strcmp(reason, "hasmoved"))
		return 1;
	if (!strcmp(reason, "notaccept"))
		return !temp;
	return 0;
}
