/*
 * lang.h - the catalogue of what "rblkit diagnose" says to people, in
 * English and Japanese: the summary line, the reason in plain words,
 * what to do next, and the labels of the text and HTML reports.  One
 * table keyed by message id (lang.c); a message that is a printf format
 * takes the same arguments, in the same order, in every language (a
 * unit test checks it).  JSON is not translated: its keys and the
 * "summary" stay English.
 *
 * SECURITY: static text.  The formats' arguments come from mail; the
 * callers escape them for their output.
 */
#ifndef RBLKIT_MAIL_LANG_H
#define RBLKIT_MAIL_LANG_H

enum lang { LANG_EN = 0, LANG_JA = 1, LANG_N };

enum lang_msg {
	/* the summary line, in pieces */
	L_SUM_DELIVERED, L_SUM_DEFERRED, L_SUM_REJECTED, L_SUM_BY, L_SUM_FOR,
	L_SUM_LISTED_IP, L_SUM_LISTED_CONTENT, L_SUM_DELIVERED_TO, L_SUM_EXPLAIN,
	L_SUM_CODES, L_SUM_REMOVAL, L_SUM_MORE1, L_SUM_MORE, L_SUM_FEEDBACK,
	L_SUM_AND_OTHERS, L_SUM_AUTOREPLY, L_SUM_NO_RCPT, L_SUM_MESSAGE, L_SUM_HOPS,
	L_SUM_IN, L_SUM_JUDGE, L_HOP, L_HOPS,
	/* durations: days and hours, hours and minutes, minutes and seconds,
	 * seconds (a sign, then the numbers) */
	L_DUR_DH, L_DUR_HM, L_DUR_MS, L_DUR_S,
	/* the reasons in plain words (sisimai's vocabulary) */
	L_R_USERUNKNOWN, L_R_HOSTUNKNOWN, L_R_MAILBOXFULL, L_R_MESGTOOBIG,
	L_R_EXCEEDLIMIT, L_R_SUSPEND, L_R_HASMOVED, L_R_FILTERED, L_R_REJECTED,
	L_R_BLOCKED, L_R_BADREPUTATION, L_R_REQUIREPTR, L_R_AUTHFAILURE,
	L_R_SPAMDETECTED, L_R_VIRUSDETECTED, L_R_POLICYVIOLATION, L_R_SECURITYERROR,
	L_R_NORELAYING, L_R_TOOMANYCONN, L_R_SPEEDING, L_R_EXPIRED, L_R_NETWORKERROR,
	L_R_SYSTEMERROR, L_R_SYSTEMFULL, L_R_NOTACCEPT, L_R_CONTENTERROR,
	L_R_NOTCOMPLIANTRFC, L_R_MAILERERROR, L_R_SYNTAXERROR, L_R_FAILEDSTARTTLS,
	L_R_ONHOLD, L_R_UNDEFINED, L_R_DELIVERED, L_R_FEEDBACK, L_R_VACATION,
	L_R_STILL_RETRYING,	/* "expired" in a delay warning */
	/* what to do next */
	L_NEXT_YOUR_SERVER, L_NEXT_LISTED, L_NEXT_STOP, L_NEXT_REMOVAL,
	L_NEXT_REMOVAL_ASK, L_NEXT_RETRIED, L_NEXT_WAITED, L_NEXT_USERUNKNOWN,
	L_NEXT_HOSTUNKNOWN, L_NEXT_MAILBOXFULL, L_NEXT_MESGTOOBIG, L_NEXT_CONTENT,
	L_NEXT_AUTH, L_NEXT_PTR, L_NEXT_BLOCKED, L_NEXT_RATE, L_NEXT_NETWORK,
	L_NEXT_TEMPORARY, L_NEXT_ASK, L_NEXT_SEP, L_NEXT_END,
	/* labels of the text report */
	L_T_NEXT, L_T_FILE, L_T_MESSAGE_N, L_T_KIND, L_T_SUBJECT, L_T_RECIPIENT,
	L_T_REASON, L_T_ACTION, L_T_STATUS, L_T_REMOTE, L_T_COMMAND, L_T_QUEUE,
	L_T_BLOCKLIST, L_T_REMOVAL, L_T_DIAG, L_T_JUDGED, L_T_JUDGED_REJECTION,
	L_T_JUDGED_PATH, L_T_PATH, L_T_PATH_TOTAL, L_T_NO_TIME, L_T_JUDGED_MARK,
	L_T_SKEW, L_T_ERROR,
	/* severities */
	L_HARD, L_PERMANENT, L_SOFT,
	/* the HTML report */
	L_H_TITLE, L_H_NEXT, L_H_TIMELINE, L_H_WRITTEN, L_H_HOP, L_H_ARRIVED,
	L_H_QUEUE, L_H_ATTEMPTS, L_H_LAST_ATTEMPT, L_H_REPORT, L_H_REFUSED, L_H_DEFERRED,
	L_H_RECIPIENTS, L_H_DETAILS, L_H_KIND, L_H_SUBJECT, L_H_TH_RECIPIENT,
	L_H_TH_REASON, L_H_TH_STATUS, L_H_TH_REPLY, L_H_TH_REMOTE, L_H_TH_COMMAND,
	L_H_TH_BLOCKLIST, L_H_TH_DIAG, L_H_PATH, L_H_TH_TIME, L_H_TH_DELAY,
	L_H_TH_FROM, L_H_TH_IP, L_H_TH_BY, L_H_TH_WITH, L_H_JUDGED,
	L_NMSG
};

/* The text of id in lang (static; English for an unknown lang). */
const char *lang_msg(enum lang lang, enum lang_msg id);

/* The reason (sisimai's word) in plain words, or NULL when it has none. */
const char *lang_reason(enum lang lang, const char *reason);

/* "en" or "ja" (also "ja_JP.UTF-8" and the like): 0 and *out, or -1. */
int lang_parse(const char *s, enum lang *out);

/* The language of the locale: LC_ALL, else LC_MESSAGES, else LANG (the
 * first that is set and not empty) starting with "ja" is Japanese;
 * anything else English. */
enum lang lang_from_env(void);

/* The name of lang: "en", "ja". */
const char *lang_name(enum lang lang);

#endif
