/*
 * counters_scripts.h - the Lua scripts of the Redis counter store (for
 * counters_redis.c only).
 *
 * SECURITY: see counters_scripts.c.
 */
#ifndef RBLKIT_POLICY_COUNTERS_SCRIPTS_H
#define RBLKIT_POLICY_COUNTERS_SCRIPTS_H

/* Their order in pcs_scripts. ARGV of each:
 *   CHECK  user now rcpts add until_reset nlimits (kind max period)...
 *          nperiods period... baseline factor min new_sender
 *          domains_factor domains_min domains_new_sender domain
 *          -> {code, idx, count, first, kind, period, threshold,
 *              mean*1000, sd*1000, top} (counters.h: enum pcs_code)
 *   MERGE  user now n (period windowstart messages recipients)...
 *   RESET  user now nperiods period...
 *   STATUS user now nlimits (kind period)...
 *          -> {estimate per limit..., block, the 16 baseline fields
 *              (strings, '' when none), top} */
enum { PCS_SC_CHECK, PCS_SC_MERGE, PCS_SC_RESET, PCS_SC_STATUS, PCS_SC_N };

extern const char *const pcs_scripts[PCS_SC_N];

#endif
