/*
 * state.c - snapshot + journal persistence of the outbound counters.
 *
 * Record: crc32(4) len(2) type(1) version(1) payload(len), native byte
 * order (the files never leave the machine). The CRC covers everything
 * after itself.
 *
 * SECURITY: reads the daemon's own files defensively: every field read
 * checks the bytes left in its record, every record the bytes left in
 * the file; a bad record ends that file's replay with a warning.
 */
#include "policy/state.h"
#include "base/util.h"

#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define PST_SNAP "counters"
#define PST_SNAP_MAGIC "RBLKPOL1"
#define PST_JRN_MAGIC "RBLKJRN1"
#define PST_HDR 16		/* magic(8) generation(8) */
#define PST_SNAPSHOT_BYTES (4u << 20)

enum { R_ADD = 1, R_RESET = 2, R_BLOCK = 3, R_UNBLOCK = 4, R_USER = 5 };

struct pst {
	char *dir;
	struct rl_table *t;
	bool readonly;
	int lockfd, jfd;
	uint64_t gen;		/* generation of the open journal */
	uint64_t jbytes;	/* bytes in it */
	atomic_bool dirty;	/* written since the last fdatasync */
	uint64_t last_sync;
	/* fdatasync runs on a thread of its own, so that the event loop
	 * never waits for the disk; mu guards jfd against the switch to a
	 * new journal while a sync is under way */
	pthread_t syncer;
	bool has_syncer;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stopping;
	/* a snapshot the syncer finishes: the journal it replaced (to sync
	 * and close) and the written, not yet synced, temporary file */
	bool snap_pending;
	int snap_oldjfd, snap_tmpfd;
	uint64_t snap_gen;
	uint64_t loaded;
	_Atomic long long last_err;	/* both threads report errors */
};

/* -- encoding -------------------------------------------------------- */

struct rec {
	uint8_t b[1024];
	size_t n;
};

static void put(struct rec *r, const void *p, size_t n)
{
	if (r->n + n <= sizeof(r->b))
		memcpy(r->b + r->n, p, n);
	r->n += n;
}

static void put32(struct rec *r, uint32_t v) { put(r, &v, 4); }
static void put8(struct rec *r, uint8_t v) { put(r, &v, 1); }

static void rec_begin(struct rec *r, uint8_t type)
{
	r->n = 8;
	r->b[6] = type;
	r->b[7] = 1;
}

/* Close the record; returns its size or 0 if it overflowed. */
static size_t rec_end(struct rec *r)
{
	uint16_t len;
	uint32_t crc;

	if (r->n > sizeof(r->b) || r->n - 8 > UINT16_MAX)
		return 0;
	len = (uint16_t)(r->n - 8);
	memcpy(r->b + 4, &len, 2);
	crc = (uint32_t)crc32(0L, r->b + 4, (uInt)(r->n - 4));
	memcpy(r->b, &crc, 4);
	return r->n;
}

static void put_key(struct rec *r, const char *key)
{
	size_t n = strnlen(key, RL_MAX_KEY);

	put(r, key, n);
}

/* -- decoding -------------------------------------------------------- */

struct rd {
	const uint8_t *p;
	size_t left;
	bool err;
};

static void get(struct rd *d, void *out, size_t n)
{
	if (d->err || d->left < n) {
		d->err = true;
		memset(out, 0, n);
		return;
	}
	memcpy(out, d->p, n);
	d->p += n;
	d->left -= n;
}

static uint32_t get32(struct rd *d) { uint32_t v; get(d, &v, 4); return v; }
static uint8_t get8(struct rd *d) { uint8_t v; get(d, &v, 1); return v; }

/* The rest of the record as a NUL-terminated key in buf. */
static const char *get_key(struct rd *d, char *buf)
{
	if (d->err || d->left == 0 || d->left > RL_MAX_KEY ||
	    memchr(d->p, '\0', d->left)) {
		d->err = true;
		return NULL;
	}
	memcpy(buf, d->p, d->left);
	buf[d->left] = '\0';
	d->left = 0;
	return buf;
}

static void get_limit(struct rd *d, struct rl_limit *l)
{
	l->kind = get8(d) ? RL_RECIPIENTS : RL_MESSAGES;
	l->max = get32(d);
	l->period = get32(d);
}

static void put_limit(struct rec *r, const struct rl_limit *l)
{
	put8(r, (uint8_t)l->kind);
	put32(r, l->max);
	put32(r, l->period);
}

/* Apply one record's payload to the table. Returns 0 or -1 (bad). */
static int apply(struct rl_table *t, uint8_t type, struct rd *d)
{
	char key[RL_MAX_KEY + 1];
	struct rl_user *u;
	uint32_t periods[RL_MAX_PERIODS], now, msgs, rcpts, np;

	switch (type) {
	case R_ADD:
		now = get32(d);
		msgs = get32(d);
		rcpts = get32(d);
		np = get8(d);
		if (np > RL_MAX_PERIODS)
			return -1;
		for (uint32_t i = 0; i < np; i++)
			if ((periods[i] = get32(d)) == 0)
				return -1;
		if (!get_key(d, key) || !(u = rl_get(t, key, true)))
			return d->err ? -1 : 0;
		rl_add(u, periods, np, now, msgs, rcpts);
		return 0;
	case R_BLOCK: {
		struct rl_limit l;
		uint32_t since = get32(d);

		get_limit(d, &l);
		if (l.period == 0)	/* no limit has a window of 0 s */
			return -1;
		if (!get_key(d, key) || !(u = rl_get(t, key, true)))
			return d->err ? -1 : 0;
		u->blocked = true;
		u->blocked_since = since;
		u->blocked_by = l;
		return 0;
	}
	case R_UNBLOCK:
		if (!get_key(d, key))
			return -1;
		if ((u = rl_get(t, key, false)))
			u->blocked = false;
		return 0;
	case R_RESET:
		if (!get_key(d, key))
			return -1;
		rl_remove(t, key);
		return 0;
	case R_USER: {
		struct rl_user tmp;

		memset(&tmp, 0, sizeof(tmp));
		tmp.last = get32(d);
		tmp.blocked = get8(d) != 0;
		tmp.blocked_since = get32(d);
		get_limit(d, &tmp.blocked_by);
		for (int i = 0; i < RL_MAX_PERIODS; i++) {
			struct rl_counter *c = &tmp.c[i];

			c->period = get32(d);
			c->start = get32(d);
			for (int k = 0; k < 2; k++) {
				c->cur[k] = get32(d);
				c->prev[k] = get32(d);
			}
		}
		if (tmp.blocked && tmp.blocked_by.period == 0)
			return -1;
		if (!get_key(d, key) || !(u = rl_get(t, key, true)))
			return d->err ? -1 : 0;
		u->last = tmp.last;
		u->blocked = tmp.blocked;
		u->blocked_since = tmp.blocked_since;
		u->blocked_by = tmp.blocked_by;
		memcpy(u->c, tmp.c, sizeof(u->c));
		return 0;
	}
	}
	return -1;
}

/* Read a whole file. Returns 0 (buffer in *buf), 1 if it does not exist,
 * -1 on error. */
static int slurp(const char *path, uint8_t **buf, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = -1;
	struct stat st;
	size_t got = 0;

	*buf = NULL;
	if (fd < 0)
		return errno == ENOENT ? 1 : -1;
	if (fstat(fd, &st) || st.st_size < 0)
		goto out;
	*buf = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, *buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	*len = got;
	rc = 0;
out:
	close(fd);
	return rc;
}

/* Replay the records of one file. Returns records applied. */
static uint64_t replay(struct rl_table *t, const char *path, const uint8_t *b,
		       size_t len)
{
	size_t off = PST_HDR;
	uint64_t n = 0;

	while (off < len) {
		uint32_t crc;
		uint16_t rl;
		struct rd d;

		if (len - off < 8)
			goto torn;
		memcpy(&crc, b + off, 4);
		memcpy(&rl, b + off + 4, 2);
		if (len - off - 8 < rl ||
		    crc != (uint32_t)crc32(0L, b + off + 4, (uInt)rl + 4))
			goto torn;
		d = (struct rd){ b + off + 8, rl, false };
		if (apply(t, b[off + 6], &d) || d.err)
			log_warn("%s: record at offset %zu is not valid; skipped",
				 path, off);
		else
			n++;
		off += 8 + (size_t)rl;
	}
	return n;
torn:
	log_warn("%s: incomplete record at offset %zu (crash while writing?); "
		 "%zu bytes ignored", path, off, len - off);
	return n;
}

/* Load one file with magic; *gen gets its generation. Returns 0, 1 (no
 * such file) or -1. */
static int load_file(struct pst *p, const char *name, const char *magic, uint64_t *gen)
{
	char path[4096];
	uint8_t *b;
	size_t len = 0;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", p->dir, name);
	rc = slurp(path, &b, &len);
	if (rc)
		return rc;
	if (len < PST_HDR || memcmp(b, magic, 8)) {
		log_warn("%s: not an rblkit policy state file; ignored", path);
		free(b);
		return -1;
	}
	memcpy(gen, b + 8, 8);
	p->loaded += replay(p->t, path, b, len);
	free(b);
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Generations of the journal.N files in dir, sorted; caller frees. */
static uint64_t *journals(const char *dir, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	uint64_t *g = NULL;
	size_t cap = 0;

	*n = 0;
	if (!d)
		return NULL;
	while ((e = readdir(d))) {
		char *end;
		unsigned long long v;

		if (strncmp(e->d_name, "journal.", 8))
			continue;
		v = strtoull(e->d_name + 8, &end, 10);
		if (end == e->d_name + 8 || *end)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			g = xreallocarray(g, cap, sizeof(*g));
		}
		g[(*n)++] = v;
	}
	closedir(d);
	if (*n)
		qsort(g, *n, sizeof(*g), cmp_u64);
	return g;
}

static void pst_error(struct pst *p, const char *what)
{
	time_t t = time(NULL);

	if (t - p->last_err < 60)
		return;
	p->last_err = t;
	log_err("state %s in %s: %s (counting goes on in memory)", what, p->dir,
		strerror(errno));
}

static int write_all(int fd, const void *buf, size_t n)
{
	const uint8_t *b = buf;

	while (n) {
		ssize_t w = write(fd, b, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

static int write_header(int fd, const char *magic, uint64_t gen)
{
	uint8_t h[PST_HDR];

	memcpy(h, magic, 8);
	memcpy(h + 8, &gen, 8);
	return write_all(fd, h, sizeof(h));
}

/* Create journal.gen with its header; returns the fd or -1. */
static int new_journal(struct pst *p, uint64_t gen, bool sync)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/journal.%llu", p->dir, (unsigned long long)gen);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (write_header(fd, PST_JRN_MAGIC, gen) || (sync && fdatasync(fd))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Make fd (journal gen) the current journal; returns the one it replaces. */
static int swap_journal(struct pst *p, int fd, uint64_t gen)
{
	int old;

	pthread_mutex_lock(&p->mu);
	old = p->jfd;
	p->jfd = fd;
	p->gen = gen;
	p->jbytes = PST_HDR;
	p->dirty = false;
	pthread_mutex_unlock(&p->mu);
	return old;
}

static int snapshot_finish(struct pst *p, int tmpfd, uint64_t gen);

/* Once a second, fdatasync the journal if it changed; finish the
 * snapshots the event loop wrote. Only this thread closes journals while
 * it runs, so the fd it syncs cannot be closed under it. */
static void *syncer_main(void *arg)
{
	struct pst *p = arg;

	pthread_mutex_lock(&p->mu);
	while (!p->stopping) {
		struct timespec ts;
		int fd, oldjfd, tmpfd;
		uint64_t gen;
		bool snap;

		if (!p->snap_pending) {
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 1;
			pthread_cond_timedwait(&p->cv, &p->mu, &ts);
		}
		fd = p->jfd;
		snap = p->snap_pending;
		oldjfd = p->snap_oldjfd;
		tmpfd = p->snap_tmpfd;
		gen = p->snap_gen;
		pthread_mutex_unlock(&p->mu);
		if (atomic_exchange(&p->dirty, false) && fd >= 0 && fdatasync(fd))
			pst_error(p, "journal sync");
		if (snap) {
			if (oldjfd >= 0) {
				if (fdatasync(oldjfd))
					pst_error(p, "journal sync");
				close(oldjfd);
			}
			if (tmpfd >= 0)
				snapshot_finish(p, tmpfd, gen);
		}
		pthread_mutex_lock(&p->mu);
		if (snap)
			p->snap_pending = false;
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

struct pst *pst_open(const char *dir, struct rl_table *t, bool readonly,
		     char *err, size_t errlen)
{
	struct pst *p = xcalloc(1, sizeof(*p));
	uint64_t gen = 0, *g;
	size_t ng;
	char path[4096];

	p->dir = xstrdup(dir);
	p->t = t;
	p->readonly = readonly;
	p->lockfd = p->jfd = -1;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	if (!readonly) {
		if (mkdir(dir, 0700) && errno != EEXIST) {
			snprintf(err, errlen, "%s: %s", dir, strerror(errno));
			goto fail;
		}
		snprintf(path, sizeof(path), "%s/lock", dir);
		p->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (p->lockfd < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
		if (flock(p->lockfd, LOCK_EX | LOCK_NB)) {
			snprintf(err, errlen, "%s: in use by another process (%s)",
				 dir, strerror(errno));
			goto fail;
		}
	}
	if (load_file(p, PST_SNAP, PST_SNAP_MAGIC, &gen) < 0 && errno != 0 &&
	    errno != ENOENT)
		log_warn("%s/%s: %s", dir, PST_SNAP, strerror(errno));
	g = journals(dir, &ng);
	for (size_t i = 0; i < ng; i++) {
		uint64_t jg;
		char name[64];

		if (g[i] < gen)
			continue;
		snprintf(name, sizeof(name), "journal.%llu", (unsigned long long)g[i]);
		load_file(p, name, PST_JRN_MAGIC, &jg);
	}
	p->gen = ng && g[ng - 1] > gen ? g[ng - 1] : gen;
	free(g);
	if (!readonly && pst_snapshot(p)) {
		snprintf(err, errlen, "%s: cannot write the state: %s", dir, strerror(errno));
		goto fail;
	}
	if (!readonly) {
		sigset_t all, old;

		/* signals are the event loop's (signalfd), never this thread's */
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		p->has_syncer = pthread_create(&p->syncer, NULL, syncer_main, p) == 0;
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	return p;
fail:
	if (p->lockfd >= 0)
		close(p->lockfd);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p->dir);
	free(p);
	return NULL;
}

static void journal(struct pst *p, struct rec *r)
{
	size_t n = rec_end(r);

	if (p->readonly || p->jfd < 0 || !n)
		return;
	if (write_all(p->jfd, r->b, n)) {
		pst_error(p, "journal write");
		return;
	}
	p->jbytes += n;
	p->dirty = true;
}

void pst_add(struct pst *p, const struct rl_user *u, const uint32_t *periods,
	     size_t n, uint32_t now, uint32_t msgs, uint32_t rcpts)
{
	struct rec r;

	rec_begin(&r, R_ADD);
	put32(&r, now);
	put32(&r, msgs);
	put32(&r, rcpts);
	put8(&r, (uint8_t)n);
	for (size_t i = 0; i < n; i++)
		put32(&r, periods[i]);
	put_key(&r, u->kn.key);
	journal(p, &r);
}

void pst_block(struct pst *p, const struct rl_user *u)
{
	struct rec r;

	rec_begin(&r, R_BLOCK);
	put32(&r, u->blocked_since);
	put_limit(&r, &u->blocked_by);
	put_key(&r, u->kn.key);
	journal(p, &r);
}

static void key_record(struct pst *p, uint8_t type, const char *key)
{
	struct rec r;

	rec_begin(&r, type);
	put_key(&r, key);
	journal(p, &r);
}

void pst_unblock(struct pst *p, const char *key) { key_record(p, R_UNBLOCK, key); }
void pst_reset(struct pst *p, const char *key) { key_record(p, R_RESET, key); }

struct snap_ctx {
	int fd;
	int err;
	size_t n;
	uint8_t buf[1 << 16];
};

static void snap_flush(struct snap_ctx *s)
{
	if (!s->err && s->n && write_all(s->fd, s->buf, s->n))
		s->err = -1;
	s->n = 0;
}

static void snap_user(void *arg, struct rl_user *u)
{
	struct snap_ctx *s = arg;
	struct rec r;
	size_t n;

	if (s->err)
		return;
	rec_begin(&r, R_USER);
	put32(&r, u->last);
	put8(&r, u->blocked);
	put32(&r, u->blocked_since);
	put_limit(&r, &u->blocked_by);
	for (int i = 0; i < RL_MAX_PERIODS; i++) {
		const struct rl_counter *c = &u->c[i];

		put32(&r, c->period);
		put32(&r, c->start);
		for (int k = 0; k < 2; k++) {
			put32(&r, c->cur[k]);
			put32(&r, c->prev[k]);
		}
	}
	put_key(&r, u->kn.key);
	if (!(n = rec_end(&r)))
		return;
	if (s->n + n > sizeof(s->buf))
		snap_flush(s);
	memcpy(s->buf + s->n, r.b, n);
	s->n += n;
}

static void remove_old_journals(struct pst *p, uint64_t gen)
{
	size_t ng;
	uint64_t *g = journals(p->dir, &ng);
	char path[4096];

	for (size_t i = 0; i < ng; i++)
		if (g[i] < gen) {
			snprintf(path, sizeof(path), "%s/journal.%llu", p->dir,
				 (unsigned long long)g[i]);
			unlink(path);
		}
	free(g);
}

/* Write the table to counters.tmp with generation gen. Returns the fd
 * (written, not synced) or -1. */
static int snapshot_write(struct pst *p, uint64_t gen)
{
	char tmp[4096];
	struct snap_ctx *s = xmalloc(sizeof(*s));
	int fd;

	s->err = 0;
	s->n = 0;
	snprintf(tmp, sizeof(tmp), "%s/%s.tmp", p->dir, PST_SNAP);
	s->fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (s->fd < 0 || write_header(s->fd, PST_SNAP_MAGIC, gen)) {
		if (s->fd >= 0)
			close(s->fd);
		free(s);
		return -1;
	}
	rl_foreach(p->t, snap_user, s);
	snap_flush(s);
	fd = s->fd;
	if (s->err) {
		close(fd);
		fd = -1;
	}
	free(s);
	return fd;
}

/* Sync and close the written counters.tmp, rename it over counters, drop
 * the journals it makes useless (those before gen). Any thread. */
static int snapshot_finish(struct pst *p, int tmpfd, uint64_t gen)
{
	char tmp[4096], path[4096];
	int dfd;

	snprintf(tmp, sizeof(tmp), "%s/%s.tmp", p->dir, PST_SNAP);
	snprintf(path, sizeof(path), "%s/%s", p->dir, PST_SNAP);
	if (fsync(tmpfd)) {
		close(tmpfd);
		goto fail;
	}
	if (close(tmpfd) || rename(tmp, path))
		goto fail;
	if ((dfd = open(p->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(dfd);
		close(dfd);
	}
	remove_old_journals(p, gen);
	return 0;
fail:
	pst_error(p, "snapshot");
	return -1;
}

/* The whole snapshot on this thread (start-up, shut-down, no syncer). */
static int snapshot_now(struct pst *p)
{
	uint64_t gen = p->gen + 1;
	int fd = new_journal(p, gen, true), old, tmpfd;

	/* new changes go to the next journal before the snapshot is taken */
	if (fd < 0)
		goto fail;
	old = swap_journal(p, fd, gen);
	if (old >= 0) {
		fdatasync(old);
		close(old);
	}
	if ((tmpfd = snapshot_write(p, gen)) < 0)
		goto fail;
	return snapshot_finish(p, tmpfd, gen);
fail:
	pst_error(p, "snapshot");
	return -1;
}

int pst_snapshot(struct pst *p)
{
	uint64_t gen = p->gen + 1;
	int fd, old, tmpfd;
	bool busy;

	if (p->readonly)
		return 0;
	if (!p->has_syncer)
		return snapshot_now(p);
	pthread_mutex_lock(&p->mu);
	busy = p->snap_pending;
	pthread_mutex_unlock(&p->mu);
	if (busy)
		return 0;		/* the one under way will do */
	/* the loop only writes (page cache); the syncer does the fsyncs */
	if ((fd = new_journal(p, gen, false)) < 0) {
		pst_error(p, "snapshot");
		return -1;
	}
	old = swap_journal(p, fd, gen);
	tmpfd = snapshot_write(p, gen);
	pthread_mutex_lock(&p->mu);
	p->snap_oldjfd = old;
	p->snap_tmpfd = tmpfd;
	p->snap_gen = gen;
	p->snap_pending = tmpfd >= 0 || old >= 0;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	if (tmpfd < 0) {
		pst_error(p, "snapshot");
		return -1;
	}
	return 0;
}

void pst_tick(struct pst *p, uint64_t now)
{
	if (p->readonly)
		return;
	if (!p->has_syncer && p->dirty && now - p->last_sync >= 1000) {
		if (fdatasync(p->jfd))
			pst_error(p, "journal sync");
		p->dirty = false;
		p->last_sync = now;
	}
	if (p->jbytes > PST_SNAPSHOT_BYTES)
		pst_snapshot(p);
}

void pst_close(struct pst *p)
{
	if (!p)
		return;
	if (p->has_syncer) {
		pthread_mutex_lock(&p->mu);
		p->stopping = true;
		pthread_cond_signal(&p->cv);
		pthread_mutex_unlock(&p->mu);
		pthread_join(p->syncer, NULL);
		p->has_syncer = false;
		if (p->snap_pending) {	/* it stopped before this one */
			if (p->snap_oldjfd >= 0) {
				fdatasync(p->snap_oldjfd);
				close(p->snap_oldjfd);
			}
			if (p->snap_tmpfd >= 0)
				snapshot_finish(p, p->snap_tmpfd, p->snap_gen);
			p->snap_pending = false;
		}
	}
	if (!p->readonly && snapshot_now(p) == 0 && p->jfd >= 0)
		fdatasync(p->jfd);
	if (p->jfd >= 0)
		close(p->jfd);
	if (p->lockfd >= 0)
		close(p->lockfd);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p->dir);
	free(p);
}

uint64_t pst_journal_bytes(const struct pst *p) { return p->jbytes; }
uint64_t pst_loaded(const struct pst *p) { return p->loaded; }
