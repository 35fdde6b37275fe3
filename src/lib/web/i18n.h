/*
 * i18n.h - the message catalogue: every user-visible string of the
 * portal by id, in English and Japanese. Adding a language is adding a
 * column (WEB_LANG_*, web_lang_names, and a string per message; a
 * missing one falls back to English).
 *
 * SECURITY: static text; some messages are printf formats whose
 * arguments the caller escapes through web_textf.
 */
#ifndef RBLKIT_WEB_I18N_H
#define RBLKIT_WEB_I18N_H

enum web_lang { WEB_LANG_EN = 0, WEB_LANG_JA = 1, WEB_NLANG };
extern const char *const web_lang_names[WEB_NLANG];     /* "en", "ja" */

enum web_msg {
	M_TITLE, M_INTRO, M_QUERY_LABEL, M_LOOKUP, M_YOUR_ADDR, M_BAD_QUERY,
	M_RESULTS_FOR, M_ZONE, M_LISTED, M_NOT_LISTED, M_DNS_UNKNOWN, M_DNS_SAYS,
	M_CODE, M_MEANING, M_REASON, M_FIRST_SEEN, M_LAST_SEEN, M_HITS, M_EXPIRES,
	M_NEVER, M_HISTORY, M_EVIDENCE, M_NO_DETAILS, M_NEXT_LISTED, M_NEXT_NOT_LISTED,
	M_NEXT_UNKNOWN, M_REMOVE_BUTTON, M_REMOVE_REASON, M_REMOVED, M_RELIST_WARN,
	M_REMOVED_DNS_LAG, M_REVIEW, M_NOT_LISTED_NOW, M_RATE_LIMITED, M_FORBIDDEN,
	M_NOT_FOUND, M_TOO_LARGE, M_BAD_REQUEST, M_INTERNAL, M_BACK, M_LANG_SWITCH,
	M_REQUEST_SENT, M_CONFIRM_SENT, M_CONFIRM_DONE, M_CONFIRM_BAD,
	M_ADMIN, M_LOGIN, M_USER, M_PASSWORD, M_LOGOUT, M_LOGIN_FAILED, M_QUEUE,
	M_APPROVE, M_DENY, M_AUDIT, M_SEARCH, M_KEYS, M_DONE, M_NO_RIGHTS,
	M_CHECK_TITLE, M_CHECK_LABEL, M_CHECK_BUTTON, M_CHECK_TARGET, M_CHECK_ALLOWED,
	M_CHECK_ERROR, M_CHECK_DELIST, M_CHECK_CLEAN, M_CHECK_NO_LIST, M_CHECK_RANGE,
	M_CHECK_TIME_UP, M_CHECK_LISTS_DOWN, M_CHECK_DONE, M_CHECK_NO_LISTS, M_CHECK_BUSY,
	M_WATCH_TITLE, M_WATCH_COUNTS, M_WATCH_LISTINGS, M_WATCH_ERRORS, M_WATCH_TIMELINE,
	M_WATCH_LIST_ITSELF,
	WEB_NMSG
};

/* The text of id in lang (English when lang has none). */
const char *web_msg(enum web_lang lang, enum web_msg id);

#endif
