/*
 * diagnose.c - "rblkit diagnose": read bounces, feedback reports or plain
 * messages (.eml files, mbox files, stdin) and say why the mail did not
 * arrive: text (summary first), --json or --html.
 *
 * SECURITY: reads untrusted mail with the invoking user's privileges; the
 * library (src/lib/mail) bounds every read.  No network unless --check.
 */
#include "catalog.h"
#include "cmd.h"
#include "diagnose.h"
#include "dnsbl.h"
#include "mime.h"
#include "report.h"
#include "resolve.h"
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define INPUT_MAX (1024u << 20)	/* one file or stdin: 1 GiB (mbox) */

enum fmt { FMT_TEXT, FMT_JSON, FMT_HTML };

/* With --check every message is read first, the judged addresses are
 * looked up together, then everything is printed. */
struct held {
	char *file;
	unsigned index;
	int ok;
	struct diag d;
	char err[160];
	const struct report_check *chk;
};

struct ipcheck {
	char ip[64];
	struct dnsbl_target *t;
	struct report_check chk;
	struct report_hit *hits;
};

/* Files of one directory, opened by name in it: the directory's path is
 * looked up once, not for every file (a corpus of thousands of bounces
 * is thousands of names in one place).  Only the main thread opens. */
struct dircache {
	char dir[4096];
	int fd;			/* -1: none */
};

struct run {
	enum fmt fmt;
	const struct catalog *cat;
	int first;		/* no JSON item written yet */
	int errors;		/* inputs that could not be read */
	int quiet;
	int check;
	struct held *held;
	size_t nheld, capheld;
	char *buf;		/* the input being read, reused */
	size_t cap;
	FILE *out;		/* stdout, or a worker's buffer */
	struct dircache dc;	/* the main thread's */
};

/*
 * Parallel reading (-j).  The main thread reads each file and splits it
 * into messages (cheap: a search for "From " lines); runs of messages,
 * of one file or of several small ones, make a slot.  Workers take the
 * slots in turn and write each slot's report into its own buffer; the
 * main thread prints the buffers in order, so the output is byte for byte
 * what one thread prints.  At most WINDOW slots are in flight, and a file
 * is freed once its last slot is printed.
 */
#define JOBS_MAX 64
#define WINDOW 64		/* slots in flight */
#define PIECES_MAX 16		/* runs of messages in one slot */
#define SLOT_MSGS 16		/* a slot is full at this many messages */
#define SLOT_BYTES (256u << 10)	/* or this much text */

struct input {
	char *buf;		/* the whole file */
	size_t len;
	const char *name;
	int refs;		/* slots not yet printed, +1 while splitting */
};

/* Messages of in, numbered from idx + 1: message k is the bytes from
 * off[k] to off[k + 1] (as the main thread cut them); or, when err is
 * set, an input that could not be read (in NULL, name given). */
struct piece {
	struct input *in;
	const char *name;
	size_t pos, end;
	size_t off[SLOT_MSGS + 1];
	unsigned nmsg;
	unsigned idx;
	const char *err;
	char errbuf[160];
};

struct slot {
	struct piece p[PIECES_MAX];
	int np;
	size_t msgs, bytes;
	char *text;		/* its report (open_memstream) */
	size_t len;
	int errors;
	int done;		/* under pool.mu */
};

struct pool {
	struct run proto;	/* the options, copied before the threads start
				   (the main thread's own changes as it runs) */
	struct run helper;	/* the main thread's, when it reads a slot */
	struct slot ring[WINDOW];	/* slot k at ring[k % WINDOW] */
	size_t published;	/* slots handed to the workers */
	size_t next;		/* the next slot a worker takes */
	size_t printed;		/* slots printed */
	int closed;		/* no more slots will come */
	pthread_mutex_t mu;
	pthread_cond_t work;	/* a slot was published, or closed */
	pthread_cond_t done;	/* a slot is done */
};

void cmd_diagnose_help(void)
{
	printf(
"usage: rblkit diagnose [options] [FILE...]\n"
"\n"
"Read bounces (RFC 3464 DSNs and the plain-text reports of Postfix, Exim,\n"
"Sendmail, qmail, Exchange, Gmail, ...), feedback reports, auto-replies or\n"
"plain messages, and say why the mail did not arrive: recipient, status,\n"
"reply code, remote host, failed command, reason (sisimai's vocabulary),\n"
"the blocklist a rejection names and how to get off it, and the path of the\n"
"message with the delay of every hop.  FILE is an .eml file or an mbox\n"
"(several messages); none or \"-\" reads standard input.\n"
"\n"
"  --json           one JSON array, an object per message (docs/diagnose.md)\n"
"  --html           one self-contained HTML page with a hop timeline\n"
"  --catalog FILE   read FILE after the built-in catalogue of blocklists\n"
"  -q               text: the summary line only\n"
"  --check          look the address receivers judged up on the blocklists\n"
"                   (the engine of rblkit check; DNS queries leave the host)\n"
"  --lists SPEC     with --check: sets, ids or zones (default: default)\n"
"  --resolver ADDR[:PORT][,...]  with --check: ask these servers\n"
"  --recursive      with --check: resolve from the root (libunbound)\n"
"  --timeout S      with --check: give up after S seconds (default 10)\n"
"  --files-from F   also read the files named in F, one per line (\"-\":\n"
"                   standard input)\n"
"  -j, --jobs N     read files with N threads (default 0: one per CPU, at\n"
"                   most 8); the output is in the order of the files\n"
"\n"
"Exit status: 0 every input was read; 1 some input could not be read as\n"
"mail (reported, the others still are) or the output could not be\n"
"written; 2 usage error.\n");
}

static int open_input(struct dircache *dc, const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t dl = slash ? (size_t)(slash - path) : 0;

	if (!slash || slash == path || dl >= sizeof(dc->dir))
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
 * one read(2) of its size; a pipe or terminal in a loop to its end.  -1
 * with errno on error or past INPUT_MAX. */
static int read_all(int fd, char **buf, size_t *cap, size_t *len)
{
	struct stat st;
	size_t n = 0, want = SIZE_MAX;	/* a regular file: its size */

	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= 0) {
		want = (size_t)st.st_size;
		if ((uint64_t)st.st_size > INPUT_MAX) {
			errno = EFBIG;
			return -1;
		}
		if ((size_t)st.st_size + 1 > *cap) {
			*cap = (size_t)st.st_size + 1;
			free(*buf);
			*buf = xmalloc(*cap);
		}
	}
	for (;;) {
		ssize_t r;

		if (n == *cap) {
			if (*cap >= INPUT_MAX) {
				errno = EFBIG;
				return -1;
			}
			*cap = *cap ? *cap * 2 : 1 << 16;
			if (*cap > INPUT_MAX)
				*cap = INPUT_MAX;
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

static void emit(struct run *rn, const struct report_item *it)
{
	switch (rn->fmt) {
	case FMT_JSON:
		report_json(rn->out, it, rn->first);
		break;
	case FMT_HTML:
		report_html(rn->out, it);
		break;
	default:
		if (rn->quiet)
			report_text_quiet(rn->out, it);
		else
			report_text(rn->out, it);
	}
	rn->first = 0;
}

static void hold(struct run *rn, const char *name, unsigned idx, int ok,
		 const struct diag *d, const char *err)
{
	struct held *h;

	if (rn->nheld == rn->capheld) {
		rn->capheld = rn->capheld ? rn->capheld * 2 : 16;
		rn->held = xreallocarray(rn->held, rn->capheld, sizeof(*rn->held));
	}
	h = &rn->held[rn->nheld++];
	memset(h, 0, sizeof(*h));
	h->file = xstrdup(name);
	h->index = idx;
	h->ok = ok;
	h->d = *d;		/* the diag's buffers move with it */
	snprintf(h->err, sizeof(h->err), "%s", err);
}

/* Look the judged address of every held message up; 0 or -1 (err). */
static int run_checks(struct run *rn, const char *spec, const struct rs_opts *ro,
		      unsigned timeout_s, struct ipcheck **out, size_t *nout,
		      struct resolver **rsp, struct dnsbl_engine **engp)
{
	static const struct list *sel[256];
	struct dnsbl_opts dopt = { .cidr_limit = 1 };
	struct ipcheck *ic = NULL;
	size_t nsel = 0, n = 0;
	char err[256];
	struct dnsbl_target *t;

	/* a word naming only domain lists is passed over; nothing at all
	 * selected is an error */
	catalog_select(rn->cat, spec, LK_IP4 | LK_IP6, sel, &nsel, ARRAY_SIZE(sel),
		       err, sizeof(err));
	if (!nsel) {
		fprintf(stderr, "rblkit diagnose: --lists: no IP list named '%s'\n", spec);
		return -1;
	}
	if (!(*rsp = rs_new(ro, err, sizeof(err))) ||
	    !(*engp = dnsbl_new(*rsp, sel, nsel, &dopt, err, sizeof(err)))) {
		fprintf(stderr, "rblkit diagnose: --check: %s\n", err);
		return -1;
	}
	for (size_t i = 0; i < rn->nheld; i++) {
		const struct diag *d = &rn->held[i].d;
		const char *ip;
		int dup = 0;

		if (!rn->held[i].ok || !d->judged_ip[0])
			continue;
		ip = d->judged_ip;
		for (size_t k = 0; k < n; k++)
			dup |= !strcmp(ic[k].ip, ip);
		if (dup)
			continue;
		ic = xreallocarray(ic, n + 1, sizeof(*ic));
		memset(&ic[n], 0, sizeof(*ic));
		snprintf(ic[n].ip, sizeof(ic[n].ip), "%s", ip);
		dnsbl_add(*engp, ip, false);
		n++;
	}
	rs_run(*rsp, now_ms() + (uint64_t)timeout_s * 1000);
	for (size_t k = 0; k < n && (t = dnsbl_next_done(*engp)) != NULL; k++) {
		struct ipcheck *c = &ic[k];

		c->t = t;
		c->hits = xcalloc(t->nresults ? t->nresults : 1, sizeof(*c->hits));
		c->chk.ip = c->ip;
		c->chk.hits = c->hits;
		for (size_t r = 0; r < t->nresults; r++) {
			const struct dnsbl_result *res = &t->results[r];
			struct report_hit *h = &c->hits[c->chk.nhits];

			if (res->status == DS_CLEAN || res->status == DS_ALLOWED) {
				c->chk.nclean++;
				continue;
			}
			if (res->status != DS_LISTED) {
				c->chk.nerror++;
				continue;
			}
			h->list = res->list->name;
			h->zone = res->list->zone;
			h->meaning = res->ncodes ? res->meanings[0] : NULL;
			h->txt = res->ntxt ? res->txt[0] : NULL;
			h->delist = res->list->delist;
			c->chk.nhits++;
		}
	}
	for (size_t i = 0; i < rn->nheld; i++)
		for (size_t k = 0; k < n; k++)
			if (rn->held[i].ok && ic[k].t &&
			    !strcmp(ic[k].ip, rn->held[i].d.judged_ip))
				rn->held[i].chk = &ic[k].chk;
	*out = ic;
	*nout = n;
	return 0;
}

static void begin(const struct run *rn)
{
	if (rn->fmt == FMT_JSON)
		report_json_begin(stdout);
	else if (rn->fmt == FMT_HTML)
		report_html_begin(stdout);
}

static void emit_held(struct run *rn)
{
	for (size_t i = 0; i < rn->nheld; i++) {
		struct held *h = &rn->held[i];
		struct report_item it = { h->file, h->index, h->ok ? &h->d : NULL,
					  h->ok ? NULL : h->err, h->chk };

		emit(rn, &it);
	}
}

static void free_held(struct run *rn, struct ipcheck *ic, size_t nic,
		      struct resolver *rs, struct dnsbl_engine *eng)
{
	for (size_t i = 0; i < rn->nheld; i++) {
		diag_free(&rn->held[i].d);
		free(rn->held[i].file);
	}
	free(rn->held);
	for (size_t k = 0; k < nic; k++) {
		if (ic[k].t)
			dnsbl_target_free(ic[k].t);
		free(ic[k].hits);
	}
	free(ic);
	if (eng)
		dnsbl_free(eng);
	if (rs)
		rs_free(rs);
}

/* Read and report one message, number idx of its input. */
static void read_one(struct run *rn, const char *name, const char *m, size_t ml,
		     unsigned idx)
{
	struct diag d;
	char err[128];
	struct report_item it = { name, idx, NULL, NULL, NULL };
	int ok = diag_read(&d, m, ml, rn->cat, err, sizeof(err)) == 0;

	if (!ok)
		rn->errors++;
	if (rn->check) {
		hold(rn, name, idx, ok, &d, err);
		return;
	}
	if (ok)
		it.d = &d;
	else
		it.error = err;
	emit(rn, &it);
	diag_free(&d);
}

/* Read and report the messages of text that start in [pos, end), the
 * first numbered idx + 1. */
static void read_messages(struct run *rn, const char *name, const char *text,
			  size_t pos, size_t end, unsigned idx)
{
	const char *m;
	size_t ml;

	while (diag_mbox_next(text, end, &pos, &m, &ml))
		read_one(rn, name, m, ml, ++idx);
}

static void one_input(struct run *rn, const char *name, const char *text, size_t len)
{
	if (len == 0) {
		struct report_item it = { name, 1, NULL, "empty input", NULL };

		rn->errors++;
		emit(rn, &it);
		return;
	}
	read_messages(rn, name, text, 0, len, 0);
}

static void one_file(struct run *rn, const char *path)
{
	int own = strcmp(path, "-") != 0;
	int fd = own ? open_input(&rn->dc, path) : STDIN_FILENO;
	size_t len;

	if (fd < 0 || read_all(fd, &rn->buf, &rn->cap, &len)) {
		char err[256];
		struct report_item it = { path, 1, NULL, err, NULL };
		struct diag none;

		snprintf(err, sizeof(err), "cannot read: %s", strerror(errno));
		rn->errors++;
		if (rn->check) {
			memset(&none, 0, sizeof(none));
			hold(rn, path, 1, 0, &none, err);
		} else {
			emit(rn, &it);
		}
		if (own && fd >= 0)
			close(fd);
		return;
	}
	if (own)
		close(fd);
	one_input(rn, path, rn->buf, len);
}

static void read_slot(struct run *rn, struct slot *sl)
{
	for (int k = 0; k < sl->np; k++) {
		const struct piece *pc = &sl->p[k];

		if (pc->err) {
			struct report_item it = { pc->name, 1, NULL, pc->err, NULL };

			rn->errors++;
			emit(rn, &it);
		} else {
			for (unsigned i = 0; i < pc->nmsg; i++)
				read_one(rn, pc->name, pc->in->buf + pc->off[i],
					 pc->off[i + 1] - pc->off[i], pc->idx + i + 1);
		}
	}
}

/* Read slot sl (taken from the ring) with the thread's own context wr,
 * into the slot's buffer, and mark it done. */
static void work_slot(struct pool *pl, struct run *wr, struct slot *sl)
{
	wr->out = open_memstream(&sl->text, &sl->len);
	if (!wr->out)
		fatal("diagnose: open_memstream: %s", strerror(errno));
	/* each slot's first item is written as the first of all; the
	 * printer adds the separator */
	wr->first = 1;
	wr->errors = 0;
	read_slot(wr, sl);
	if (fclose(wr->out) == EOF)
		fatal("diagnose: out of memory for a report");
	pthread_mutex_lock(&pl->mu);
	sl->errors = wr->errors;
	sl->done = 1;
	pthread_cond_broadcast(&pl->done);
	pthread_mutex_unlock(&pl->mu);
}

static void *worker(void *arg)
{
	struct pool *pl = arg;
	struct run rn = pl->proto;

	rn.buf = NULL;
	rn.cap = 0;
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
		work_slot(pl, &rn, sl);
	}
	mime_thread_cleanup();
	report_thread_cleanup();
	return NULL;
}

static void input_release(struct input *in)
{
	if (in && --in->refs == 0) {
		free(in->buf);
		free(in);
	}
}

/* Print the oldest slot (waiting for it when wait, else only when it is
 * done).  Returns 1 when one was printed. */
static int print_one(struct pool *pl, struct run *rn, int wait)
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
	if (sl->len) {
		/* JSON: a comma between the items of two slots */
		if (rn->fmt == FMT_JSON && !rn->first)
			fputc(',', rn->out);
		fwrite(sl->text, 1, sl->len, rn->out);
		rn->first = 0;
	}
	rn->errors += sl->errors;
	free(sl->text);
	for (int k = 0; k < sl->np; k++)
		input_release(sl->p[k].in);
	memset(sl, 0, sizeof(*sl));
	pl->printed++;	/* only this thread reads or writes printed */
	return 1;
}

/* The slot being filled (the one after the published ones), made room
 * for: the oldest is printed first when the ring is full. */
static struct slot *filling(struct pool *pl, struct run *rn)
{
	while (pl->published - pl->printed == WINDOW)
		print_one(pl, rn, 1);
	return &pl->ring[pl->published % WINDOW];
}

static void publish(struct pool *pl, struct run *rn)
{
	struct slot *sl = &pl->ring[pl->published % WINDOW];

	if (!sl->np)
		return;
	pthread_mutex_lock(&pl->mu);
	pl->published++;
	pthread_cond_signal(&pl->work);
	pthread_mutex_unlock(&pl->mu);
	while (print_one(pl, rn, 0))
		;
}

/* Add a piece to the slot being filled, publishing it when it is full. */
static void add_piece(struct pool *pl, struct run *rn, const struct piece *pc,
		      size_t msgs, size_t bytes)
{
	struct slot *sl = filling(pl, rn);

	sl->p[sl->np++] = *pc;
	if (pc->in)
		pc->in->refs++;
	sl->msgs += msgs;
	sl->bytes += bytes;
	if (sl->np == PIECES_MAX || sl->msgs >= SLOT_MSGS || sl->bytes >= SLOT_BYTES)
		publish(pl, rn);
}

/* Read one file and cut it into pieces. */
static void split_file(struct pool *pl, struct run *rn, const char *path)
{
	int own = strcmp(path, "-") != 0;
	int fd = own ? open_input(&rn->dc, path) : STDIN_FILENO;
	struct piece pc = { .name = path };
	struct input *in;
	size_t cap = 0, pos = 0;
	const char *m;
	size_t ml;

	in = xcalloc(1, sizeof(*in));
	in->name = path;
	in->refs = 1;
	if (fd < 0 || read_all(fd, &in->buf, &cap, &in->len)) {
		snprintf(pc.errbuf, sizeof(pc.errbuf), "cannot read: %s", strerror(errno));
		pc.err = "";	/* set below: the piece is copied */
	} else if (in->len == 0) {
		snprintf(pc.errbuf, sizeof(pc.errbuf), "empty input");
		pc.err = "";
	}
	if (own && fd >= 0)
		close(fd);
	if (pc.err) {
		struct slot *sl = filling(pl, rn);

		input_release(in);
		sl->p[sl->np] = pc;
		sl->p[sl->np].err = sl->p[sl->np].errbuf;
		sl->np++;
		sl->msgs++;
		if (sl->np == PIECES_MAX || sl->msgs >= SLOT_MSGS)
			publish(pl, rn);
		return;
	}
	/* runs of messages, cut where a slot fills up */
	pc.in = in;
	while (diag_mbox_next(in->buf, in->len, &pos, &m, &ml)) {
		struct slot *sl = filling(pl, rn);

		pc.off[++pc.nmsg] = pos;	/* messages are contiguous */
		pc.end = pos;
		if (sl->msgs + pc.nmsg >= SLOT_MSGS || sl->bytes + (pc.end - pc.pos) >= SLOT_BYTES ||
		    pos == in->len) {
			add_piece(pl, rn, &pc, pc.nmsg, pc.end - pc.pos);
			pc.idx += pc.nmsg;
			pc.pos = pc.off[0] = pos;
			pc.nmsg = 0;
		}
	}
	input_release(in);	/* the splitter's reference */
}

/* Read files with jobs threads and print the reports in order. */
static void run_parallel(struct run *rn, char *const *files, size_t n, unsigned jobs)
{
	struct pool *pl = xcalloc(1, sizeof(*pl));
	pthread_t tid[JOBS_MAX];
	unsigned started = 0;

	pl->proto = *rn;
	pl->proto.dc.fd = -1;	/* the main thread's alone */
	pl->helper = pl->proto;
	pl->helper.buf = NULL;
	pl->helper.cap = 0;
	pthread_mutex_init(&pl->mu, NULL);
	pthread_cond_init(&pl->work, NULL);
	pthread_cond_init(&pl->done, NULL);
	for (unsigned k = 0; k < jobs; k++)
		if (pthread_create(&tid[started], NULL, worker, pl) == 0)
			started++;
	if (!started)
		fatal("diagnose: cannot start a thread");
	for (size_t i = 0; i < n; i++)
		split_file(pl, rn, files[i]);
	publish(pl, rn);
	pthread_mutex_lock(&pl->mu);
	pl->closed = 1;
	pthread_cond_broadcast(&pl->work);
	pthread_mutex_unlock(&pl->mu);
	while (print_one(pl, rn, 1))
		;
	for (unsigned k = 0; k < started; k++)
		pthread_join(tid[k], NULL);
	pthread_cond_destroy(&pl->done);
	pthread_cond_destroy(&pl->work);
	pthread_mutex_destroy(&pl->mu);
	free(pl);
}

/* Threads for -j 0 (the default): one per CPU, at most 8. */
static unsigned default_jobs(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > 8 ? 8 : (unsigned)n;
}

/* The inputs: the n command-line names in args, then one name per line
 * of the file path ("-": standard input; empty lines skipped, a CR before
 * the LF dropped).  *buf holds the names, *names the vector (both the
 * caller's to free), *count their number.  -1 with a message when the
 * list cannot be read. */
static int read_list(const char *path, char *const *args, size_t n, char **buf,
		     char ***names, size_t *count)
{
	int own = strcmp(path, "-") != 0;
	int fd = own ? open(path, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
	size_t cap = 0, len = 0, k = 0, room;
	char *p;

	if (fd < 0 || read_all(fd, buf, &cap, &len)) {
		fprintf(stderr, "rblkit diagnose: --files-from %s: %s\n", path, strerror(errno));
		if (own && fd >= 0)
			close(fd);
		return -1;
	}
	if (own)
		close(fd);
	*buf = xrealloc(*buf, len + 1);
	(*buf)[len] = '\0';
	room = n + 1;
	for (size_t i = 0; i < len; i++)
		room += (*buf)[i] == '\n';
	*names = xreallocarray(NULL, room, sizeof(**names));
	for (size_t i = 0; i < n; i++)
		(*names)[k++] = args[i];
	for (p = *buf; p < *buf + len;) {
		char *nl = memchr(p, '\n', (size_t)(*buf + len - p)), *e;

		e = nl ? nl : *buf + len;
		*e = '\0';
		if (e > p && e[-1] == '\r')
			e[-1] = '\0';
		if (*p)
			(*names)[k++] = p;
		p = e + 1;
	}
	*count = k;
	return 0;
}

int cmd_diagnose(int argc, char **argv)
{
	enum { O_JSON = 256, O_HTML, O_CATALOG, O_CHECK, O_LISTS, O_RESOLVER,
	       O_RECURSIVE, O_TIMEOUT, O_FILES_FROM };
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, O_JSON },
		{ "html", no_argument, NULL, O_HTML },
		{ "catalog", required_argument, NULL, O_CATALOG },
		{ "check", no_argument, NULL, O_CHECK },
		{ "lists", required_argument, NULL, O_LISTS },
		{ "resolver", required_argument, NULL, O_RESOLVER },
		{ "recursive", no_argument, NULL, O_RECURSIVE },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "jobs", required_argument, NULL, 'j' },
		{ "files-from", required_argument, NULL, O_FILES_FROM },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct run rn = { .fmt = FMT_TEXT, .first = 1, .out = stdout, .dc = { .fd = -1 } };
	struct rs_opts ro = { .mode = RS_SYSTEM, .timeout_ms = 2000, .tries = 2,
			      .window = 256 };
	struct catalog *cat = catalog_new();
	const char *catfile = NULL, *lists = "default";
	struct ipcheck *ic = NULL;
	size_t nic = 0;
	struct resolver *rs = NULL;
	struct dnsbl_engine *eng = NULL;
	unsigned timeout_s = 10, jobs = 0;
	static char *stdin_only[] = { "-" };	/* no FILE: standard input */
	char *const *files = stdin_only;
	size_t nfiles = 1;
	const char *files_from = NULL;
	char *listbuf = NULL, **listed = NULL;
	char err[256], *end;
	int c, rc = 2;

	while ((c = getopt_long(argc, argv, "qhj:", longopts, NULL)) != -1) {
		switch (c) {
		case O_JSON: rn.fmt = FMT_JSON; break;
		case O_HTML: rn.fmt = FMT_HTML; break;
		case O_CATALOG: catfile = optarg; break;
		case O_CHECK: rn.check = 1; break;
		case O_LISTS: lists = optarg; break;
		case O_RESOLVER: ro.mode = RS_FORWARD; ro.servers = optarg; break;
		case O_RECURSIVE: ro.mode = RS_RECURSIVE; break;
		case O_TIMEOUT:
			timeout_s = (unsigned)strtoul(optarg, &end, 10);
			if (*end || !timeout_s || timeout_s > 3600) {
				fprintf(stderr, "rblkit diagnose: --timeout: 1 to 3600 seconds\n");
				goto out;
			}
			break;
		case 'q': rn.quiet = 1; break;
		case O_FILES_FROM: files_from = optarg; break;
		case 'j':
			jobs = (unsigned)strtoul(optarg, &end, 10);
			if (*end || !*optarg || jobs > JOBS_MAX) {
				fprintf(stderr, "rblkit diagnose: -j: 0 (one per CPU) to %d threads\n",
					JOBS_MAX);
				goto out;
			}
			break;
		case 'h':
			cmd_diagnose_help();
			rc = 0;
			goto out;
		default:
			cmd_diagnose_help();
			goto out;
		}
	}
	if (catalog_load_all(cat, &catfile, catfile ? 1 : 0, err, sizeof(err))) {
		fprintf(stderr, "rblkit diagnose: catalogue: %s\n", err);
		goto out;
	}
	rn.cat = cat;
	if (ro.timeout_ms * ro.tries + 100 > timeout_s * 1000u)
		ro.timeout_ms = (timeout_s * 1000u - 100) / ro.tries;
	/* memory handed back to the kernel and asked for again costs system
	 * calls (and, with threads, a TLB flush on every CPU): keep what is
	 * freed for the next message */
	mallopt(M_MMAP_THRESHOLD, 64 << 20);
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	if (!jobs)
		jobs = default_jobs();
	if (optind < argc) {
		files = argv + optind;
		nfiles = (size_t)(argc - optind);
	}
	if (files_from) {
		if (read_list(files_from, argv + optind, (size_t)(argc - optind), &listbuf,
			      &listed, &nfiles) < 0) {
			rc = 2;
			goto out;
		}
		files = listed;
	}
	if (!rn.check)		/* streamed: one message at a time */
		begin(&rn);
	if (jobs > 1 && !rn.check)
		run_parallel(&rn, files, nfiles, jobs);
	else
		for (size_t i = 0; i < nfiles; i++)
			one_file(&rn, files[i]);
	if (rn.check) {
		if (run_checks(&rn, lists, &ro, timeout_s, &ic, &nic, &rs, &eng))
			goto out;
		begin(&rn);
		emit_held(&rn);
	}
	if (rn.fmt == FMT_JSON)
		report_json_end(stdout);
	else if (rn.fmt == FMT_HTML)
		report_html_end(stdout);
	rc = rn.errors ? 1 : 0;
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "rblkit diagnose: write error: %s\n", strerror(errno));
		rc = 1;
	}
out:
	free_held(&rn, ic, nic, rs, eng);
	free(rn.buf);
	free(listbuf);
	free(listed);
	dircache_close(&rn.dc);
	mime_thread_cleanup();
	report_thread_cleanup();
	catalog_free(cat);
	return rc;
}
