/*
 * fuzz_trap.c - libFuzzer target for the trap intake's message path
 * (no store): bytes to (client address, evidence, skip reason) through
 * trap_read(), and a recipient to its zone through trap_zone_for().  The
 * first byte picks the envelope sender (null, MAILER-DAEMON, unknown, a
 * normal one); the rest is the message.
 */
#include "list/trap.h"
#include "mail/received.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *mx_names[] = { "mx1.trap.example", "mx2.trap.example", "198.51.100.25",
			    "[2001:db8::25]" };
static const struct conftab_list mx = { 4, mx_names };
static char *doms[] = { "trap.example=bl.example", "other.example" };
static const struct list_trap_conf tc = { .domains = { 2, doms }, .zone = "default.bl" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const senders[] = { "", "<>", "MAILER-DAEMON@x", NULL, "a@b.example" };
	static struct trap_msg t;
	char rcpt[300];
	size_t n;

	if (size == 0)
		return 0;
	if (trap_read((const char *)data + 1, size - 1, senders[data[0] % 5], &mx, &t))
		abort();
	if (strlen(t.headers) >= sizeof(t.headers) || strlen(t.excerpt) >= sizeof(t.excerpt) ||
	    strlen(t.why) >= sizeof(t.why))
		abort();
	if (t.skip == TRAP_OK && (!t.ip[0] || !rcvd_ip_public(t.ip) || t.why[0]))
		abort();
	if (t.skip != TRAP_OK && !t.why[0])
		abort();
	if (!trap_skip_name(t.skip))
		abort();
	/* the start of the input as a recipient */
	n = size - 1 < sizeof(rcpt) - 1 ? size - 1 : sizeof(rcpt) - 1;
	memcpy(rcpt, data + 1, n);
	rcpt[n] = '\0';
	(void)trap_zone_for(&tc, rcpt);
	return 0;
}
