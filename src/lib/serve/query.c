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

/* Parse header, question and EDNS. Returns -1 to drop, else an rcode. */
static int parse_req(struct req *r, const uint8_t *buf, size_t len)
{
	struct wire w;
	uint16_t qd, an, ns, ar;

	wire_init(&w, buf, len);
	r->id = wire_u16(&w);
	r->flags = wire_u16(&w);
	qd = wire_u16(&w);
	an = wire_u16(&w);
	ns = wire_u16(&w);
	ar = wire_u16(&w);
	if (!wire_ok(&w) || (r->flags & 0x8000))
		return -1;              /* short, or a response: drop */
	if (qd != 1)
		return R_FORMERR;
	r->qnamelen = wire_qname(&w, r->qname, r->loff, &r->labels);
	r->qtype = wire_u16(&w);
	r->qclass = wire_u16(&w);
	if (!wire_ok(&w))
		return R_FORMERR;
	r->qend = w.pos;
	/* skip answer and authority records, look for OPT in additional */
	for (unsigned i = 0; i < (unsigned)an + ns + ar; i++) {
		uint8_t name[256];
		uint16_t type, rdlen, cls;
		uint32_t ttl;

		wire_name(&w, name, 0);
		type = wire_u16(&w);
		cls = wire_u16(&w);
		ttl = wire_u32(&w);
		rdlen = wire_u16(&w);
		wire_skip(&w, rdlen);
		if (!wire_ok(&w))
			return R_FORMERR;
		if (type != T_OPT)
			continue;
		if (i < (unsigned)an + ns || r->edns || name[0])
			return R_FORMERR;       /* misplaced or second OPT */
		r->edns = 1;
		r->edns_size = cls;
		r->edns_version = (uint8_t)(ttl >> 16);
		r->edns_do = !!(ttl & 0x8000);
	}
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

static int digit_label(const uint8_t *l, unsigned *v)
{
	unsigned n = 0;

	if (!l[0] || l[0] > 3)
		return 0;
	for (unsigned i = 1; i <= l[0]; i++) {
		if (l[i] < '0' || l[i] > '9')
			return 0;
		n = n * 10 + (l[i] - '0');
	}
	*v = n;
	return n <= 255;
}

/* 1 + hex digit value of the (lowercased) nibble labels, 0 for others. */
static const uint8_t hexval1[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5,
	['5'] = 6, ['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
	['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
};
#define hexval(c) ((int)hexval1[(c)] - 1)

void query_qinfo_addr(struct qinfo *qi, unsigned flags)
{
	const uint8_t *p = qi->rel;
	unsigned v, n = qi->rel_labels, k;

	qi->ip4_ok = qi->ip6_ok = 0;
	qi->ip4_pfx_bits = qi->ip6_pfx_bits = 0;
	if (!(flags & (DS_F_IP4 | DS_F_IP6 | DS_F_ACL)) || !n)
		return;
	if (n <= 4) {
		uint32_t a = 0;

		for (k = 0; k < n && digit_label(p, &v); k++, p += *p + 1)
			a |= v << (8 * k);
		if (k == n) {
			/* "4.3.2.1": the first label is the last octet */
			if (n == 4) {
				qi->ip4 = a;
				qi->ip4_ok = 1;
			} else {
				qi->ip4 = a << (8 * (4 - n));
				qi->ip4_pfx_bits = (int)(8 * n);
			}
			return;
		}
	}
	if (n == 32 && qi->rel_len == 64) {
		uint8_t a[16];

		/* 32 one-character labels, least significant nibble first */
		for (k = 0; k < 32; k++) {
			int h = hexval(p[2 * k + 1]);

			if (p[2 * k] != 1 || h < 0)
				return;
			if (k & 1)
				a[15 - k / 2] |= (uint8_t)(h << 4);
			else
				a[15 - k / 2] = (uint8_t)h;
		}
		memcpy(qi->ip6, a, 16);
		qi->ip6_ok = 1;
		if (!(flags & DS_F_IP4))
			return;
		if (a[0] == 0x20 && a[1] == 0x02) {             /* 6to4 */
			qi->ip4 = (uint32_t)a[2] << 24 | a[3] << 16 | a[4] << 8 | a[5];
			qi->ip4_ok = 1;
		} else if (!memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12)) {
			qi->ip4 = (uint32_t)a[12] << 24 | a[13] << 16 | a[14] << 8 | a[15];
			qi->ip4_ok = 1;
			qi->ip6_ok = 0;
		}
		return;
	}
	if (n < 32) {           /* a prefix of nibbles: for empty non-terminals */
		uint8_t a[16] = { 0 };

		for (k = 0; k < n; k++, p += 2) {
			unsigned nib = n - 1 - k;       /* nibble index from the top */
			int h = hexval(p[1]);

			if (p[0] != 1 || h < 0)
				return;
			a[nib / 2] |= (uint8_t)(nib & 1 ? h : h << 4);
		}
		memcpy(qi->ip6, a, 16);
		qi->ip6_pfx_bits = (int)(4 * n);
	}
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
	if (rc != R_NOERROR || ((j->r.flags >> 11) & 15) != 0) {
		count(j->qc, NULL, ST_ERRORS, 1);
		/* rbldnsd differs: for an opcode we do not implement we copy
		 * the opcode (RFC 1035 4.1.1: a NOTIFY sender must see its
		 * NOTIMP) and answer with the header only (the question of
		 * another opcode, e.g. UPDATE's zone, follows other rules). */
		*out = fail(j, 12, rc != R_NOERROR ? rc : R_NOTIMP);
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
		/* as rbldnsd: no transfers over UDP (NOTIMP) */
		if (j->qc->tcp && z->soa && j->r.labels == z->labels)
			j->qc->xfr_zone = z;    /* the caller transfers */
		else
			*out = fail(j, j->r.qend, !j->qc->tcp ? R_NOTIMP : R_REFUSED);
		return 1;
	}
	if (j->r.qtype >= 250 && j->r.qtype != T_ANY) {
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
	query_qinfo_addr(qi, z->flags);
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
