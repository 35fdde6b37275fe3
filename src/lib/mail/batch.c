/*
 * batch.c - many inputs read into reports written in order, with one
 * thread or several; see batch.h.
 *
 * Several jobs: the calling thread reads each file and cuts it into
 * messages (a search for "From " lines); runs of messages, of one file
 * or of several small ones, make a slot.  Workers take the slots in turn
 * and write each slot's report into its own buffer; the calling thread
 * prints the buffers in order (and reads a slot itself rather than wait).
 * At most WINDOW slots are in flight; a file is freed once its last slot
 * is printed.
 *
 * A file over STREAM_MIN (a large mbox) is read a piece at a time and cut
 * as it comes, with one thread (into the reused buffer) as with several
 * (chunks, reused, at most CHUNKS_LIVE in memory): on this kind of
 * machine a fresh page costs microseconds, so the text goes through a
 * little memory that stays in the cache, never the whole file in fresh
 * pages.  Files are read with read(2), never mapped: reading 18 MB into a
 * reused 256 KiB buffer measured faster than mmap (4 ms against 9-11 ms:
 * the mapping's first touch of each page) and a file that shrinks while
 * it is read only ends early, where a mapping would raise SIGBUS.
 *
 * SECURITY: untrusted mail, read with the caller's privileges; the
 * library below (diagnose.h) bounds every read.
 */
#include "mail/batch.h"
#include "mail/diagnose.h"
#include "mail/mime.h"
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WINDOW 64		/* slots in flight */
#define PIECES_MAX 16		/* runs of messages in one slot */
/* a slot is full at this many messages: small slots keep both CPUs busy
 * to the end of the run (4 measured 4-6 % faster than 16 on the corpus
 * x10, as one mbox and as files; bench/RESULTS.md) */
#define SLOT_MSGS 4
#define SLOT_BYTES (256u << 10)	/* or this much text */
#define STREAM_MIN (1u << 20)	/* a larger file is read and cut as it comes */
#define CHUNK (128u << 10)	/* threads: a streamed file's piece */
#define CHUNKS_LIVE 4		/* threads: pieces in memory (and in the cache) */
#define SPARE_MAX 8		/* chunks kept for reuse */
#define STREAM_BUF (256u << 10)	/* one thread: read this much at a time */

/* Files of one directory, opened by name in it: the directory's path is
 * looked up once, not for every file (a corpus of thousands of bounces
 * is thousands of names in one place).  Only the main thread opens. */
struct dircache {
	char dir[4096];
	int fd;			/* -1: none */
};

/* What one thread writes with. */
struct ctx {
	const struct batch_opts *o;
	FILE *out;		/* o->out, or a worker's slot buffer */
	int first;		/* no JSON item written yet */
	size_t errors;		/* inputs and messages not read */
	int fail;		/* the run failed: negative errno (0: no) */
	char why[200];		/* and why */
	char *buf;		/* the input being read (one thread), reused */
	size_t cap;
	struct dircache dc;	/* the reading thread's */
};

struct input {
	char *buf;		/* the whole file */
	size_t len;
	size_t cap;		/* streamed: the size of buf */
	int refs;		/* slots not yet printed, +1 while splitting */
	bool chunk;		/* a piece of a streamed file (next_chunk()) */
};

/* Messages of in, numbered from idx + 1: message k is the bytes from
 * off[k] to off[k + 1] (as the main thread cut them); or, when err is
 * not "", an input that could not be read (in NULL, name given). */
struct piece {
	struct input *in;
	const char *name;
	size_t off[SLOT_MSGS + 1];
	unsigned nmsg;
	unsigned idx;
	char err[160];
};

struct slot {
	struct piece p[PIECES_MAX];
	int np;
	size_t msgs, bytes;
	char *text;		/* its report (open_memstream) */
	size_t len;
	int errors;
	int fail;		/* no report: negative errno */
	int done;		/* under pool.mu */
};

struct pool {
	const struct batch_opts *o;
	struct ctx helper;	/* the calling thread's, when it reads a slot */
	struct slot ring[WINDOW];	/* slot k at ring[k % WINDOW] */
	size_t published;	/* slots handed to the workers */
	size_t next;		/* the next slot a worker takes */
	size_t printed;		/* slots printed */
	int closed;		/* no more slots will come */
	pthread_mutex_t mu;
	pthread_cond_t work;	/* a slot was published, or closed */
	pthread_cond_t done;	/* a slot is done */
	struct input *spare[SPARE_MAX];	/* chunks to reuse (warm memory) */
	int nspare;
	int chunks;		/* chunks allocated and not freed (main thread) */
};

/* Test faults (batch_test_faults()): starts and buffers still allowed,
 * when armed. */
static bool fault_threads_on, fault_buffers_on;
static int fault_threads, fault_buffers;

void batch_test_faults(int threads_ok, int buffers_ok)
{
	fault_threads_on = threads_ok >= 0;
	fault_threads = threads_ok;
	fault_buffers_on = buffers_ok >= 0;
	fault_buffers = buffers_ok;
}

/* Is a fault due?  The budget only goes down, so it stays due. */
static bool fault(bool on, int *budget)
{
	return on && __atomic_fetch_sub(budget, 1, __ATOMIC_RELAXED) <= 0;
}

static int start_thread(pthread_t *tid, void *(*fn)(void *), void *arg)
{
	if (fault(fault_threads_on, &fault_threads))
		return EAGAIN;
	return pthread_create(tid, NULL, fn, arg);
}

static FILE *report_buffer(char **text, size_t *len)
{
	if (fault(fault_buffers_on, &fault_buffers)) {
		errno = ENOMEM;
		return NULL;
	}
	return open_memstream(text, len);
}

/* The run failed: the first reason is kept. */
static void run_failed(struct ctx *c, int code, const char *what)
{
	if (c->fail)
		return;
	c->fail = code;
	snprintf(c->why, sizeof(c->why), "%s: %s", what, strerror(-code));
}

/* Open path for reading, by name in its directory when dc (not NULL)
 * holds that directory open. */
static int open_input(struct dircache *dc, const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t dl = slash ? (size_t)(slash - path) : 0;

	if (!dc || !slash || slash == path || dl >= sizeof(dc->dir))
		return open(path, O_RDONLY | O_CLOEXEC);
	if (dc->fd < 0 || strlen(dc->dir) != dl || memcmp(dc->dir, path, dl)) {
		if (dc->fd >= 0)
			close(dc->fd);
		memcpy(dc->dir, path, dl);
		dc->dir[dl] = '\0';
		dc->fd = open(dc->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dc->fd < 0)
			return open(path, O_RDONLY | O_CLOEXEC);
	}
	return openat(dc->fd, slash + 1, O_RDONLY | O_CLOEXEC);
}

static void dircache_close(struct dircache *dc)
{
	if (dc->fd >= 0)
		close(dc->fd);
	dc->fd = -1;
}


/* The whole of fd into *buf (grown as needed, kept for the next file:
 * *cap is its size), its length in *len.  A regular file is read with
 * one read(2) of its size; a pipe or terminal in a loop to its end.  st
 * is fd's fstat() when the caller has it (NULL: asked here).  -1 with
 * errno on error or past BATCH_INPUT_MAX. */
static int read_all(int fd, const struct stat *st, char **buf, size_t *cap, size_t *len)
{
	struct stat own;
	size_t n = 0, want = SIZE_MAX;	/* a regular file: its size */

	if (!st)
		st = fstat(fd, &own) == 0 ? &own : NULL;
	if (st && S_ISREG(st->st_mode) && st->st_size >= 0) {
		want = (size_t)st->st_size;
		if ((uint64_t)st->st_size > BATCH_INPUT_MAX) {
			errno = EFBIG;
			return -1;
		}
		if ((size_t)st->st_size + 1 > *cap) {
			*cap = (size_t)st->st_size + 1;
			free(*buf);
			*buf = xmalloc(*cap);
		}
	}
	for (;;) {
		ssize_t r;

		if (n == *cap) {
			if (*cap >= BATCH_INPUT_MAX) {
				errno = EFBIG;
				return -1;
			}
			*cap = *cap ? *cap * 2 : 1 << 16;
			if (*cap > BATCH_INPUT_MAX)
				*cap = BATCH_INPUT_MAX;
			*buf = xrealloc(*buf, *cap);
		}
		r = read(fd, *buf + n, *cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		n += (size_t)r;
		/* all of a regular file as fstat() saw it: a read(2) less
		 * (what is appended after that is not this run's) */
		if (n == want)
			break;
	}
	*len = n;
	return 0;
}

/* batch_read(), opening through dc (may be NULL). */
static int read_path(struct dircache *dc, const char *path, char **buf, size_t *cap,
		     size_t *len)
{
	int own = strcmp(path, "-") != 0;
	int fd = own ? open_input(dc, path) : STDIN_FILENO;
	int rc, e;

	if (fd < 0)
		return -1;
	rc = read_all(fd, NULL, buf, cap, len);
	e = errno;
	if (own)
		close(fd);
	errno = e;
	return rc;
}

int batch_read(const char *path, char **buf, size_t *cap, size_t *len)
{
	return read_path(NULL, path, buf, cap, len);
}

/* An input opened as fd (-1: it could not be, errno says why; closed
 * here unless it is standard input; st: its fstat(), or NULL) to cut
 * into messages: 0, or -1 with why there are none in err (it cannot be
 * read, or it is empty). */
static int load_fd(int fd, const struct stat *st, char **buf, size_t *cap, size_t *len,
		   char *err, size_t errlen)
{
	int rc = fd < 0 ? -1 : read_all(fd, st, buf, cap, len), e = errno;

	if (fd > STDIN_FILENO)
		close(fd);
	if (rc) {
		snprintf(err, errlen, "cannot read: %s", strerror(e));
		return -1;
	}
	if (!*len) {
		str_copy(err, errlen, "empty input");
		return -1;
	}
	return 0;
}

void batch_begin_lang(enum batch_fmt fmt, FILE *out, enum lang lang)
{
	if (fmt == BATCH_JSON)
		report_json_begin(out);
	else if (fmt == BATCH_HTML)
		report_html_begin_lang(out, lang);
}

void batch_begin(enum batch_fmt fmt, FILE *out)
{
	batch_begin_lang(fmt, out, LANG_EN);
}

void batch_end(enum batch_fmt fmt, FILE *out)
{
	if (fmt == BATCH_JSON)
		report_json_end(out);
	else if (fmt == BATCH_HTML)
		report_html_end(out);
}

void batch_emit(enum batch_fmt fmt, FILE *out, const struct report_item *it, int first)
{
	switch (fmt) {
	case BATCH_JSON:
		report_json(out, it, first);
		break;
	case BATCH_HTML:
		report_html(out, it);
		break;
	case BATCH_QUIET:
		report_text_quiet(out, it);
		break;
	default:
		report_text(out, it);
	}
}

static void emit(struct ctx *c, const struct report_item *it)
{
	batch_emit(c->o->fmt, c->out, it, c->first);
	c->first = 0;
}

/* An input or message that could not be read, in its place. */
static void failed(struct ctx *c, const char *name, unsigned idx, const char *err)
{
	struct report_item it = { name, idx, NULL, err, NULL, c->o->lang };

	c->errors++;
	if (c->o->keep) {
		struct diag none;

		memset(&none, 0, sizeof(none));
		c->o->keep(c->o->keep_arg, name, idx, &none, err);
	} else {
		emit(c, &it);
	}
}

/* Read and report one message, number idx of its input. */
static void read_one(struct ctx *c, const char *name, const char *m, size_t ml,
		     unsigned idx)
{
	struct diag d;
	char err[128];
	struct report_item it = { name, idx, &d, NULL, NULL, c->o->lang };

	if (diag_read(&d, m, ml, c->o->cat, err, sizeof(err)) < 0) {
		diag_free(&d);
		failed(c, name, idx, err);
		return;
	}
	if (c->o->keep) {
		c->o->keep(c->o->keep_arg, name, idx, &d, NULL);
		return;
	}
	emit(c, &it);
	diag_free(&d);
}

/* Is the message that ends at e of the len bytes of buf read so far
 * cut where it is cut in the whole file?  Yes when the "From " line
 * after it is complete (its end seen): a cut line, or "\nFro" at the
 * end, may not end the message once the rest is read. */
static bool cut_final(const char *buf, size_t len, size_t e, bool eof)
{
	return eof || (e < len && memchr(buf + e, '\n', len - e));
}

/* Room in c->buf for more of a streamed file whose unread text is from
 * *pos to *len: that text moved to the start, and the buffer doubled
 * when it would be more than half full (a long message is then searched
 * O(its length) times in all, as next_chunk() grows). */
static void stream_room(struct ctx *c, size_t *len, size_t *pos)
{
	size_t keep = *len - *pos;

	if (keep)	/* (c->buf may still be NULL) */
		memmove(c->buf, c->buf + *pos, keep);
	*len = keep;
	*pos = 0;
	if (c->cap < STREAM_BUF || (keep > c->cap / 2 && c->cap < BATCH_INPUT_MAX)) {
		size_t cap = c->cap < STREAM_BUF ? STREAM_BUF : c->cap * 2;

		c->cap = cap > BATCH_INPUT_MAX ? BATCH_INPUT_MAX : cap;
		c->buf = xrealloc(c->buf, c->cap);
	}
}

/* Open path ("-": standard input) for one_file() and split_file(); -1
 * (errno set) when it cannot be opened.  *stream is the size of a file to
 * read a piece at a time as it is cut (a regular file over STREAM_MIN,
 * within BATCH_INPUT_MAX), else 0: read whole.  *st is its fstat(), for
 * read_all() (st_mode 0 when there is none: it asks itself). */
static int open_for_reading(struct dircache *dc, const char *path, size_t *stream,
			    struct stat *st)
{
	int fd = strcmp(path, "-") ? open_input(dc, path) : STDIN_FILENO;

	*stream = 0;
	if (fd < 0 || fd == STDIN_FILENO || fstat(fd, st) != 0) {
		st->st_mode = 0;
		return fd;
	}
	if (S_ISREG(st->st_mode) && st->st_size > STREAM_MIN &&
	    (uint64_t)st->st_size <= BATCH_INPUT_MAX)
		*stream = (size_t)st->st_size;
	return fd;
}

/* One piece of a streamed file: at most room bytes and no more than the
 * left of what fstat() saw (as read_all() reads), EINTR retried; on an
 * error its words in err. */
static ssize_t read_piece(int fd, char *buf, size_t room, size_t left, char *err,
			  size_t errlen)
{
	ssize_t r;

	do
		r = read(fd, buf, room < left ? room : left);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		snprintf(err, errlen, "cannot read: %s", strerror(errno));
	return r;
}

/* A large regular file (size bytes, open as fd) read by this thread
 * alone: a piece at a time into the reused buffer (warm memory that
 * stays in the cache: no page faults for fresh memory, no second trip
 * to RAM), each message read as soon as it is cut.  The messages, their
 * numbers and a read error in place of the rest are those of
 * split_stream(). */
static void one_stream(struct ctx *c, const char *path, int fd, size_t size)
{
	size_t len = 0, pos = 0, got = 0, p, ml;
	unsigned idx = 0;
	const char *m;
	bool eof = false;
	char err[160];

	err[0] = '\0';
	while (!eof) {
		ssize_t r;

		if (len == c->cap || c->cap < STREAM_BUF)
			stream_room(c, &len, &pos);
		r = read_piece(fd, c->buf + len, c->cap - len, size - got, err, sizeof(err));
		if (r > 0) {
			len += (size_t)r;
			got += (size_t)r;
		}
		eof = r <= 0 || got == size;
		p = pos;
		while (diag_mbox_next(c->buf, len, &p, &m, &ml) && cut_final(c->buf, len, p, eof)) {
			pos = p;
			read_one(c, path, m, ml, ++idx);
		}
	}
	if (err[0])
		failed(c, path, idx + 1, err);
}

/* One input read by this thread alone. */
static void one_file(struct ctx *c, const char *path)
{
	size_t len, pos = 0, ml;
	unsigned idx = 0;
	const char *m;
	char err[256];
	size_t stream;
	struct stat st;
	int fd;

	/* a large file is read as it is cut, as split_file() does */
	fd = open_for_reading(&c->dc, path, &stream, &st);
	if (stream) {
		one_stream(c, path, fd, stream);
		close(fd);
		return;
	}
	if (load_fd(fd, st.st_mode ? &st : NULL, &c->buf, &c->cap, &len, err, sizeof(err))) {
		failed(c, path, 1, err);
		return;
	}
	while (diag_mbox_next(c->buf, len, &pos, &m, &ml))
		read_one(c, path, m, ml, ++idx);
}

static void read_slot(struct ctx *c, struct slot *sl)
{
	for (int k = 0; k < sl->np; k++) {
		const struct piece *pc = &sl->p[k];

		if (pc->err[0])
			failed(c, pc->name, pc->idx + 1, pc->err);
		else
			for (unsigned i = 0; i < pc->nmsg; i++)
				read_one(c, pc->name, pc->in->buf + pc->off[i],
					 pc->off[i + 1] - pc->off[i], pc->idx + i + 1);
	}
}

/* Read slot sl (taken from the ring) with the thread's own context wr,
 * into the slot's buffer, and mark it done; without memory for the
 * buffer the slot is done with fail set and no text. */
static void work_slot(struct pool *pl, struct ctx *wr, struct slot *sl)
{
	int fail = 0;

	wr->errors = 0;
	wr->out = report_buffer(&sl->text, &sl->len);
	if (!wr->out) {
		fail = -(errno ? errno : ENOMEM);
		goto out;
	}
	/* each slot's first item is written as the first of all; the
	 * printer adds the separator */
	wr->first = 1;
	read_slot(wr, sl);
	if (fclose(wr->out) == EOF)
		fail = -ENOMEM;
out:
	wr->out = NULL;
	if (fail) {
		free(sl->text);
		sl->text = NULL;
		sl->len = 0;
	}
	pthread_mutex_lock(&pl->mu);
	sl->errors = wr->errors;
	sl->fail = fail;
	sl->done = 1;
	pthread_cond_broadcast(&pl->done);
	pthread_mutex_unlock(&pl->mu);
}

static void *worker(void *arg)
{
	struct pool *pl = arg;
	struct ctx c = { .o = pl->o, .dc = { .fd = -1 } };

	for (;;) {
		struct slot *sl;

		pthread_mutex_lock(&pl->mu);
		while (pl->next == pl->published && !pl->closed)
			pthread_cond_wait(&pl->work, &pl->mu);
		if (pl->next == pl->published) {
			pthread_mutex_unlock(&pl->mu);
			break;
		}
		sl = &pl->ring[pl->next++ % WINDOW];
		pthread_mutex_unlock(&pl->mu);
		work_slot(pl, &c, sl);
	}
	mime_thread_cleanup();
	report_thread_cleanup();
	return NULL;
}

/* Drop a reference to in (NULL: none); the last one frees it, or keeps
 * a chunk's memory in pl (may be NULL) for the next chunk: memory
 * already touched, no page faults.  Only the main thread releases. */
static void input_release(struct pool *pl, struct input *in)
{
	if (!in || --in->refs > 0)
		return;
	if (in->chunk && in->cap == CHUNK && pl->nspare < SPARE_MAX) {
		pl->spare[pl->nspare++] = in;
		return;
	}
	if (in->chunk)
		pl->chunks--;
	free(in->buf);
	free(in);
}

/* Print the oldest slot (waiting for it when wait, else only when it is
 * done).  Returns 1 when one was printed. */
static int print_one(struct pool *pl, struct ctx *c, int wait)
{
	struct slot *sl;

	if (pl->printed == pl->published)
		return 0;
	sl = &pl->ring[pl->printed % WINDOW];
	pthread_mutex_lock(&pl->mu);
	while (wait && !sl->done) {
		/* rather than wait, read a slot nobody has taken yet */
		if (pl->next < pl->published) {
			struct slot *t = &pl->ring[pl->next++ % WINDOW];

			pthread_mutex_unlock(&pl->mu);
			work_slot(pl, &pl->helper, t);
			pthread_mutex_lock(&pl->mu);
			continue;
		}
		pthread_cond_wait(&pl->done, &pl->mu);
	}
	if (!sl->done) {
		pthread_mutex_unlock(&pl->mu);
		return 0;
	}
	pthread_mutex_unlock(&pl->mu);
	if (sl->fail)
		run_failed(c, sl->fail, "cannot make a report buffer");
	/* after a failure nothing more is printed: the reports would have a
	 * hole */
	if (sl->len && !c->fail) {
		/* JSON: a comma between the items of two slots */
		if (c->o->fmt == BATCH_JSON && !c->first)
			fputc(',', c->out);
		fwrite(sl->text, 1, sl->len, c->out);
		c->first = 0;
	}
	c->errors += sl->errors;
	free(sl->text);
	for (int k = 0; k < sl->np; k++)
		input_release(pl, sl->p[k].in);
	memset(sl, 0, sizeof(*sl));
	pl->printed++;	/* only this thread reads or writes printed */
	return 1;
}

/* The slot being filled (the one after the published ones), made room
 * for: the oldest is printed first when the ring is full. */
static struct slot *filling(struct pool *pl, struct ctx *c)
{
	while (pl->published - pl->printed == WINDOW)
		print_one(pl, c, 1);
	return &pl->ring[pl->published % WINDOW];
}

static void publish(struct pool *pl, struct ctx *c)
{
	struct slot *sl = &pl->ring[pl->published % WINDOW];

	if (!sl->np)
		return;
	pthread_mutex_lock(&pl->mu);
	pl->published++;
	pthread_cond_signal(&pl->work);
	pthread_mutex_unlock(&pl->mu);
	while (print_one(pl, c, 0))
		;
}

/* Add a piece to the slot being filled, publishing it when it is full. */
static void add_piece(struct pool *pl, struct ctx *c, const struct piece *pc,
		      size_t msgs, size_t bytes)
{
	struct slot *sl = filling(pl, c);

	sl->p[sl->np++] = *pc;
	if (pc->in)
		pc->in->refs++;
	sl->msgs += msgs;
	sl->bytes += bytes;
	if (sl->np == PIECES_MAX || sl->msgs >= SLOT_MSGS || sl->bytes >= SLOT_BYTES)
		publish(pl, c);
}

/* A new chunk of a streamed file after the keep bytes carried over
 * from old at old_pos (old: NULL or released here: the splitter's
 * reference), a spare one of pl when it has room. */
static struct input *next_chunk(struct pool *pl, struct ctx *c, struct input *old,
				size_t old_pos)
{
	struct input *in;
	size_t keep = old ? old->len - old_pos : 0, cap = CHUNK;

	/* a message longer than a chunk: twice its length so far, so that
	 * it is searched O(length) times in all */
	while (cap < keep + CHUNK / 2 && cap < BATCH_INPUT_MAX)
		cap *= 2;
	/* no more text in memory than the threads need: print (and read)
	 * what is done to free chunks, as long as there is some */
	while (!pl->nspare && pl->chunks >= CHUNKS_LIVE && print_one(pl, c, 1))
		;
	if (cap == CHUNK && pl->nspare) {
		in = pl->spare[--pl->nspare];
	} else {
		pl->chunks++;
		in = xcalloc(1, sizeof(*in));
		in->chunk = true;
		in->buf = xmalloc(cap);
		in->cap = cap;
	}
	in->refs = 1;
	if (keep)
		memcpy(in->buf, old->buf + old_pos, keep);
	in->len = keep;
	input_release(pl, old);
	return in;
}

/* A large regular file (size bytes, open as fd), read and cut a chunk
 * at a time: the threads start on the first messages while the rest is
 * read, and the text is cut while it is in the cache.  The messages are
 * the ones one_file() cuts from the whole. */
static void split_stream(struct pool *pl, struct ctx *c, const char *path, int fd,
			 size_t size)
{
	struct piece pc = { .name = path };
	struct input *in = NULL;
	size_t got = 0, pos = 0, p, ml;
	const char *m;
	bool eof = false;

	while (!eof) {
		ssize_t r;

		if (!in || in->len == in->cap) {
			in = next_chunk(pl, c, in, pos);
			pos = 0;
		}
		r = read_piece(fd, in->buf + in->len, in->cap - in->len, size - got, pc.err,
			       sizeof(pc.err));
		if (r > 0) {
			in->len += (size_t)r;
			got += (size_t)r;
		}
		/* all of the file as fstat() saw it, as read_all() reads */
		eof = r <= 0 || got == size;
		pc.in = in;
		pc.off[0] = pos;
		p = pos;
		while (diag_mbox_next(in->buf, in->len, &p, &m, &ml) && cut_final(in->buf, in->len, p, eof)) {
			struct slot *sl = filling(pl, c);

			pc.off[++pc.nmsg] = pos = p;
			if (sl->msgs + pc.nmsg >= SLOT_MSGS ||
			    sl->bytes + (pos - pc.off[0]) >= SLOT_BYTES) {
				add_piece(pl, c, &pc, pc.nmsg, pos - pc.off[0]);
				pc.idx += pc.nmsg;
				pc.off[0] = pos;
				pc.nmsg = 0;
			}
		}
		/* the messages of this chunk go before the next chunk is read */
		if (pc.nmsg) {
			add_piece(pl, c, &pc, pc.nmsg, pos - pc.off[0]);
			pc.idx += pc.nmsg;
			pc.nmsg = 0;
		}
	}
	input_release(pl, in);
	if (pc.err[0]) {	/* a read error: in place of the rest */
		pc.in = NULL;
		add_piece(pl, c, &pc, 1, 0);
	}
}

/* Read one file and cut it into pieces. */
static void split_file(struct pool *pl, struct ctx *c, const char *path)
{
	struct piece pc = { .name = path };
	struct input *in;
	size_t cap = 0, pos = 0, ml;
	const char *m;
	size_t stream;
	struct stat st;
	int fd;

	/* a large file is read as it is cut (a small one whole: the same
	 * errors as one thread gives, e.g. for an empty file) */
	fd = open_for_reading(&c->dc, path, &stream, &st);
	if (stream) {
		split_stream(pl, c, path, fd, stream);
		close(fd);
		return;
	}
	in = xcalloc(1, sizeof(*in));
	in->refs = 1;
	if (load_fd(fd, st.st_mode ? &st : NULL, &in->buf, &cap, &in->len, pc.err,
		    sizeof(pc.err))) {
		add_piece(pl, c, &pc, 1, 0);	/* the error in its place */
		input_release(NULL, in);
		return;
	}
	/* runs of messages, cut where a slot fills up */
	pc.in = in;
	while (diag_mbox_next(in->buf, in->len, &pos, &m, &ml)) {
		struct slot *sl = filling(pl, c);
		size_t bytes = pos - pc.off[0];

		pc.off[++pc.nmsg] = pos;	/* messages are contiguous */
		if (sl->msgs + pc.nmsg >= SLOT_MSGS || sl->bytes + bytes >= SLOT_BYTES ||
		    pos == in->len) {
			add_piece(pl, c, &pc, pc.nmsg, bytes);
			pc.idx += pc.nmsg;
			pc.off[0] = pos;
			pc.nmsg = 0;
		}
	}
	input_release(NULL, in);	/* the splitter's reference */
}

/* Read files with jobs threads and print the reports in order: this one
 * (it reads the input, cuts it, prints, and reads slots itself rather
 * than wait) and jobs - 1 workers.  One thread per CPU in all: a worker
 * per CPU besides this one made three busy threads on two CPUs, which
 * measured 3-5 % slower (bench/RESULTS.md).  Threads that cannot start
 * are done without (a warning says so); -1 when none starts (nothing was
 * read: the caller reads alone). */
static int run_parallel(struct ctx *c, char *const *files, size_t n, unsigned jobs)
{
	struct pool *pl = xcalloc(1, sizeof(*pl));
	pthread_t tid[BATCH_JOBS_MAX];
	unsigned started = 0;
	int rc = 0, e = 0;

	pl->o = c->o;
	pl->helper.o = c->o;
	pl->helper.dc.fd = -1;
	pthread_mutex_init(&pl->mu, NULL);
	pthread_cond_init(&pl->work, NULL);
	pthread_cond_init(&pl->done, NULL);
	for (unsigned k = 0; k + 1 < jobs; k++) {
		int r = start_thread(&tid[started], worker, pl);
		if (r == 0)
			started++;
		else if (!e)
			e = r;
	}
	if (started + 1 < jobs)
		log_warn("diagnose: started %u of %u threads (%s): going on with %u",
			 started + 1, jobs, strerror(e), started + 1);
	if (!started) {
		rc = -1;
		goto out;
	}
	for (size_t i = 0; i < n && !c->fail; i++)
		split_file(pl, c, files[i]);
	publish(pl, c);
	pthread_mutex_lock(&pl->mu);
	pl->closed = 1;
	pthread_cond_broadcast(&pl->work);
	pthread_mutex_unlock(&pl->mu);
	while (print_one(pl, c, 1))
		;
	for (unsigned k = 0; k < started; k++)
		pthread_join(tid[k], NULL);
out:
	while (pl->nspare) {
		struct input *in = pl->spare[--pl->nspare];

		free(in->buf);
		free(in);
	}
	pthread_cond_destroy(&pl->done);
	pthread_cond_destroy(&pl->work);
	pthread_mutex_destroy(&pl->mu);
	free(pl);
	return rc;
}

/* Threads for jobs 0: one per CPU, at most 8. */
static unsigned default_jobs(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > 8 ? 8 : (unsigned)n;
}

int batch_run(const struct batch_opts *o, char *const *names, size_t n,
	      size_t *unread, char *err, size_t errlen)
{
	struct ctx c = { .o = o, .out = o->out, .first = 1, .dc = { .fd = -1 } };
	unsigned jobs = o->jobs ? o->jobs : default_jobs();

	if (jobs > BATCH_JOBS_MAX)
		jobs = BATCH_JOBS_MAX;
	if (!o->keep)
		batch_begin_lang(o->fmt, o->out, o->lang);
	if (jobs < 2 || o->keep || run_parallel(&c, names, n, jobs) < 0)
		for (size_t i = 0; i < n; i++)
			one_file(&c, names[i]);
	/* a failed run's output is cut short: no end that would make it
	 * look whole */
	if (!o->keep && !c.fail)
		batch_end(o->fmt, o->out);
	free(c.buf);
	dircache_close(&c.dc);
	*unread = c.errors;
	if (c.fail)
		snprintf(err, errlen, "%s", c.why);
	return c.fail;
}
