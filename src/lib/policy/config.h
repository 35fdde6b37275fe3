/*
 * config.h - the policy daemon's configuration file.
 *
 * "key = value" lines; '#' starts a comment; a line that starts with
 * white space continues the value of the line before (as in main.cf);
 * repeatable keys (outbound_override) may be given several times. Every
 * key is in one conftab table (pcfg_table: name, type, default, minimum,
 * maximum) that conftab_help() prints and docs/policy.md describes.
 * Errors name file:line and what was expected.
 *
 * SECURITY: the file is the operator's (read before privileges are
 * dropped; on SIGHUP after, so it must stay readable by the daemon).
 */
#ifndef RBLKIT_POLICY_CONFIG_H
#define RBLKIT_POLICY_CONFIG_H

#include "base/conftab.h"
#include "base/listen.h"
#include "policy/ratelimit.h"
#include "policy/sites.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

/* A CIDR list (client_allowlist, outbound_networks). */
struct pcfg_net {
	int family;		/* AF_INET or AF_INET6 */
	uint8_t addr[16];	/* network byte order; IPv4 in the first 4 */
	int bits;
};

struct pcfg_override {
	char *user;
	struct rl_limits limits;
};

enum pcfg_dnsbl_action { DA_REJECT, DA_PREPEND };
enum pcfg_out_action { OA_DEFER, OA_HOLD };

struct pcfg {
	char *path;
	char *listen;			/* "127.0.0.1:10040", "[::1]:10040", "/path" */
	struct listen_addr listen_addr;	/* what listen says (listen_parse) */
	char *resolver;			/* "system", "recursive", "ADDR[:PORT],..." */
	unsigned resolver_timeout_ms;
	char *catalog;			/* extra catalogue file, or NULL */
	struct sites *sites;
	int threshold;
	int dnsbl_action;		/* enum pcfg_dnsbl_action */
	char *dnsbl_reply;		/* template, see pcfg_expand */
	char *dnsbl_header;		/* header name for prepend */
	unsigned budget_ms;
	uint32_t cache_min_ttl, cache_max_ttl;
	unsigned cache_size;
	uint32_t probe_interval;	/* s; 0: lists are not probed */
	struct pcfg_net *allow;
	size_t nallow;
	struct pcfg_net *outnets;
	size_t noutnets;
	struct rl_limits limits;
	struct pcfg_override *ov;	/* sorted by user; ov[nov].user is NULL */
	size_t nov;
	int out_action;			/* enum pcfg_out_action */
	char *out_reply;
	int block_until_reset;		/* outbound_block = reset */
	char *alert_command;
	bool baseline;			/* outbound_baseline */
	unsigned bl_factor, bl_min, bl_new;	/* baseline_factor, _min, _new_sender */
	char *bl_reply;			/* baseline_reply */
	/* baseline_domains_factor (0: off), _min, _new_sender, _reply */
	unsigned bl_dom_factor, bl_dom_min, bl_dom_new;
	char *bl_dom_reply;
	char *store;			/* outbound_store: "local" or a redis:// URL */
	unsigned store_timeout_ms;	/* outbound_store_timeout */
	char *store_ca;			/* outbound_store_ca: PEM file, or NULL */
	char *state_dir;
	unsigned max_users;
	unsigned max_connections;
	unsigned idle_timeout;		/* seconds */
	char *user;			/* drop privileges to */
	int syslog;			/* log = syslog */
	bool log_requests;
	unsigned refs;			/* pcfg_ref/pcfg_unref */
};

/* At most this many errors are told (then "N more errors not shown");
 * an err buffer of PCFG_ERR_MAX bytes holds them. */
#define PCFG_MAX_ERRORS CONFTAB_MAX_ERRORS
#define PCFG_ERR_MAX 16384

/* Read and check a configuration file. Returns a new pcfg, or NULL with
 * every error (up to PCFG_MAX_ERRORS), one "file:line: reason" a line
 * (no final newline), in err. */
struct pcfg *pcfg_load(const char *path, char *err, size_t errlen);
/* The same from text (name is used in messages); for tests. */
struct pcfg *pcfg_parse(const char *text, const char *name, char *err, size_t errlen);
void pcfg_free(struct pcfg *c);
/* Reference counting: a new pcfg has one reference; the last unref frees. */
struct pcfg *pcfg_ref(struct pcfg *c);
void pcfg_unref(struct pcfg *c);

/* The limits that apply to user (an override, or the default). */
const struct rl_limits *pcfg_limits_for(const struct pcfg *c, const char *user);
/* Every limit set (default first, then overrides) for rl_periods(). */
size_t pcfg_limit_sets(const struct pcfg *c, const struct rl_limits **out, size_t max);

/* Does the address (text) fall in one of nets? false for unparsable text. */
bool pcfg_net_match(const struct pcfg_net *nets, size_t n, int family,
		    const uint8_t *addr);

/* Expand a reply template: %a client address, %z zone, %t TXT (or
 * nothing), %s score, %u user, %c count, %l limit, %k kind, %w window,
 * %% a percent sign. "${t?; %t}"-like conditionals are written "%{; %t}"
 * (the braces' text only when TXT is not empty). vars[c] gives the value
 * of %c (NULL = empty). Output is cut to fit len. */
void pcfg_expand(const char *tmpl, const char *const vars[128], char *out, size_t len);

/* The table of keys (conftab_help prints it; conftab_load, conftab_dump
 * work with it).  A configuration made by conftab_load has no path and
 * no reference: pcfg_load and pcfg_parse set both. */
extern const struct conftab pcfg_table;

#endif
