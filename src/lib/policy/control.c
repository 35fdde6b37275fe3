/*
 * control.c - status report and control commands of rblkit policy.
 *
 * SECURITY: see control.h.
 */
#include "policy/control.h"
#include "base/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct row {
	struct rl_user *u;
	uint32_t sort;
};

struct collect {
	struct row *rows;
	size_t n, cap;
	const struct pcfg *cfg;
	uint32_t now;
	uint32_t period;	/* window sorted by */
};

static void collect_user(void *arg, struct rl_user *u)
{
	struct collect *c = arg;

	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 256;
		c->rows = xreallocarray(c->rows, c->cap, sizeof(*c->rows));
	}
	c->rows[c->n].u = u;
	c->rows[c->n].sort = rl_estimate(u, RL_MESSAGES, c->period, c->now);
	c->n++;
}

static int by_count(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->sort != y->sort)
		return x->sort > y->sort ? -1 : 1;
	return strcmp(x->u->kn.key, y->u->kn.key);
}

/* The user name with control characters replaced, for the terminal. */
static const char *clean(const char *s, char *buf, size_t len)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < len; i++)
		buf[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
	buf[i] = '\0';
	return buf;
}

static void print_counts(FILE *f, const struct pcfg *cfg, struct rl_user *u, uint32_t now)
{
	const struct rl_limits *l = pcfg_limits_for(cfg, u->kn.key);

	for (size_t i = 0; i < l->n; i++) {
		char per[32];

		rl_period_text(l->lim[i].period, per, sizeof(per));
		fprintf(f, "  %u/%u %s/%s", rl_estimate(u, l->lim[i].kind, l->lim[i].period, now),
			l->lim[i].max, l->lim[i].kind == RL_MESSAGES ? "msgs" : "rcpts", per);
	}
	if (!l->n)
		fprintf(f, "  %u msgs/hour  %u rcpts/day",
			rl_estimate(u, RL_MESSAGES, 3600, now),
			rl_estimate(u, RL_RECIPIENTS, 86400, now));
}

void pctl_status(FILE *f, const struct pcfg *cfg, struct rl_table *t, uint32_t now,
		 unsigned top)
{
	struct collect c = { .cfg = cfg, .now = now, .period = 3600 };
	size_t nblocked = 0;
	char name[RL_MAX_KEY + 1];

	for (size_t i = 0; i < cfg->limits.n; i++)
		if (cfg->limits.lim[i].kind == RL_MESSAGES) {
			c.period = cfg->limits.lim[i].period;
			break;
		}
	rl_foreach(t, collect_user, &c);
	if (c.n)
		qsort(c.rows, c.n, sizeof(*c.rows), by_count);
	for (size_t i = 0; i < c.n; i++)
		nblocked += c.rows[i].u->blocked;
	fprintf(f, "users counted: %zu, blocked: %zu\n", c.n, nblocked);
	if (nblocked) {
		fprintf(f, "\nblocked:\n");
		for (size_t i = 0; i < c.n; i++) {
			struct rl_user *u = c.rows[i].u;
			char lt[64], when[32];
			time_t since = u->blocked_since;
			struct tm tm;

			if (!u->blocked)
				continue;
			rl_limit_text(&u->blocked_by, lt, sizeof(lt));
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%SZ", gmtime_r(&since, &tm));
			fprintf(f, "  %s  since %s  limit %s%s\n", clean(u->kn.key, name, sizeof(name)),
				when, lt, cfg->block_until_reset ? "  (until reset)" : "");
		}
	}
	if (c.n) {
		char per[32];

		rl_period_text(c.period, per, sizeof(per));
		fprintf(f, "\ntop senders (by messages per %s):\n", per);
	}
	for (size_t i = 0; i < c.n && i < top; i++) {
		fprintf(f, "  %-40s", clean(c.rows[i].u->kn.key, name, sizeof(name)));
		print_counts(f, cfg, c.rows[i].u, now);
		fprintf(f, "%s\n", c.rows[i].u->blocked ? "  BLOCKED" : "");
	}
	free(c.rows);
}

int pctl_status_user(FILE *f, const struct pcfg *cfg, struct rl_table *t,
		     uint32_t now, const char *user)
{
	struct rl_user *u = rl_get(t, user, false);
	char name[RL_MAX_KEY + 1];

	if (!u)
		return -1;
	fprintf(f, "%s", clean(u->kn.key, name, sizeof(name)));
	print_counts(f, cfg, u, now);
	if (u->blocked) {
		char lt[64], when[32];
		time_t since = u->blocked_since;
		struct tm tm;

		rl_limit_text(&u->blocked_by, lt, sizeof(lt));
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%SZ", gmtime_r(&since, &tm));
		fprintf(f, "  BLOCKED since %s  limit %s%s", when, lt,
			cfg->block_until_reset ? "  (until reset)" : "");
	}
	fprintf(f, "\n");
	return 0;
}

void pctl_status_limits(const struct pcfg *cfg, const char *user, struct rl_limits *out)
{
	const struct rl_limits *l = pcfg_limits_for(cfg, user);

	if (l->n) {
		*out = *l;
		return;
	}
	/* no limits: what print_counts shows without them */
	memset(out, 0, sizeof(*out));
	out->lim[0] = (struct rl_limit){ RL_MESSAGES, 0, 3600 };
	out->lim[1] = (struct rl_limit){ RL_RECIPIENTS, 0, 86400 };
	out->n = 2;
}

int pctl_status_cluster(FILE *f, struct pd_ctx *x, const char *user,
			const struct pcs_status *st, uint32_t now)
{
	const struct rl_limits *l = pcfg_limits_for(x->cfg, user);
	char name[RL_MAX_KEY + 1], lt[64], per[32];
	bool any = st->blocked[0] || st->has_baseline;
	struct bl_params p;

	for (size_t i = 0; i < st->nest; i++)
		any |= st->est[i] != 0;
	if (!any)
		return -1;
	fprintf(f, "%s", clean(user, name, sizeof(name)));
	for (size_t i = 0; i < l->n && i < st->nest; i++) {
		rl_period_text(l->lim[i].period, per, sizeof(per));
		fprintf(f, "  %u/%u %s/%s", st->est[i], l->lim[i].max,
			l->lim[i].kind == RL_MESSAGES ? "msgs" : "rcpts", per);
	}
	if (!l->n && st->nest == 2)
		fprintf(f, "  %u msgs/hour  %u rcpts/day", st->est[0], st->est[1]);
	fprintf(f, "  (all daemons: outbound_store)\n");
	for (size_t i = 0; i < l->n && i < st->nest; i++) {
		uint64_t add = 1;

		if ((uint64_t)st->est[i] + add > l->lim[i].max) {
			rl_limit_text(&l->lim[i], lt, sizeof(lt));
			fprintf(f, "  BLOCKED  limit %s\n", lt);
			break;
		}
	}
	if (st->blocked[0])
		fprintf(f, "  BLOCKED until reset (%s)\n", st->blocked);
	if (st->has_baseline && x->cfg->baseline) {
		pd_bl_params(x->cfg, &p);
		bl_status_shared(f, &p, &st->bl, now);
	}
	return 0;
}

int pctl_status_top(const char *arg, unsigned *top)
{
	char *end;
	long n;

	*top = 20;
	if (!arg || !*arg)
		return 0;
	if (strspn(arg, "0123456789") != strlen(arg))
		return -1;
	n = strtol(arg, &end, 10);
	*top = n > 0 && n < 1000000000 ? (unsigned)n : 20;
	return 0;
}

int pctl_command(struct pd_ctx *x, const char *line, FILE *out)
{
	uint32_t now = (uint32_t)time(NULL);

	if (!strncmp(line, "status", 6) && (line[6] == '\0' || line[6] == ' ')) {
		const char *arg = line[6] ? line + 7 : "";
		unsigned top;

		if (!pctl_status_top(arg, &top)) {
			fprintf(out, "ok\n");
			pctl_status(out, x->cfg, x->t, now, top);
		} else if (!rl_get(x->t, arg, false)) {	/* a user name */
			fprintf(out, "error: %s is not counted\n", arg);
		} else {
			fprintf(out, "ok\n");
			pctl_status_user(out, x->cfg, x->t, now, arg);
			if (x->bl) {
				struct bl_params p;

				pd_bl_params(x->cfg, &p);
				bl_status(out, x->bl, &p, arg, now);
			}
		}
		return 0;
	}
	if (!strncmp(line, "reset ", 6) && line[6]) {
		const char *user = line + 6;
		struct rl_user *u = rl_get(x->t, user, false);
		bool was = u && u->blocked;

		if (x->store) {
			/* the shared counts too: the user may be counted by the
			 * other daemons only */
			if (pcs_reset(x->store, user, x->periods, x->nperiods, now)) {
				fprintf(out, "error: outbound_store is down; %s not reset\n", user);
				return 0;
			}
			if (!u) {
				log_info("reset of %s by the operator (shared store)", user);
				fprintf(out, "ok\n%s: shared counters cleared\n", user);
				return 0;
			}
		}
		if (!u) {
			fprintf(out, "error: %s is not counted\n", user);
			return 0;
		}
		rl_remove(x->t, user);
		if (x->pst)
			pst_reset(x->pst, user);
		log_info("reset of %s by the operator%s", user, was ? " (was blocked)" : "");
		fprintf(out, "ok\n%s: counters cleared%s\n", user, was ? ", block lifted" : "");
		return 0;
	}
	fprintf(out, "error: unknown command (status [N|USER], reset USER)\n");
	return -1;
}

int pctl_client(const char *state_dir, const char *cmd, FILE *out)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char buf[4096];
	int fd, first = 1, rc = 0;
	size_t cl = strlen(cmd);
	ssize_t n;

	if ((size_t)snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s", state_dir,
			     PCTL_SOCKET) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) ||
	    write(fd, cmd, cl) != (ssize_t)cl || write(fd, "\n", 1) != 1) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		const char *p = buf;
		size_t len = (size_t)n;

		if (first) {
			/* the status line: "ok" is not shown, errors are */
			if (!strncmp(buf, "ok\n", 3) && len >= 3) {
				p += 3;
				len -= 3;
			} else {
				rc = 1;
			}
			first = 0;
		}
		fwrite(p, 1, len, out);
	}
	close(fd);
	if (first) {
		errno = ECONNRESET;
		return -1;
	}
	return rc;
}
