/*
 * test_diag_lang.c - the catalogue of rblkit diagnose (mail/lang.c):
 * every message has English and Japanese, a format takes the same
 * arguments in the same order in both, the reasons all have words, and
 * the locale picks the language.
 */
#include "mail/lang.h"
#include "unit.h"

#include <stdlib.h>

/* The conversions of a printf format, in order, as one string
 * ("s zu llu"): flags and widths dropped, length and type kept; -1 for
 * a format that is not one (a lone '%' at the end). */
static int conversions(const char *f, char *out, size_t len)
{
	size_t o = 0;

	out[0] = '\0';
	for (; *f; f++) {
		if (*f != '%')
			continue;
		f++;
		if (*f == '%')
			continue;
		while (*f && strchr("-+ #0123456789.", *f))
			f++;
		while (*f && strchr("hlLqjzt", *f)) {
			if (o + 2 >= len)
				return -1;
			out[o++] = *f++;
		}
		if (!*f || !strchr("diouxXeEfFgGaAcspn", *f))
			return -1;
		if (o + 3 >= len)
			return -1;
		out[o++] = *f;
		out[o++] = ' ';
		out[o] = '\0';
	}
	return 0;
}

UNIT_TEST(every_message_in_every_language)
{
	for (int id = 0; id < L_NMSG; id++) {
		char en[128], other[128];
		const char *e = lang_msg(LANG_EN, (enum lang_msg)id);

		CHECK(e && *e);
		CHECK_EQ_INT(conversions(e, en, sizeof(en)), 0);
		for (int l = 1; l < LANG_N; l++) {
			const char *t = lang_msg((enum lang)l, (enum lang_msg)id);

			/* not the English fallback: the table has the entry
			 * (only words that are the same in both may match) */
			if (!t || !*t || (t == e && id != L_H_TH_IP)) {
				printf("  message %d has no %s text\n", id, lang_name((enum lang)l));
				CHECK(0);
				continue;
			}
			CHECK_EQ_INT(conversions(t, other, sizeof(other)), 0);
			if (strcmp(en, other))
				printf("  message %d: %s has \"%s\", en \"%s\"\n", id,
				       lang_name((enum lang)l), other, en);
			CHECK_EQ_STR(other, en);
		}
	}
}

UNIT_TEST(reasons_have_words)
{
	static const char *const reasons[] = {
		"userunknown", "mailboxfull", "blocked", "rejected", "expired", "filtered",
		"spamdetected", "policyviolation", "securityerror", "authfailure",
		"requireptr", "badreputation", "hostunknown", "networkerror", "toomanyconn",
		"speeding", "suspend", "mesgtoobig", "exceedlimit", "hasmoved", "norelaying",
		"notaccept", "notcompliantrfc", "contenterror", "virusdetected",
		"systemerror", "systemfull", "mailererror", "syntaxerror", "failedstarttls",
		"onhold", "undefined", "delivered", "feedback", "vacation",
	};

	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		CHECK(lang_reason(LANG_EN, reasons[i]) != NULL);
		CHECK(lang_reason(LANG_JA, reasons[i]) != NULL);
	}
	CHECK_EQ_STR(lang_reason(LANG_EN, "userunknown"), "the recipient address does not exist");
	CHECK(lang_reason(LANG_EN, "nosuchreason") == NULL);
}

UNIT_TEST(language_from_option_and_locale)
{
	enum lang l = LANG_EN;

	CHECK_EQ_INT(lang_parse("ja", &l), 0);
	CHECK_EQ_INT(l, LANG_JA);
	CHECK_EQ_INT(lang_parse("en", &l), 0);
	CHECK_EQ_INT(l, LANG_EN);
	CHECK_EQ_INT(lang_parse("ja_JP.UTF-8", &l), 0);
	CHECK_EQ_INT(l, LANG_JA);
	CHECK_EQ_INT(lang_parse("jax", &l), -1);
	CHECK_EQ_INT(lang_parse("fr", &l), -1);
	CHECK_EQ_INT(lang_parse("", &l), -1);

	unsetenv("LC_ALL");
	unsetenv("LC_MESSAGES");
	setenv("LANG", "ja_JP.UTF-8", 1);
	CHECK_EQ_INT(lang_from_env(), LANG_JA);
	setenv("LC_MESSAGES", "en_US.UTF-8", 1);
	CHECK_EQ_INT(lang_from_env(), LANG_EN);	/* LC_MESSAGES before LANG */
	setenv("LC_ALL", "ja_JP.eucJP", 1);
	CHECK_EQ_INT(lang_from_env(), LANG_JA);	/* LC_ALL before both */
	setenv("LC_ALL", "", 1);		/* empty: not set */
	CHECK_EQ_INT(lang_from_env(), LANG_EN);
	unsetenv("LC_ALL");
	unsetenv("LC_MESSAGES");
	setenv("LANG", "C.UTF-8", 1);
	CHECK_EQ_INT(lang_from_env(), LANG_EN);
	unsetenv("LANG");
	CHECK_EQ_INT(lang_from_env(), LANG_EN);
}

UNIT_MAIN()
