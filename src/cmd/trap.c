/*
 * trap.c - "rblkit trap": the spamtrap intake.  The LMTP daemon (Postfix
 * lmtp: transport for the trap domains), or one message on stdin (Postfix
 * pipe(8), a Maildir import) with a sysexits status.
 *
 * SECURITY: command-line arguments are the operator's; the message on
 * stdin is hostile and goes through trap_read() (list/trap.c).
 */
#define _GNU_SOURCE
#include "cmd.h"
#include "list/list.h"
#include "list/trap.h"
#include "mail/msg.h"
#include "base/json.h"
#include "base/util.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_CONFIG "/etc/rblkit/list.conf"

/* sysexits.h, the statuses pipe(8) understands */
#define EX_OK_ 0
#define EX_USAGE_ 64
#define EX_DATAERR_ 65
#define EX_NOUSER_ 67
#define EX_IOERR_ 74
#define EX_TEMPFAIL_ 75
#define EX_CONFIG_ 78

#define MAX_RCPT 1000

void cmd_trap_help(void)
{
	printf(
"usage: rblkit trap [--config FILE] [--listen ADDR:PORT] [--foreground]\n"
"                   [--user USER[:GROUP]] [--pid-file FILE] [--hostname NAME]\n"
"                   [--max-clients N] [--max-recipients N] [--idle-timeout SEC]\n"
"       rblkit trap --stdin [--config FILE] [--sender S] [--recipient R ...]\n"
"                   [--json]\n"
"\n"
"Spamtrap intake. Each message sent to a trap address is read with the\n"
"mail reader of diagnose; the client address comes from the Received\n"
"field that one of the operator's MX hosts (trap_mx) added, never from a\n"
"field below it. Bounces, auto-replies and private, loopback or reserved\n"
"addresses are counted, not listed. A hit goes to the zone of the\n"
"recipient's domain (trap_domains, else trap_zone) with the message's\n"
"headers and an excerpt as evidence, and the zone's rules decide (see\n"
"rblkit help list). A message that is not mail is kept in trap_quarantine.\n"
"\n"
"Daemon: LMTP (RFC 2033) on --listen or trap_listen (ADDR:PORT,\n"
"[ADDR6]:PORT or unix:PATH). Each recipient gets its reply after the\n"
"data: 250 once the hit is committed to the store, 451 when the store\n"
"failed (the client retries), 550 at RCPT for an address outside the trap\n"
"domains. It stays in the foreground (--foreground is accepted), logs to\n"
"stderr, expires listings every second, stops on SIGTERM/SIGINT and logs\n"
"its counters on SIGUSR1. Defaults: 64 clients, 100 recipients, 300 s idle.\n"
"\n"
"--stdin: one message on standard input for pipe(8), e.g. in master.cf\n"
"  trap unix - n n - - pipe user=rblkit argv=/usr/bin/rblkit trap --stdin\n"
"    --sender ${sender} --recipient ${recipient}\n"
"Without --recipient the Delivered-To or X-Original-To field is used;\n"
"without --sender the Return-Path field (else the sender is unknown, not\n"
"a bounce). Exit status: 0 stored, counted or quarantined; 64 usage;\n"
"65 not a message and no trap_quarantine to keep it in; 67 a recipient\n"
"outside the trap domains; 74 stdin unreadable; 75 the store (or the\n"
"quarantine) failed: Postfix retries; 78 configuration error.\n"
"\n"
"Default FILE: " DEFAULT_CONFIG " (docs/trap.md and docs/list.md).\n");
}

struct stdin_opts {
	const char *config, *sender;
	const char *rcpt[MAX_RCPT];
	unsigned nrcpt;
	int json;
};

/* All of stdin, up to max bytes kept (the rest read and dropped). */
static char *read_stdin(size_t max, size_t *len, int *truncated)
{
	size_t cap = max < 65536 ? max : 65536, n = 0;
	char *buf = xmalloc(cap), tmp[65536];
	ssize_t r;

	*truncated = 0;
	for (;;) {
		if (n == cap && cap < max) {
			cap = cap * 2 > max ? max : cap * 2;
			buf = xrealloc(buf, cap);
		}
		if (n < cap)
			r = read(0, buf + n, cap - n);
		else
			r = read(0, tmp, sizeof(tmp));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(buf);
			return NULL;
		}
		if (r == 0)
			break;
		if (n < cap)
			n += (size_t)r;
		else
			*truncated = 1;
	}
	*len = n;
	return buf;
}

/* The value of the first field name in the header section of data, an
 * address in angle brackets or bare, into out; 0 or -1. */
static int header_addr(const char *data, size_t len, const char *name, char *out, size_t ol)
{
	struct msg m = { 0 };
	size_t tl;
	char *text = msg_normalize(data, len, &tl);
	const char *v;
	int rc = -1;

	msg_parse(&m, text, tl);
	if ((v = msg_get(&m, name))) {
		const char *lt = strchr(v, '<'), *gt = lt ? strchr(lt, '>') : NULL;

		if (lt && gt)
			snprintf(out, ol, "%.*s", (int)(gt - lt - 1), lt + 1);
		else
			snprintf(out, ol, "%.*s", (int)strcspn(v, " \t"), v);
		rc = 0;
	}
	msg_free(&m);
	free(text);
	return rc;
}

struct rcpt_out {
	const char *rcpt, *zone, *result;
	char masked[300], key[STORE_KEY_MAX], error[512];
};

static void print_text(const struct trap_msg *t, const struct rcpt_out *r, unsigned n,
		       const char *qpath)
{
	for (unsigned i = 0; i < n; i++) {
		if (!strcmp(r[i].result, "quarantined"))
			printf("%s: not a message: kept in %s\n", r[i].masked, qpath);
		else if (r[i].error[0])
			printf("%s: %s: %s\n", r[i].masked, r[i].result, r[i].error);
		else if (!strcmp(r[i].result, "skipped"))
			printf("%s: not listed (%s): %s\n", r[i].masked, trap_skip_name(t->skip),
			       t->why);
		else
			printf("%s: %s %s in %s (client %s, by %s)\n", r[i].masked,
			       r[i].result, r[i].key, r[i].zone, t->ip, t->mx);
	}
}

static void print_json(const struct trap_msg *t, const struct rcpt_out *r, unsigned n,
		       const char *qpath, int truncated, int status)
{
	printf("{\"client\":");
	json_str(stdout, t->ip[0] ? t->ip : NULL);
	printf(",\"mx\":");
	json_str(stdout, t->mx[0] ? t->mx : NULL);
	printf(",\"skip\":");
	json_str(stdout, t->skip == TRAP_OK ? NULL : trap_skip_name(t->skip));
	printf(",\"why\":");
	json_str(stdout, t->why[0] ? t->why : NULL);
	printf(",\"truncated\":%s,\"quarantine\":", truncated ? "true" : "false");
	json_str(stdout, qpath && *qpath ? qpath : NULL);
	printf(",\"recipients\":[");
	for (unsigned i = 0; i < n; i++) {
		printf("%s{\"recipient\":", i ? "," : "");
		json_str(stdout, r[i].masked);
		printf(",\"zone\":");
		json_str(stdout, r[i].zone);
		printf(",\"result\":");
		json_str(stdout, r[i].result);
		printf(",\"key\":");
		json_str(stdout, r[i].key[0] ? r[i].key : NULL);
		printf(",\"error\":");
		json_str(stdout, r[i].error[0] ? r[i].error : NULL);
		printf("}");
	}
	printf("],\"status\":%d}\n", status);
}

/* Deliver to every recipient; the worst status wins (75 > 67 > 0). */
static int deliver_all(struct list_ctx *lc, const struct trap_msg *t,
		       struct rcpt_out *r, unsigned n)
{
	int status = EX_OK_;

	for (unsigned i = 0; i < n; i++) {
		struct list_result res;

		r[i].zone = trap_zone_for(&lc->conf->trap, r[i].rcpt);
		switch (trap_deliver(lc, t, r[i].rcpt, &res, NULL, r[i].error,
				     sizeof(r[i].error))) {
		case TRAP_R_STORED:
			r[i].result = list_outcome_name(res.outcome);
			str_copy(r[i].key, sizeof(r[i].key), res.key);
			break;
		case TRAP_R_SKIPPED:
			r[i].result = "skipped";
			break;
		case TRAP_R_TEMPFAIL:
			r[i].result = "store-error";
			status = EX_TEMPFAIL_;
			break;
		case TRAP_R_REJECT:
			r[i].result = "not-a-trap";
			if (status == EX_OK_)
				status = EX_NOUSER_;
			break;
		}
	}
	return status;
}

static int run_stdin(struct stdin_opts *o)
{
	struct conftab_errors e = { 0 };
	struct list_conf *conf = list_conf_load(o->config, &e);
	struct list_ctx lc = { 0 };
	struct trap_msg *t = NULL;
	struct rcpt_out *r = NULL;
	char sender[512], rc1[512], err[512], qpath[4200] = "";
	const char *snd = o->sender;
	int status = EX_OK_, truncated = 0;
	size_t len = 0;
	char *data = NULL;

	if (!conf) {
		conftab_errors_print(&e, stderr);
		return EX_CONFIG_;
	}
	if (!(data = read_stdin(conf->trap.max_size ? conf->trap.max_size : (1u << 20), &len,
				&truncated))) {
		fprintf(stderr, "rblkit trap: stdin: %s\n", strerror(errno));
		status = EX_IOERR_;
		goto out;
	}
	if (!snd && header_addr(data, len, "Return-Path", sender, sizeof(sender)) == 0)
		snd = sender;
	if (!o->nrcpt && (header_addr(data, len, "Delivered-To", rc1, sizeof(rc1)) == 0 ||
			  header_addr(data, len, "X-Original-To", rc1, sizeof(rc1)) == 0))
		o->rcpt[o->nrcpt++] = rc1;
	if (!o->nrcpt) {
		fprintf(stderr, "rblkit trap: no --recipient and no Delivered-To or "
			"X-Original-To field\n");
		status = EX_USAGE_;
		goto out;
	}
	t = xmalloc(sizeof(*t));
	r = xcalloc(o->nrcpt, sizeof(*r));
	for (unsigned i = 0; i < o->nrcpt; i++) {
		r[i].rcpt = o->rcpt[i];
		list_mask_addr(o->rcpt[i], r[i].masked, sizeof(r[i].masked));
	}
	trap_read(data, len, snd, &conf->trap.mx, t);
	if (t->skip == TRAP_UNREADABLE) {
		const char *res = "quarantined";

		if (!conf->trap.quarantine || !*conf->trap.quarantine) {
			snprintf(err, sizeof(err), "%s; no trap_quarantine to keep it in", t->why);
			res = "unreadable";
			status = EX_DATAERR_;
		} else if (trap_quarantine(conf->trap.quarantine, data, len, qpath,
					   sizeof(qpath), err, sizeof(err))) {
			res = "quarantine-error";
			qpath[0] = '\0';
			status = EX_TEMPFAIL_;
		} else {
			err[0] = '\0';
		}
		for (unsigned i = 0; i < o->nrcpt; i++) {
			r[i].zone = trap_zone_for(&conf->trap, r[i].rcpt);
			r[i].result = res;
			str_copy(r[i].error, sizeof(r[i].error), err);
		}
	} else {
		lc.conf = conf;
		if (store_open(conf->store, 0, &lc.st, err, sizeof(err))) {
			fprintf(stderr, "rblkit trap: store: %s\n", err);
			status = EX_TEMPFAIL_;
			goto out;
		}
		status = deliver_all(&lc, t, r, o->nrcpt);
		store_close(lc.st);
	}
	if (o->json)
		print_json(t, r, o->nrcpt, qpath, truncated, status);
	else
		print_text(t, r, o->nrcpt, qpath);
	for (unsigned i = 0; i < o->nrcpt; i++)
		if (r[i].error[0] && strcmp(r[i].result, "quarantined"))
			fprintf(stderr, "rblkit trap: %s: %s\n", r[i].masked, r[i].error);
out:
	free(r);
	free(t);
	free(data);
	list_conf_free(conf);
	return status;
}

static int parse_uint(const char *opt, const char *s, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v == 0 || v > max) {
		fprintf(stderr, "rblkit trap: %s: '%s' is not a number from 1 to %u\n", opt, s,
			max);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

int cmd_trap(int argc, char **argv)
{
	enum { O_SENDER = 256, O_RCPT, O_JSON, O_PID, O_HOST, O_MAXC, O_MAXR, O_IDLE };
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "listen", required_argument, NULL, 'l' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "user", required_argument, NULL, 'u' },
		{ "pid-file", required_argument, NULL, O_PID },
		{ "hostname", required_argument, NULL, O_HOST },
		{ "max-clients", required_argument, NULL, O_MAXC },
		{ "max-recipients", required_argument, NULL, O_MAXR },
		{ "idle-timeout", required_argument, NULL, O_IDLE },
		{ "stdin", no_argument, NULL, 's' },
		{ "sender", required_argument, NULL, O_SENDER },
		{ "recipient", required_argument, NULL, O_RCPT },
		{ "json", no_argument, NULL, O_JSON },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct trap_daemon_opts d = { .config = DEFAULT_CONFIG };
	static struct stdin_opts so;
	int c, use_stdin = 0;

	memset(&so, 0, sizeof(so));
	while ((c = getopt_long(argc, argv, "c:l:fu:svqh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': d.config = optarg; break;
		case 'l': d.listen = optarg; break;
		case 'f': break;	/* always in the foreground */
		case 'u': d.user = optarg; break;
		case O_PID: d.pidfile = optarg; break;
		case O_HOST: d.hostname = optarg; break;
		case O_MAXC:
			if (parse_uint("--max-clients", optarg, 100000, &d.max_clients))
				return EX_USAGE_;
			break;
		case O_MAXR:
			if (parse_uint("--max-recipients", optarg, 100000, &d.max_rcpt))
				return EX_USAGE_;
			break;
		case O_IDLE:
			if (parse_uint("--idle-timeout", optarg, 86400, &d.idle_timeout))
				return EX_USAGE_;
			break;
		case 's': use_stdin = 1; break;
		case O_SENDER: so.sender = optarg; break;
		case O_RCPT:
			if (so.nrcpt >= MAX_RCPT) {
				fprintf(stderr, "rblkit trap: more than %d recipients\n", MAX_RCPT);
				return EX_USAGE_;
			}
			so.rcpt[so.nrcpt++] = optarg;
			break;
		case O_JSON: so.json = 1; break;
		case 'v': log_set_level(LOG_LVL_DEBUG); break;
		case 'q': log_set_level(LOG_LVL_WARN); break;
		case 'h': cmd_trap_help(); return 0;
		default:
			cmd_usage_error("trap");
			return EX_USAGE_;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "rblkit trap: unexpected argument '%s'\n", argv[optind]);
		cmd_usage_error("trap");
		return EX_USAGE_;
	}
	if (!use_stdin && (so.sender || so.nrcpt || so.json)) {
		fprintf(stderr, "rblkit trap: --sender, --recipient and --json go with --stdin\n");
		cmd_usage_error("trap");
		return EX_USAGE_;
	}
	if (use_stdin) {
		so.config = d.config;
		return run_stdin(&so);
	}
	return trap_daemon_run(&d);
}
