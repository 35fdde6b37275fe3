/*
 * query.c - answering one DNS query; see query.h.
 *
 * The rules are rbldnsd's (so that answers match it) except where rbldnsd
 * is wrong, each marked "rbldnsd differs": empty non-terminals answer
 * NODATA, EDNS0 is echoed, answers that do not fit set TC, TCP and AXFR
 * are served.
 *
 * SECURITY: the request is untrusted; it is parsed with wire.c and copied
 * only after validation. Responses are bounded by answer.c.
 */
#include "serve/query.h"
#include "serve/answer.h"
#include "serve/ds_acl.h"
#include "base/dname.h"
#include "base/ipaddr.h"
#include "base/wire.h"

#include <string.h>
#include <netinet/in.h>

#define T_A 1
#define T_NS 2
#define T_SOA 6
#define T_MX 15
#define T_TXT 16
#define T_AAAA 28
#define T_OPT 41
#define T_IXFR 251
#define T_AXFR 252
#define T_ANY 255
#define C_IN 1
#define C_CH 3
#define C_ANY 255

#define R_NOERROR 0
#define R_FORMERR 1
#define R_SERVFAIL 2
#define R_NXDOMAIN 3
#define R_NOTIMP 4
#define R_REFUSED 5

#define EDNS_SIZE 1232          /* our UDP payload size (DNS flag day 2020) */

struct req {
	uint16_t id, flags, qtype, qclass;
	uint8_t qname[256];     /* lowercased */
	size_t qnamelen;
	unsigned labels;
	uint8_t loff[DNAME_MAXLABELS + 1];      /* label offsets in qname */
	size_t qend;            /* end of the question in the request */
	int edns;               /* OPT seen */
	uint16_t edns_size;
	int edns_do;
	uint8_t edns_version;
};

static void count(struct query_ctx *qc, const struct zone *z, int what, uint64_t n)
{
	uint64_t *c = z && qc->stats ? &qc->stats[z->id][what] :
		      !z && qc->global ? &qc->global[what] : NULL;

	/* one writer per counter; stats.c reads them from another thread */
	if (c)
		__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + n,
				 __ATOMIC_RELAXED);
}

/* RFC 6891 6.1.2: the options of an OPT RDATA, each code, length and
 * data, must fill the RDATA exactly. */
static int opt_options_ok(struct wire *w, uint16_t rdlen)
{
	size_t end;

	if (wire_left(w) < rdlen)
		return 0;
	end = w->pos + rdlen;
	while (wire_ok(w) && w->pos < end) {
		uint16_t olen;

		if (end - w->pos < 4)
			return 0;
		wire_u16(w);
		olen = wire_u16(w);
		if (olen > end - w->pos)
			return 0;
		wire_skip(w, olen);
	}
	return wire_ok(w);
}

/* The records after the question: skip answer and authority, look for
 * one OPT in the additional section. Returns R_NOERROR or R_FORMERR. */
static int parse_records(struct req *r, struct wire *w, unsigned an_ns, unsigned ar)
{
	for (unsigned i = 0; i < an_ns + ar; i++) {
		uint8_t name[256];
		uint16_t type, rdlen, cls;
		uint32_t ttl;

		wire_name(w, name, 0);
		type = wire_u16(w);
		cls = wire_u16(w);
		ttl = wire_u32(w);
		rdlen = wire_u16(w);
		if (!wire_ok(w))
			return R_FORMERR;
		if (type != T_OPT) {
			wire_skip(w, rdlen);
			if (!wire_ok(w))
				return R_FORMERR;
			continue;
		}
		if (i < an_ns || r->edns || name[0] || !opt_options_ok(w, rdlen))
			return R_FORMERR;       /* misplaced, second or bad OPT */
		r->edns = 1;
		r->edns_size = cls;
		r->edns_version = (uint8_t)(ttl >> 16);
		r->edns_do = !!(ttl & 0x8000);
	}
	return R_NOERROR;
}

/* Parse header, question and EDNS. Returns -1 to drop, else an rcode;
 * r->edns is set whenever a valid OPT was read, also with an error (RFC
 * 6891 6.1.1: a FORMERR to a query with OPT carries OPT, whatever its
 * question count), and r->qend is 12 unless the request is valid. */
static int parse_req(struct req *r, const uint8_t *buf, size_t len)
{
	struct wire w;
	uint16_t qd, an, ns, ar;
	size_t qend = 12;
	int rc;

	wire_init(&w, buf, len);
	r->id = wire_u16(&w);
	r->flags = wire_u16(&w);
	qd = wire_u16(&w);
	an = wire_u16(&w);
	ns = wire_u16(&w);
	ar = wire_u16(&w);
	r->qend = 12;
	if (!wire_ok(&w) || (r->flags & 0x8000))
		return -1;              /* short, or a response: drop */
	if (((r->flags >> 11) & 15) != 0)
		return R_NOTIMP;        /* another opcode: its sections differ */
	if (qd >= 1) {
		r->qnamelen = wire_qname(&w, r->qname, r->loff, &r->labels);
		r->qtype = wire_u16(&w);
		r->qclass = wire_u16(&w);
		qend = w.pos;
	}
	for (unsigned i = 1; i < qd && wire_ok(&w); i++) {
		uint8_t name[256];      /* more questions: read past them, for OPT */

		wire_name(&w, name, 1);
		wire_skip(&w, 4);
	}
	if (!wire_ok(&w))
		return R_FORMERR;
	rc = parse_records(r, &w, (unsigned)an + ns, ar);
	if (rc != R_NOERROR || qd != 1)
		return R_FORMERR;
	r->qend = qend;
	return R_NOERROR;
}

/* Response header flags: QR, opcode and RD copied, AA as given. */
static void set_header(uint8_t *resp, const struct req *r, int aa, int rcode)
{
	uint16_t f = 0x8000 | (r->flags & 0x7900) | (aa ? 0x0400 : 0) |
		     (uint16_t)(rcode & 15);

	resp[2] = (uint8_t)(f >> 8);
	resp[3] = (uint8_t)f;
}

static void add_opt(struct answer *a, const struct req *r, int rcode)
{
	uint8_t *p;

	if (!r->edns || a->len + 11 > a->cap)
		return;
	p = a->buf + a->len;
	p[0] = 0;
	p[1] = 0; p[2] = T_OPT;
	p[3] = EDNS_SIZE >> 8; p[4] = EDNS_SIZE & 255;
	p[5] = (uint8_t)(rcode >> 4);   /* extended rcode */
	p[6] = 0;                       /* version */
	p[7] = r->edns_do ? 0x80 : 0;
	p[8] = 0;
	p[9] = 0; p[10] = 0;
	a->len += 11;
	a->count[SEC_ADDITIONAL]++;
}

/* An error response: the question if we have one, no records. */
static size_t error_resp(struct query_ctx *qc, const struct req *r,
			 const uint8_t *req, size_t qend, uint8_t *resp,
			 size_t cap, int rcode)
{
	struct answer a;

	answer_init(&a, resp, cap, cap, req, qend);
	if (qend == 12)
		resp[4] = resp[5] = 0;  /* no question */
	set_header(resp, r, 0, rcode);
	add_opt(&a, r, rcode);
	return answer_finish(&a);
}

static void add_soa(struct answer *a, const struct zone *z, enum ans_section sec)
{
	uint8_t rd[600];
	size_t offs[2], n = zone_soa_rdata(z, rd, offs);

	/* in the authority section of negative answers, TTL = minimum */
	answer_add_named(a, sec, z->name, T_SOA,
			 sec == SEC_AUTHORITY ? z->soa->minttl : z->soa->ttl,
			 rd, n, offs, 2);
}

static void add_ns(struct answer *a, const struct zone *z, enum ans_section sec)
{
	size_t save_len;
	uint16_t save_count;

	for (int i = 0; i < z->ns->count; i++) {
		size_t off = 0;
		size_t l = (size_t)dname_rel_len(z->ns->name[i], 256) + 1;

		if (answer_add_named(a, sec, z->name, T_NS, z->ns->ttl,
				     z->ns->name[i], l, &off, 1))
			return;
	}
	if (sec != SEC_AUTHORITY || !z->nglue)
		return;
	/* glue in the additional section: all of it or none, as rbldnsd */
	save_len = a->len;
	save_count = a->count[SEC_ADDITIONAL];
	for (unsigned g = 0; g < z->nglue; g++) {
		if (answer_add_named(a, SEC_ADDITIONAL, z->ns->name[z->glue_ns[g]],
				     T_A, z->glue_ttl[g], z->glue_a[g], 4, NULL, 0)) {
			a->len = save_len;
			a->count[SEC_ADDITIONAL] = save_count;
			return;
		}
	}
}

static unsigned want_bits(uint16_t qtype)
{
	switch (qtype) {
	case T_A: return Q_A;
	case T_TXT: return Q_TXT;
	case T_NS: return Q_NS;
	case T_SOA: return Q_SOA;
	case T_MX: return Q_MX;
	case T_AAAA: return Q_AAAA;
	case T_ANY: return Q_ANY;
	default: return Q_OTHER;
	}
}

static size_t version_resp(struct query_ctx *qc, const struct req *r,
			   const uint8_t *req, uint8_t *resp, size_t cap)
{
	struct answer a;
	uint8_t txt[256];
	size_t n, rr;

	if (!qc->version || r->qtype != T_TXT ||
	    (memcmp(r->qname, "\7version\4bind", 14) &&
	     memcmp(r->qname, "\7version\6server", 16)))
		return error_resp(qc, r, req, r->qend, resp, cap, R_REFUSED);
	answer_init(&a, resp, cap, 512, req, r->qend);
	set_header(resp, r, 0, R_NOERROR);
	n = strlen(qc->version);
	txt[0] = (uint8_t)(n > 255 ? 255 : n);
	memcpy(txt + 1, qc->version, txt[0]);
	rr = a.len;
	answer_add(&a, SEC_ANSWER, T_TXT, 0, txt, txt[0] + 1u);
	/* class CH: answer_add() writes IN; its RR is [ptr 2][type 2][class 2] */
	resp[rr + 4] = 0;
	resp[rr + 5] = C_CH;
	add_opt(&a, r, 0);
	return answer_finish(&a);
}

/* Search the zone's datasets. Returns 1 if the name exists. */
static int search(const struct zone *z, const struct qinfo *qi, int acl,
		  const struct value *aclval, uint32_t aclttl, struct answer *a)
{
	int found = 0;

	for (unsigned i = 0; i < z->nds; i++) {
		const struct dataset *ds = z->ds[i];

		/* acl "empty"/listed: only generic data answers as usual */
		if (acl != ACL_PASS && ds->type != &ds_generic)
			continue;
		found |= ds->type->query(ds, qi, a);
	}
	if (acl == ACL_VALUE && aclval && qi->rel_labels &&
	    (qi->ip4_ok || qi->ip6_ok || (z->flags & DS_F_NAME))) {
		char peer[48];
		int n = qi->peer_family == AF_INET ? ip4_format(
				(uint32_t)qi->peer[0] << 24 | (uint32_t)qi->peer[1] << 16 |
				(uint32_t)qi->peer[2] << 8 | qi->peer[3], peer)
			: ip6_format(qi->peer, peer);

		answer_a_txt(a, qi->want, aclval, aclttl, peer, (size_t)n);
		found = 1;
	}
	return found;
}

static int has_below(const struct zone *z, const struct qinfo *qi)
{
	for (unsigned i = 0; i < z->nds; i++) {
		const struct dataset *ds = z->ds[i];

		if (ds->type->has_below && ds->type->has_below(ds, qi))
			return 1;
	}
	return 0;
}

/* One query being answered. */
struct job {
	struct query_ctx *qc;
	const uint8_t *req;
	size_t len;
	uint8_t *resp;
	size_t cap;
	struct req r;
	const struct zone *z;
	struct qinfo qi;
	int acl;
	const struct value *aclval;
	uint32_t aclttl;
};

static size_t fail(struct job *j, size_t qend, int rcode)
{
	return error_resp(j->qc, &j->r, j->req, qend, j->resp, j->cap, rcode);
}

/* Checks before a zone is known. Returns 1 when *out is the response. */
static int request_checks(struct job *j, size_t *out)
{
	int rc = parse_req(&j->r, j->req, j->len);

	*out = 0;
	if (rc < 0) {
		count(j->qc, NULL, ST_ERRORS, 1);
		return 1;
	}
	if (rc != R_NOERROR) {
		count(j->qc, NULL, ST_ERRORS, 1);
		/* rbldnsd differs: for an opcode we do not implement we copy
		 * the opcode (RFC 1035 4.1.1: a NOTIFY sender must see its
		 * NOTIMP) and answer with the header only (the question of
		 * another opcode, e.g. UPDATE's zone, follows other rules),
		 * whatever its counts are. */
		*out = fail(j, 12, rc);
		return 1;
	}
	if (j->r.edns && j->r.edns_version != 0) {
		count(j->qc, NULL, ST_ERRORS, 1);
		*out = fail(j, j->r.qend, 16 /* BADVERS */);
		return 1;
	}
	if (j->r.qclass == C_CH) {
		*out = version_resp(j->qc, &j->r, j->req, j->resp, j->cap);
		return 1;
	}
	if (j->r.qclass != C_IN && j->r.qclass != C_ANY) {
		*out = fail(j, j->r.qend, R_REFUSED);
		return 1;
	}
	return 0;
}

/* Checks once the zone is known: client acls, data loaded, transfers
 * and meta types. Returns 1 when *out is the response. */
static int zone_checks(struct job *j, size_t *out)
{
	const struct sockaddr *peer = j->qc->peer;
	const struct zone *z = j->z;

	*out = 0;
	j->qi.peer_family = peer ? peer->sa_family : 0;
	if (j->qi.peer_family == AF_INET)
		memcpy(j->qi.peer, &((const struct sockaddr_in *)peer)->sin_addr, 4);
	else if (j->qi.peer_family == AF_INET6)
		memcpy(j->qi.peer, &((const struct sockaddr_in6 *)peer)->sin6_addr, 16);
	j->acl = acl_check(zoneset_global_acl(j->qc->zs), z->acl, &j->qi,
			   &j->aclval, &j->aclttl);
	if (j->acl == ACL_IGNORE)
		return 1;
	if (j->acl == ACL_REFUSE) {
		*out = fail(j, j->r.qend, R_REFUSED);
		return 1;
	}
	if (!z->loaded) {
		count(j->qc, z, ST_ERRORS, 1);
		*out = fail(j, j->r.qend, R_SERVFAIL);
		return 1;
	}
	if (j->r.qtype == T_AXFR || j->r.qtype == T_IXFR) {
		/* as rbldnsd: no transfers over UDP (NOTIMP); over TCP only
		 * to the clients allowed (rbldnsd has no AXFR at all) */
		if (!j->qc->tcp) {
			*out = fail(j, j->r.qend, R_NOTIMP);
		} else if (!axfr_allowed(j->qc->xfr_allow, peer)) {
			axfr_log_refused(peer, z);
			*out = fail(j, j->r.qend, R_REFUSED);
		} else if (z->soa && j->r.labels == z->labels) {
			j->qc->xfr_zone = z;    /* the caller transfers */
		} else {
			*out = fail(j, j->r.qend, R_REFUSED);
		}
		return 1;
	}
	/* the meta types TSIG, MAILB and MAILA; other types we do not know
	 * (CAA, TYPE65534, ...) are data types that this name has none of:
	 * NODATA (RFC 3597), never NOTIMP */
	if (j->r.qtype >= 250 && j->r.qtype < T_ANY) {
		*out = fail(j, j->r.qend, R_NOTIMP);
		return 1;
	}
	return 0;
}

/* The client's size limit for this response. */
static size_t size_limit(const struct job *j)
{
	size_t limit = j->qc->tcp ? 65535 : !j->r.edns ? 512 :
		       j->r.edns_size < 512 ? 512 :
		       j->r.edns_size > EDNS_SIZE ? EDNS_SIZE : j->r.edns_size;

	return j->r.edns ? limit - 11 : limit;  /* room for our OPT */
}

static size_t finish(struct job *j, struct answer *a, int aa, int rcode)
{
	set_header(j->resp, &j->r, aa, rcode);
	add_opt(a, &j->r, 0);
	count(j->qc, j->z, ST_BYTES_OUT, a->len);
	return answer_finish(a);
}

/* Build the answer from the zone's data. */
static size_t build_answer(struct job *j)
{
	const struct zone *z = j->z;
	struct qinfo *qi = &j->qi;
	struct answer a;
	int found = 0, rc = R_NOERROR;

	answer_init(&a, j->resp, j->cap, size_limit(j), j->req, j->r.qend);
	qi->want = want_bits(j->r.qtype);
	qi->qtype = j->r.qtype;
	qi->rel = j->r.qname;
	qi->rel_labels = j->r.labels - z->labels;
	qi->rel_len = (unsigned)(j->r.qnamelen - z->namelen);
	ds_qinfo_addr(qi, z->flags);
	if (!qi->rel_labels) {
		found = 1;
		/* as rbldnsd: SOA/NS (or ANY) at an apex without them: REFUSED */
		if (((qi->want & Q_SOA) && !z->soa) || ((qi->want & Q_NS) && !z->ns))
			return fail(j, j->r.qend, R_REFUSED);
		if (qi->want & Q_SOA)
			add_soa(&a, z, SEC_ANSWER);
		if (qi->want & Q_NS)
			add_ns(&a, z, SEC_ANSWER);
	}
	found |= search(z, qi, j->acl, j->aclval, j->aclttl, &a);
	if (a.truncated) {
		/* rbldnsd differs: it drops what does not fit, we set TC */
		size_t n;

		answer_reset(&a);
		n = finish(j, &a, 1, R_NOERROR);
		j->resp[2] |= 0x02;
		return n;
	}
	/* rbldnsd differs: an empty non-terminal is NODATA, not NXDOMAIN */
	if (!found && !has_below(z, qi)) {
		rc = R_NXDOMAIN;
		count(j->qc, z, ST_NXDOMAIN, 1);
	} else if (found && a.count[SEC_ANSWER]) {
		count(j->qc, z, ST_LISTED, 1);
	}
	if (!a.count[SEC_ANSWER]) {
		if (z->soa)
			add_soa(&a, z, SEC_AUTHORITY);
	} else if (z->ns && !j->qc->lazy) {
		add_ns(&a, z, SEC_AUTHORITY);
	}
	return finish(j, &a, j->r.qclass == C_IN, rc);
}

size_t query_answer(struct query_ctx *qc, const uint8_t *req, size_t len,
		    uint8_t *resp, size_t cap)
{
	struct job j = { .qc = qc, .req = req, .len = len, .resp = resp, .cap = cap };
	size_t out;

	if (request_checks(&j, &out))
		return out;
	j.z = zoneset_find(qc->zs, j.r.qname, j.r.labels, j.r.loff);
	if (!j.z) {
		count(qc, NULL, ST_QUERIES, 1);
		return fail(&j, j.r.qend, R_REFUSED);
	}
	count(qc, j.z, ST_QUERIES, 1);
	count(qc, j.z, ST_BYTES_IN, len);
	if (zone_checks(&j, &out))
		return out;
	return build_answer(&j);
}
