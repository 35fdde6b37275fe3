/*
 * baseline.c - EWMA baselines of outbound senders (see baseline.h).
 *
 * SECURITY: see baseline.h.
 */
#include "policy/baseline.h"
#include "policy/ratelimit.h"
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

#define BL_ALPHA_HOUR (1.0 / 168)	/* about a week of hours */
#define BL_ALPHA_DAY (1.0 / 14)		/* about two weeks of days */
#define BL_MAX_CATCHUP (24 * 28)	/* quiet hours folded in one by one */

struct bl_dom {
	char name[BL_MAX_DOMAIN + 1];
	uint32_t n;
};

struct bl_user {
	char *key;
	uint32_t hash;
	struct bl_user *next;
	uint32_t hour_start, hour_n, day_start, day_n;
	double h_mean, h_var, d_mean, d_var;
	uint32_t alerted_hour, alerted_day;	/* window start of the last alert */
	struct bl_dom dom[BL_TOP_DOMAINS];
};

struct bl_table {
	struct bl_user **bucket;
	size_t nbuckets, n, max;
	uint32_t seed;
};

struct bl_table *bl_new(size_t max_users)
{
	struct bl_table *t = xcalloc(1, sizeof(*t));

	t->nbuckets = 1024;
	t->bucket = xcalloc(t->nbuckets, sizeof(*t->bucket));
	t->max = max_users;
	if (getrandom(&t->seed, sizeof(t->seed), GRND_NONBLOCK) != sizeof(t->seed))
		t->seed = (uint32_t)now_ms();
	return t;
}

void bl_free(struct bl_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nbuckets; i++)
		for (struct bl_user *u = t->bucket[i], *nx; u; u = nx) {
			nx = u->next;
			free(u->key);
			free(u);
		}
	free(t->bucket);
	free(t);
}

size_t bl_count_users(const struct bl_table *t)
{
	return t->n;
}

static uint32_t bl_hash(const struct bl_table *t, const char *k, size_t n)
{
	uint32_t h = 2166136261u ^ t->seed;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)k[i];
		h *= 16777619u;
	}
	return h;
}

static void bl_grow(struct bl_table *t)
{
	size_t nb = t->nbuckets * 2;
	struct bl_user **b = xcalloc(nb, sizeof(*b));

	for (size_t i = 0; i < t->nbuckets; i++)
		for (struct bl_user *u = t->bucket[i], *nx; u; u = nx) {
			nx = u->next;
			u->next = b[u->hash & (nb - 1)];
			b[u->hash & (nb - 1)] = u;
		}
	free(t->bucket);
	t->bucket = b;
	t->nbuckets = nb;
}

static struct bl_user *bl_get(struct bl_table *t, const struct bl_params *p, const char *key,
			      uint32_t now, bool create)
{
	size_t n = strnlen(key, RL_MAX_KEY);
	uint32_t h = bl_hash(t, key, n);
	struct bl_user *u;

	for (u = t->bucket[h & (t->nbuckets - 1)]; u; u = u->next)
		if (u->hash == h && !strncmp(u->key, key, n) && u->key[n] == '\0')
			return u;
	if (!create || t->n >= t->max)
		return NULL;
	if (t->n >= t->nbuckets)
		bl_grow(t);
	u = xcalloc(1, sizeof(*u));
	u->key = xstrndup(key, n);
	u->hash = h;
	u->hour_start = now - now % 3600;
	u->day_start = now - now % 86400;
	u->h_mean = p->new_hour;
	u->h_var = p->new_hour * p->new_hour;
	u->d_mean = p->new_hour * 24;
	u->d_var = u->d_mean * u->d_mean;
	u->next = t->bucket[h & (t->nbuckets - 1)];
	t->bucket[h & (t->nbuckets - 1)] = u;
	t->n++;
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

/* Close the hours and days of u that ended before now. */
static void bl_roll(struct bl_user *u, uint32_t now)
{
	unsigned k = 0;

	if (now < u->hour_start)	/* the clock went back: keep counting */
		return;
	while (now - u->hour_start >= 3600) {
		if (k++ < BL_MAX_CATCHUP)
			ewma(&u->h_mean, &u->h_var, u->hour_n, BL_ALPHA_HOUR);
		u->hour_n = 0;
		memset(u->dom, 0, sizeof(u->dom));
		u->hour_start = k < BL_MAX_CATCHUP ? u->hour_start + 3600 : now - now % 3600;
	}
	k = 0;
	while (now >= u->day_start && now - u->day_start >= 86400) {
		if (k++ < 28)
			ewma(&u->d_mean, &u->d_var, u->day_n, BL_ALPHA_DAY);
		u->day_n = 0;
		u->day_start = k < 28 ? u->day_start + 86400 : now - now % 86400;
	}
}

static uint32_t threshold(double mean, double var, double factor, uint32_t min)
{
	double t = factor * (mean + 3 * bl_sqrt(var));

	if (t < min)
		return min;
	return t > 4e9 ? 4000000000u : (uint32_t)t;
}

bool bl_check(struct bl_table *t, const struct bl_params *p, const char *key, uint32_t now,
	      struct bl_verdict *v)
{
	struct bl_user *u = bl_get(t, p, key, now, false);
	struct bl_user fresh;
	uint32_t th, td;

	memset(v, 0, sizeof(*v));
	if (!u) {
		memset(&fresh, 0, sizeof(fresh));
		fresh.h_mean = p->new_hour;
		fresh.h_var = p->new_hour * p->new_hour;
		fresh.d_mean = p->new_hour * 24;
		fresh.d_var = fresh.d_mean * fresh.d_mean;
		fresh.hour_start = now - now % 3600;
		fresh.day_start = now - now % 86400;
		u = &fresh;
	}
	bl_roll(u, now);
	th = threshold(u->h_mean, u->h_var, p->factor, p->min_hour);
	td = threshold(u->d_mean, u->d_var, p->factor, p->min_day);
	if (u->hour_n + 1 > th) {
		v->over = true;
		v->count = u->hour_n + 1;
		v->mean = u->h_mean;
		v->sd = bl_sqrt(u->h_var);
		v->threshold = th;
		v->alert = u != &fresh && u->alerted_hour != u->hour_start;
		if (v->alert)
			u->alerted_hour = u->hour_start;
	} else if (u->day_n + 1 > td) {
		v->over = true;
		v->day = true;
		v->count = u->day_n + 1;
		v->mean = u->d_mean;
		v->sd = bl_sqrt(u->d_var);
		v->threshold = td;
		v->alert = u != &fresh && u->alerted_day != u->day_start;
		if (v->alert)
			u->alerted_day = u->day_start;
	}
	return v->over;
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

void bl_status(FILE *f, struct bl_table *t, const struct bl_params *p, const char *key,
	       uint32_t now)
{
	struct bl_user *u = bl_get(t, p, key, now, false);
	char top[BL_TOP_DOMAINS * (BL_MAX_DOMAIN + 12)];

	if (!u)
		return;
	bl_roll(u, now);
	bl_top_domains(t, key, top, sizeof(top));
	fprintf(f, "  baseline: %u msgs this hour (normal %.1f +- %.1f, held above %u), "
		"%u today (normal %.1f +- %.1f, held above %u)%s%s\n", u->hour_n, u->h_mean,
		bl_sqrt(u->h_var), threshold(u->h_mean, u->h_var, p->factor, p->min_hour),
		u->day_n, u->d_mean, bl_sqrt(u->d_var),
		threshold(u->d_mean, u->d_var, p->factor, p->min_day),
		top[0] ? "; recipient domains this hour: " : "", top);
}

/* -- the file ---------------------------------------------------------- */

/* One line a sender: "hs hn hm hv ds dn dm dv ah ad LEN KEY\n", KEY as
 * LEN raw bytes (user names may hold spaces). */
#define BL_MAGIC "rblkit-baselines 1\n"

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
	fputs(BL_MAGIC, f);
	for (size_t i = 0; i < t->nbuckets; i++)
		for (struct bl_user *u = t->bucket[i]; u; u = u->next) {
			fprintf(f, "%u %u %.17g %.17g %u %u %.17g %.17g %u %u %zu ", u->hour_start,
				u->hour_n, u->h_mean, u->h_var, u->day_start, u->day_n, u->d_mean,
				u->d_var, u->alerted_hour, u->alerted_day, strlen(u->key));
			fputs(u->key, f);
			fputc('\n', f);
		}
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

long bl_load(struct bl_table *t, const char *path, char *err, size_t errlen)
{
	struct bl_params none = { 0 };
	FILE *f = fopen(path, "re");
	char magic[sizeof(BL_MAGIC)];
	long n = 0, line = 1;

	if (!f)
		return errno == ENOENT ? 0 : (snprintf(err, errlen, "%s: %s", path,
						       strerror(errno)), -1);
	if (!fgets(magic, sizeof(magic), f) || strcmp(magic, BL_MAGIC)) {
		snprintf(err, errlen, "%s:1: not a baselines file", path);
		fclose(f);
		return -1;
	}
	for (;;) {
		struct bl_user v, *u;
		char key[RL_MAX_KEY + 1];
		size_t kl;
		int c, k;

		line++;
		k = fscanf(f, "%u %u %lg %lg %u %u %lg %lg %u %u %zu", &v.hour_start, &v.hour_n,
			   &v.h_mean, &v.h_var, &v.day_start, &v.day_n, &v.d_mean, &v.d_var,
			   &v.alerted_hour, &v.alerted_day, &kl);
		if (k == EOF)
			break;
		if (k != 11 || fgetc(f) != ' ' || kl == 0 || kl > RL_MAX_KEY ||
		    fread(key, 1, kl, f) != kl || (c = fgetc(f)) != '\n' ||
		    memchr(key, '\0', kl) || !(v.h_mean >= 0) || !(v.h_var >= 0) ||
		    !(v.d_mean >= 0) || !(v.d_var >= 0) || v.h_mean > 1e12 || v.d_mean > 1e12 ||
		    v.h_var > 1e24 || v.d_var > 1e24) {
			snprintf(err, errlen, "%s:%ld: a damaged line; the rest is ignored", path, line);
			fclose(f);
			return -1;
		}
		key[kl] = '\0';
		if (!(u = bl_get(t, &none, key, v.hour_start, true)))
			break;	/* the table is full */
		u->hour_start = v.hour_start;
		u->hour_n = v.hour_n;
		u->h_mean = v.h_mean;
		u->h_var = v.h_var;
		u->day_start = v.day_start;
		u->day_n = v.day_n;
		u->d_mean = v.d_mean;
		u->d_var = v.d_var;
		u->alerted_hour = v.alerted_hour;
		u->alerted_day = v.alerted_day;
		n++;
	}
	fclose(f);
	return n;
}
