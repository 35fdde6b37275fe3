/*
 * baseline.c - EWMA baselines of outbound senders (see baseline.h).
 *
 * SECURITY: see baseline.h.
 */
#include "policy/baseline.h"
#include "policy/domset.h"
#include "policy/keytab.h"
#include "policy/ratelimit.h"
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define BL_ALPHA_HOUR (1.0 / 168)	/* about a week of hours */
#define BL_ALPHA_DAY (1.0 / 14)		/* about two weeks of days */
#define BL_MAX_CATCHUP (24 * 28)	/* quiet hours folded in one by one */

struct bl_dom {
	char name[BL_MAX_DOMAIN + 1];
	uint32_t n;
};

struct bl_user {
	struct kt_node kn;	/* kn.key: the sender (keytab.h) */
	uint32_t hour_start, hour_n, day_start, day_n;
	double h_mean, h_var, d_mean, d_var;
	uint32_t alerted_hour, alerted_day;	/* window start of the last alert */
	struct bl_dom dom[BL_TOP_DOMAINS];
	/* distinct recipient domains of the hour and the day, and their
	 * EWMA (x: per hour, y: per day) */
	struct domset hset, dset;
	double x_mean, x_var, y_mean, y_var;
};

struct bl_table {
	struct kt_table *kt;	/* of struct bl_user */
};

struct bl_table *bl_new(size_t max_users)
{
	struct bl_table *t = xcalloc(1, sizeof(*t));

	t->kt = kt_new(max_users);
	return t;
}

void bl_free(struct bl_table *t)
{
	if (!t)
		return;
	kt_free(t->kt, NULL);
	free(t);
}

size_t bl_count_users(const struct bl_table *t)
{
	return kt_count(t->kt);
}

/* A sender not in the table: the configured default for new senders. */
static void fresh_user(struct bl_user *u, const struct bl_params *p, uint32_t now)
{
	struct kt_node kn = u->kn;

	memset(u, 0, sizeof(*u));
	u->kn = kn;
	u->h_mean = p->new_hour;
	u->h_var = p->new_hour * p->new_hour;
	u->d_mean = p->new_hour * 24;
	u->d_var = u->d_mean * u->d_mean;
	u->x_mean = p->dom_new_hour;
	u->x_var = p->dom_new_hour * p->dom_new_hour;
	u->y_mean = p->dom_new_hour * 24;
	u->y_var = u->y_mean * u->y_mean;
	u->hour_start = now - now % 3600;
	u->day_start = now - now % 86400;
}

static struct bl_user *bl_get(struct bl_table *t, const struct bl_params *p, const char *key,
			      uint32_t now, bool create)
{
	bool created;
	struct bl_user *u = (struct bl_user *)kt_get(t->kt, key, create ? sizeof(*u) : 0,
						     &created);

	if (created)
		fresh_user(u, p, now);
	return u;
}

/* Square root by Newton's method (the build links no libm). */
static double bl_sqrt(double x)
{
	double r = x > 1 ? x : 1;

	if (!(x > 0))
		return 0;
	for (int i = 0; i < 64; i++) {
		double n = 0.5 * (r + x / r);

		if (n >= r)
			break;
		r = n;
	}
	return r;
}

/* Fold x into an EWMA mean and variance. */
static void ewma(double *mean, double *var, double x, double a)
{
	double d = x - *mean;

	*mean += a * d;
	*var = (1 - a) * (*var + a * d * d);
}

/* Close the hours and days of u that ended before now: their counts
 * (messages, distinct domains) go into the EWMAs, the quiet ones as 0.
 * xd: the distinct domains of u's hour and day when not its sets' (a
 * shared baseline), else NULL. */
static void roll(struct bl_user *u, uint32_t now, const uint32_t *xd)
{
	unsigned k = 0;
	double dom;

	if (now < u->hour_start)	/* the clock went back: keep counting */
		return;
	dom = now - u->hour_start < 3600 ? 0 : xd ? xd[0] : ds_count(&u->hset);
	while (now - u->hour_start >= 3600) {
		if (k++ < BL_MAX_CATCHUP) {
			ewma(&u->h_mean, &u->h_var, u->hour_n, BL_ALPHA_HOUR);
			ewma(&u->x_mean, &u->x_var, dom, BL_ALPHA_HOUR);
		}
		u->hour_n = 0;
		dom = 0;
		memset(u->dom, 0, sizeof(u->dom));
		ds_clear(&u->hset);
		u->hour_start = k < BL_MAX_CATCHUP ? u->hour_start + 3600 : now - now % 3600;
	}
	k = 0;
	dom = now < u->day_start || now - u->day_start < 86400 ? 0 :
	      xd ? xd[1] : ds_count(&u->dset);
	while (now >= u->day_start && now - u->day_start >= 86400) {
		if (k++ < 28) {
			ewma(&u->d_mean, &u->d_var, u->day_n, BL_ALPHA_DAY);
			ewma(&u->y_mean, &u->y_var, dom, BL_ALPHA_DAY);
		}
		u->day_n = 0;
		dom = 0;
		ds_clear(&u->dset);
		u->day_start = k < 28 ? u->day_start + 86400 : now - now % 86400;
	}
}

uint32_t bl_threshold(double mean, double var, double factor, uint32_t min)
{
	double t = factor * (mean + 3 * bl_sqrt(var));

	if (t < min)
		return min;
	return t > 4e9 ? 4000000000u : (uint32_t)t;
}

/* Fill v for window's count over threshold th (mean, var its normal). */
static void over(struct bl_verdict *v, bool day, bool dom, uint32_t count, double mean,
		 double var, uint32_t th)
{
	v->over = true;
	v->day = day;
	v->domains = dom;
	v->count = count;
	v->mean = mean;
	v->sd = bl_sqrt(var);
	v->threshold = th;
}

/* Would one more message of u go past its normal? Fills v (no alert). */
static void bl_roll(struct bl_user *u, uint32_t now)
{
	roll(u, now, NULL);
}

/* Would one more message of u go past its normal? Fills v (no alert).
 * xd: the distinct domains of the hour and day (NULL: u's sets). */
static bool evaluate(struct bl_user *u, const struct bl_params *p, const uint32_t *xd,
		     struct bl_verdict *v)
{
	uint32_t th = bl_threshold(u->h_mean, u->h_var, p->factor, p->min_hour);
	uint32_t td = bl_threshold(u->d_mean, u->d_var, p->factor, p->min_day);

	memset(v, 0, sizeof(*v));
	if (u->hour_n + 1 > th) {
		over(v, false, false, u->hour_n + 1, u->h_mean, u->h_var, th);
	} else if (u->day_n + 1 > td) {
		over(v, true, false, u->day_n + 1, u->d_mean, u->d_var, td);
	} else if (p->dom_factor > 0) {
		uint32_t nh = xd ? xd[0] : ds_count(&u->hset);
		uint32_t nd = xd ? xd[1] : ds_count(&u->dset);

		th = bl_threshold(u->x_mean, u->x_var, p->dom_factor, p->dom_min_hour);
		td = bl_threshold(u->y_mean, u->y_var, p->dom_factor, p->dom_min_day);
		if (nh > th)
			over(v, false, true, nh, u->x_mean, u->x_var, th);
		else if (nd > td)
			over(v, true, true, nd, u->y_mean, u->y_var, td);
	}
	return v->over;
}

bool bl_held(struct bl_table *t, const struct bl_params *p, const char *key, uint32_t now,
	     struct bl_verdict *v)
{
	struct bl_user *u = bl_get(t, p, key, now, false);
	struct bl_user fresh;

	if (!u) {
		memset(&fresh, 0, sizeof(fresh));
		fresh_user(&fresh, p, now);
		u = &fresh;
	}
	bl_roll(u, now);
	return evaluate(u, p, NULL, v);
}

bool bl_check(struct bl_table *t, const struct bl_params *p, const char *key, uint32_t now,
	      struct bl_verdict *v)
{
	struct bl_user *u = bl_get(t, p, key, now, false);

	if (!u)		/* a new sender: never alerted (it is not kept) */
		return bl_held(t, p, key, now, v);
	bl_roll(u, now);
	if (!evaluate(u, p, NULL, v))
		return false;
	/* once per window: the hour's alert (volume or domains), the day's */
	if (!v->day && u->alerted_hour != u->hour_start) {
		v->alert = true;
		u->alerted_hour = u->hour_start;
	} else if (v->day && u->alerted_day != u->day_start) {
		v->alert = true;
		u->alerted_day = u->day_start;
	}
	return true;
}

void bl_count(struct bl_table *t, const struct bl_params *p, const char *key, uint32_t now)
{
	struct bl_user *u = bl_get(t, p, key, now, true);

	if (!u)
		return;
	bl_roll(u, now);
	u->hour_n++;
	u->day_n++;
}

void bl_recipient(struct bl_table *t, const struct bl_params *p, const char *key,
		  const char *rcpt, uint32_t now)
{
	struct bl_user *u;
	const char *at = rcpt ? strrchr(rcpt, '@') : NULL;
	struct bl_dom *min = NULL;
	size_t n;

	if (!at || !at[1] || !(u = bl_get(t, p, key, now, true)))
		return;
	bl_roll(u, now);
	at++;
	n = strnlen(at, BL_MAX_DOMAIN);
	if (p->dom_factor > 0) {
		uint32_t h = ds_hash(kt_seed(t->kt), at, n);

		ds_add(&u->hset, h);
		ds_add(&u->dset, h);
	}
	for (int i = 0; i < BL_TOP_DOMAINS; i++) {
		struct bl_dom *d = &u->dom[i];

		if (d->n && !strncasecmp(d->name, at, n) && d->name[n] == '\0') {
			d->n++;
			return;
		}
		if (!min || d->n < min->n)
			min = d;
	}
	/* Space-Saving: the least counted slot is replaced, its count kept */
	memcpy(min->name, at, n);
	min->name[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)min->name[i] < 0x21 || min->name[i] == 0x7f)
			min->name[i] = '?';
	min->n++;
}

static int by_n(const void *a, const void *b)
{
	const struct bl_dom *x = a, *y = b;

	return x->n == y->n ? strcmp(x->name, y->name) : (x->n > y->n ? -1 : 1);
}

void bl_top_domains(struct bl_table *t, const char *key, char *buf, size_t len)
{
	struct bl_params none = { 0 };
	struct bl_user *u = bl_get(t, &none, key, 0, false);
	struct bl_dom d[BL_TOP_DOMAINS];
	size_t off = 0;

	if (len)
		buf[0] = '\0';
	if (!u)
		return;
	memcpy(d, u->dom, sizeof(d));
	qsort(d, BL_TOP_DOMAINS, sizeof(d[0]), by_n);
	for (int i = 0; i < BL_TOP_DOMAINS && d[i].n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s:%u", off ? " " : "",
					d[i].name, d[i].n);
}

/* The status lines of u (rolled to now); top: its recipient domains. */
static void status_lines(FILE *f, struct bl_user *u, const struct bl_params *p,
			 const uint32_t *xd, const char *top)
{
	struct bl_verdict v;
	uint32_t nh = xd ? xd[0] : ds_count(&u->hset), nd = xd ? xd[1] : ds_count(&u->dset);

	fprintf(f, "  baseline: %u msgs this hour (normal %.1f +- %.1f, held above %u), "
		"%u today (normal %.1f +- %.1f, held above %u)", u->hour_n, u->h_mean,
		bl_sqrt(u->h_var), bl_threshold(u->h_mean, u->h_var, p->factor, p->min_hour),
		u->day_n, u->d_mean, bl_sqrt(u->d_var),
		bl_threshold(u->d_mean, u->d_var, p->factor, p->min_day));
	if (p->dom_factor > 0)
		fprintf(f, "; %u recipient domains this hour (normal %.1f +- %.1f, held above "
			"%u), %u today (normal %.1f +- %.1f, held above %u)",
			nh, u->x_mean, bl_sqrt(u->x_var),
			bl_threshold(u->x_mean, u->x_var, p->dom_factor, p->dom_min_hour),
			nd, u->y_mean, bl_sqrt(u->y_var),
			bl_threshold(u->y_mean, u->y_var, p->dom_factor, p->dom_min_day));
	fprintf(f, "%s%s\n", top[0] ? "; recipient domains this hour: " : "", top);
	if (evaluate(u, p, xd, &v))
		fprintf(f, "  baseline: HELD: %u %s this %s, above %u\n", v.count,
			v.domains ? "recipient domains" : "msgs", v.day ? "day" : "hour",
			v.threshold);
}

void bl_status(FILE *f, struct bl_table *t, const struct bl_params *p, const char *key,
	       uint32_t now)
{
	struct bl_user *u = bl_get(t, p, key, now, false);
	char top[BL_TOP_DOMAINS * (BL_MAX_DOMAIN + 12)];

	if (!u)
		return;
	bl_roll(u, now);
	bl_top_domains(t, key, top, sizeof(top));
	status_lines(f, u, p, NULL, top);
}

void bl_status_shared(FILE *f, const struct bl_params *p, const struct bl_shared *s,
		      uint32_t now)
{
	struct bl_user u;
	uint32_t xd[2] = { s->hour_dom, s->day_dom };

	memset(&u, 0, sizeof(u));
	fresh_user(&u, p, now);
	u.hour_start = s->hour_start;
	u.hour_n = s->hour_n;
	u.day_start = s->day_start;
	u.day_n = s->day_n;
	u.h_mean = s->h_mean;
	u.h_var = s->h_var;
	u.d_mean = s->d_mean;
	u.d_var = s->d_var;
	u.x_mean = s->x_mean;
	u.x_var = s->x_var;
	u.y_mean = s->y_mean;
	u.y_var = s->y_var;
	roll(&u, now, xd);
	/* a window that ended starts with no domains */
	if (u.hour_start != s->hour_start)
		xd[0] = 0;
	if (u.day_start != s->day_start)
		xd[1] = 0;
	status_lines(f, &u, p, xd, s->top ? s->top : "");
}

/* -- the file ---------------------------------------------------------- */

/* Version 2: "rblkit-baselines 2 SEED\n", then one line a sender:
 * "hs hn hm hv ds dn dm dv ah ad xm xv ym yv HSET DSET LEN KEY\n" (x, y:
 * the domains' EWMAs; HSET, DSET: ds_text of the hour's and day's
 * domains), KEY as LEN raw bytes (user names may hold spaces). Version 1
 * had neither the seed nor the domains. */
#define BL_MAGIC1 "rblkit-baselines 1\n"
#define BL_MAGIC2 "rblkit-baselines 2 "

/* One sender's line of the file f (arg). */
static void save_one(void *arg, struct kt_node *n)
{
	const struct bl_user *u = (const struct bl_user *)n;
	char hs[DS_TEXT_MAX + 1], ds[DS_TEXT_MAX + 1];
	FILE *f = arg;

	ds_text(&u->hset, hs);
	ds_text(&u->dset, ds);
	fprintf(f, "%u %u %.17g %.17g %u %u %.17g %.17g %u %u %.17g %.17g %.17g %.17g %s %s "
		"%zu ", u->hour_start, u->hour_n, u->h_mean, u->h_var, u->day_start, u->day_n,
		u->d_mean, u->d_var, u->alerted_hour, u->alerted_day, u->x_mean, u->x_var,
		u->y_mean, u->y_var, hs, ds, strlen(u->kn.key));
	fputs(u->kn.key, f);
	fputc('\n', f);
}

int bl_save(struct bl_table *t, const char *path)
{
	char tmp[4200];
	FILE *f;
	int fd, rc = -1, e;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
		return -1;
	if (!(f = fdopen(fd, "w"))) {
		close(fd);
		goto out;
	}
	fprintf(f, "%s%u\n", BL_MAGIC2, kt_seed(t->kt));
	kt_foreach(t->kt, save_one, f);
	if (fflush(f) || fsync(fileno(f))) {
		fclose(f);
		goto out;
	}
	if (fclose(f))
		goto out;
	rc = rename(tmp, path);
out:
	e = errno;
	if (rc)
		unlink(tmp);
	errno = e;
	return rc;
}

/* The first line: the version (1 or 2, and 2's seed into t when t is
 * empty), or -1. */
static int read_magic(FILE *f, struct bl_table *t)
{
	char line[64];
	unsigned long seed;
	char *end;

	if (!fgets(line, sizeof(line), f))
		return -1;
	if (!strcmp(line, BL_MAGIC1))
		return 1;
	if (strncmp(line, BL_MAGIC2, strlen(BL_MAGIC2)))
		return -1;
	seed = strtoul(line + strlen(BL_MAGIC2), &end, 10);
	if (end == line + strlen(BL_MAGIC2) || strcmp(end, "\n") || seed > UINT32_MAX)
		return -1;
	kt_set_seed(t->kt, (uint32_t)seed);	/* an empty table only */
	return 2;
}

static bool sane(double mean, double var)
{
	return mean >= 0 && var >= 0 && mean <= 1e12 && var <= 1e24;
}

/* One sender's line (version ver) into v and key; false if damaged. */
static bool read_line(FILE *f, int ver, struct bl_user *v, char *key, int *eof)
{
	char hs[DS_TEXT_MAX + 2], ds[DS_TEXT_MAX + 2];
	size_t kl;
	int k;

	k = fscanf(f, "%u %u %lg %lg %u %u %lg %lg %u %u", &v->hour_start, &v->hour_n,
		   &v->h_mean, &v->h_var, &v->day_start, &v->day_n, &v->d_mean, &v->d_var,
		   &v->alerted_hour, &v->alerted_day);
	if ((*eof = k == EOF))
		return false;
	if (k != 10)
		return false;
	if (ver == 2 && (fscanf(f, "%lg %lg %lg %lg %259s %259s", &v->x_mean, &v->x_var,
				&v->y_mean, &v->y_var, hs, ds) != 6 ||
			 ds_parse(&v->hset, hs, strlen(hs)) || ds_parse(&v->dset, ds, strlen(ds)) ||
			 !sane(v->x_mean, v->x_var) || !sane(v->y_mean, v->y_var)))
		return false;
	if (fscanf(f, "%zu", &kl) != 1 || fgetc(f) != ' ' || kl == 0 || kl > RL_MAX_KEY ||
	    fread(key, 1, kl, f) != kl || fgetc(f) != '\n' || memchr(key, '\0', kl) ||
	    !sane(v->h_mean, v->h_var) || !sane(v->d_mean, v->d_var))
		return false;
	key[kl] = '\0';
	return true;
}

long bl_load(struct bl_table *t, const char *path, char *err, size_t errlen)
{
	struct bl_params none = { 0 };
	FILE *f = fopen(path, "re");
	long n = 0, line = 1;
	int ver;

	if (!f)
		return errno == ENOENT ? 0 : (snprintf(err, errlen, "%s: %s", path,
						       strerror(errno)), -1);
	if ((ver = read_magic(f, t)) < 0) {
		snprintf(err, errlen, "%s:1: not a baselines file", path);
		fclose(f);
		return -1;
	}
	for (;;) {
		struct bl_user v, *u;
		char key[RL_MAX_KEY + 1];
		int eof;

		line++;
		memset(&v, 0, sizeof(v));
		fresh_user(&v, &none, 0);
		if (!read_line(f, ver, &v, key, &eof)) {
			if (eof)
				break;
			snprintf(err, errlen, "%s:%ld: a damaged line; the rest is ignored", path, line);
			fclose(f);
			return -1;
		}
		if (!(u = bl_get(t, &none, key, v.hour_start, true)))
			break;	/* the table is full */
		if (ver == 1) {	/* no domains yet: what bl_get assumed */
			v.x_mean = u->x_mean;
			v.x_var = u->x_var;
			v.y_mean = u->y_mean;
			v.y_var = u->y_var;
		}
		v.kn = u->kn;
		memcpy(v.dom, u->dom, sizeof(v.dom));
		*u = v;
		n++;
	}
	fclose(f);
	return n;
}
