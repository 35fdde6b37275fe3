/*
 * lang.c - the catalogue of what "rblkit diagnose" says to people, in
 * English and Japanese; see lang.h.  Every message is here, keyed by its
 * id: adding a language is adding a column.
 *
 * SECURITY: static text; reads the locale variables of the environment.
 */
#include "mail/lang.h"

#include <stdlib.h>
#include <string.h>

static const char *const names[LANG_N] = { "en", "ja" };

/* [id] = { English, Japanese }.  Formats take the same arguments in the
 * same order in both (tests/unit/test_diag_lang.c). */
static const char *const msgs[L_NMSG][LANG_N] = {
	[L_SUM_DELIVERED] = { "Delivered", "配信済み" },
	[L_SUM_DEFERRED] = { "Deferred", "配信遅延" },
	[L_SUM_REJECTED] = { "Rejected", "配信失敗" },
	[L_SUM_BY] = { " by %s", "（%s）" },
	[L_SUM_FOR] = { " for %s", "・%s経過" },
	[L_SUM_LISTED_IP] = { ": sending IP or domain listed on %s",
			      "：送信元のIPアドレスかドメインが %s に登録されています" },
	[L_SUM_LISTED_CONTENT] = { ": content or sender listed on %s",
				   "：内容か送信者が %s に登録されています" },
	[L_SUM_DELIVERED_TO] = { ": delivered to %s", "：%s に配信されました" },
	[L_SUM_EXPLAIN] = { ": %s", "：%s" },
	[L_SUM_CODES] = { " (%s%s%s%s%s)", "（%s%s%s%s%s）" },
	[L_SUM_REMOVAL] = { ". Request removal: %s", "。削除依頼: %s" },
	[L_SUM_MORE1] = { " [+%zu more recipient]", " [ほか宛先%zu件]" },
	[L_SUM_MORE] = { " [+%zu more recipients]", " [ほか宛先%zu件]" },
	[L_SUM_FEEDBACK] = { "Feedback report: a complaint about mail to %s%s",
			     "苦情の報告（フィードバックレポート）：宛先 %s%s" },
	[L_SUM_AND_OTHERS] = { " and others", " ほか" },
	[L_SUM_AUTOREPLY] = { "Automatic reply from %s (out of office): not a bounce",
			      "%s からの自動応答（不在通知）：配信エラーではありません" },
	[L_SUM_NO_RCPT] = { "Bounce with no recipient found", "宛先の分からない配信エラー" },
	[L_SUM_MESSAGE] = { "Message", "メッセージ" },
	[L_SUM_HOPS] = { "%s: %zu %s", "%s：経路 %zu %s" },
	[L_SUM_IN] = { " in %s", "（%s）" },
	[L_SUM_JUDGE] = { ", receivers judge %s", "、受信側が判定するアドレス %s" },
	[L_HOP] = { "hop", "ホップ" },
	[L_HOPS] = { "hops", "ホップ" },

	[L_DUR_DH] = { "%s%llu d %02llu h", "%s%llu日%02llu時間" },
	[L_DUR_HM] = { "%s%llu h %02llu min", "%s%llu時間%02llu分" },
	[L_DUR_MS] = { "%s%llu min %02llu s", "%s%llu分%02llu秒" },
	[L_DUR_S] = { "%s%llu s", "%s%llu秒" },

	[L_R_USERUNKNOWN] = { "the recipient address does not exist",
			      "宛先のメールアドレスが存在しません" },
	[L_R_HOSTUNKNOWN] = { "the recipient domain does not exist",
			      "宛先のドメインが存在しません" },
	[L_R_MAILBOXFULL] = { "the recipient's mailbox is full",
			      "宛先のメールボックスが一杯です" },
	[L_R_MESGTOOBIG] = { "the message is too big", "メールが大きすぎます" },
	[L_R_EXCEEDLIMIT] = { "the message exceeds a limit of the receiver",
			      "メールが受信側の制限を超えています" },
	[L_R_SUSPEND] = { "the recipient's account is suspended",
			  "宛先のアカウントが停止されています" },
	[L_R_HASMOVED] = { "the recipient has moved", "宛先のアドレスは移転しました" },
	[L_R_FILTERED] = { "the recipient does not accept this mail",
			   "宛先がこのメールの受信を拒否しています" },
	[L_R_REJECTED] = { "the sender address was refused",
			   "送信者のアドレスが拒否されました" },
	[L_R_BLOCKED] = { "the sending IP was refused",
			  "送信元のIPアドレスが拒否されました" },
	[L_R_BADREPUTATION] = { "the sending IP or domain has a poor reputation",
				"送信元のIPアドレスかドメインの評価が低いため拒否されました" },
	[L_R_REQUIREPTR] = { "the sending IP has no valid reverse DNS (PTR)",
			     "送信元のIPアドレスに正しい逆引き（PTR）がありません" },
	[L_R_AUTHFAILURE] = { "SPF, DKIM or DMARC authentication failed",
			      "SPF・DKIM・DMARC の認証に失敗しました" },
	[L_R_SPAMDETECTED] = { "the message was judged to be spam",
			       "迷惑メールと判定されました" },
	[L_R_VIRUSDETECTED] = { "the message was judged to carry a virus",
				"ウイルスを含むと判定されました" },
	[L_R_POLICYVIOLATION] = { "the message violates the receiver's policy",
				  "受信側のポリシーに違反しています" },
	[L_R_SECURITYERROR] = { "a security check of the receiver failed",
				"受信側のセキュリティ検査で拒否されました" },
	[L_R_NORELAYING] = { "the server refused to relay", "サーバーが中継を拒否しました" },
	[L_R_TOOMANYCONN] = { "too many connections or recipients",
			      "接続数か宛先数が多すぎます" },
	[L_R_SPEEDING] = { "sending too fast (rate limited)",
			   "送信の速度が速すぎます（流量制限）" },
	[L_R_STILL_RETRYING] = { "not delivered yet: the sending server is still retrying",
				 "まだ配信されていません（送信側のサーバーが再送を続けています）" },
	[L_R_EXPIRED] = { "delivery was given up after retrying too long",
			  "再送を続けましたが期限切れで配信をあきらめました" },
	[L_R_NETWORKERROR] = { "the receiver could not be reached (network or DNS)",
			       "受信側に接続できません（ネットワークか DNS）" },
	[L_R_SYSTEMERROR] = { "the receiving system failed", "受信側のシステムで障害が起きました" },
	[L_R_SYSTEMFULL] = { "the receiving system is out of space",
			     "受信側のシステムの容量が足りません" },
	[L_R_NOTACCEPT] = { "the domain accepts no mail", "宛先のドメインはメールを受け付けていません" },
	[L_R_CONTENTERROR] = { "the message content was refused", "メールの内容が拒否されました" },
	[L_R_NOTCOMPLIANTRFC] = { "the message does not follow the mail standards",
				  "メールが標準の形式に従っていません" },
	[L_R_MAILERERROR] = { "the local delivery program failed",
			      "受信側の配送プログラムが失敗しました" },
	[L_R_SYNTAXERROR] = { "an SMTP command was refused", "SMTP のコマンドが拒否されました" },
	[L_R_FAILEDSTARTTLS] = { "TLS (STARTTLS) could not be set up",
				 "TLS（STARTTLS）の接続を確立できませんでした" },
	[L_R_ONHOLD] = { "the reason could not be determined", "原因を特定できませんでした" },
	[L_R_UNDEFINED] = { "the reason could not be determined", "原因を特定できませんでした" },
	[L_R_DELIVERED] = { "delivered", "配信されました" },
	[L_R_FEEDBACK] = { "a complaint (feedback report)", "苦情の報告（フィードバックレポート）" },
	[L_R_VACATION] = { "an out-of-office reply", "不在通知の自動応答" },

	[L_NEXT_YOUR_SERVER] = { "your server %s is listed on %s",
				 "お使いのサーバー %s が %s に登録されています" },
	[L_NEXT_LISTED] = { "the sending IP or domain is listed on %s",
			    "送信元のIPアドレスかドメインが %s に登録されています" },
	[L_NEXT_STOP] = { "first stop what sends the unwanted mail (a hijacked account, a web form, an open relay)",
			  "まず不要なメールの送信元（乗っ取られたアカウント、Web フォーム、オープンリレーなど）を止めてください" },
	[L_NEXT_REMOVAL] = { "then request removal at %s", "その後 %s で削除を依頼してください" },
	[L_NEXT_REMOVAL_ASK] = { "then ask %s for removal", "その後 %s に削除を依頼してください" },
	[L_NEXT_RETRIED] = { "mail has been retried for %s", "メールは %s 再送が続いています" },
	[L_NEXT_WAITED] = { "mail was retried for %s before it was returned",
			    "メールは %s 再送された後に返送されました" },
	[L_NEXT_USERUNKNOWN] = { "check the address with the recipient and remove it from your lists",
				 "宛先のアドレスを相手の方に確認し、配信リストから削除してください" },
	[L_NEXT_HOSTUNKNOWN] = { "check the domain of the address (a typing error?)",
				 "宛先のドメイン名を確認してください（入力の誤り？）" },
	[L_NEXT_MAILBOXFULL] = { "the recipient has to make room; send again later",
				 "相手の方がメールボックスを空ける必要があります。時間をおいて再送してください" },
	[L_NEXT_MESGTOOBIG] = { "send a smaller message (a link instead of the attachment)",
				"小さなメールで送り直してください（添付ファイルの代わりにリンクなど）" },
	[L_NEXT_CONTENT] = { "check the content and the links of the message; ask the receiver's postmaster if it is legitimate",
			     "メールの内容とリンクを確認してください。正当なメールであれば受信側の管理者に問い合わせてください" },
	[L_NEXT_AUTH] = { "fix SPF, DKIM and DMARC of the sending domain",
			  "送信ドメインの SPF・DKIM・DMARC の設定を直してください" },
	[L_NEXT_PTR] = { "give the sending IP a reverse DNS name (PTR) that resolves back to it",
			 "送信元のIPアドレスに、正引きと一致する逆引き（PTR）を設定してください" },
	[L_NEXT_BLOCKED] = { "check the sending IP with rblkit check and ask the receiver's postmaster why it is refused",
			     "送信元のIPアドレスを rblkit check で調べ、拒否の理由を受信側の管理者に問い合わせてください" },
	[L_NEXT_RATE] = { "send more slowly (fewer connections and recipients at a time)",
			  "送信の速度を落としてください（同時接続数や宛先数を減らす）" },
	[L_NEXT_NETWORK] = { "check that the receiver's mail servers (MX) exist and can be reached",
			     "受信側のメールサーバー（MX）が存在し、接続できることを確認してください" },
	[L_NEXT_TEMPORARY] = { "nothing to do yet: the sending server keeps retrying",
			       "今は対応不要です。送信側のサーバーが再送を続けます" },
	[L_NEXT_ASK] = { "read the diagnostic below and ask the receiver's postmaster",
			 "下の診断メッセージを読み、受信側の管理者に問い合わせてください" },
	[L_NEXT_SEP] = { "; ", "。" },
	[L_NEXT_END] = { ".", "。" },

	[L_T_NEXT] = { "  next: ", "  対処: " },
	[L_T_FILE] = { "  file: ", "  ファイル: " },
	[L_T_MESSAGE_N] = { " (message %u)", "（%u 通目）" },
	[L_T_KIND] = { "  kind: %s\n", "  種類: %s\n" },
	[L_T_SUBJECT] = { "  subject: ", "  件名: " },
	[L_T_RECIPIENT] = { "  recipient: ", "  宛先: " },
	[L_T_REASON] = { "    reason: %s", "    原因: %s" },
	[L_T_ACTION] = { ", action ", "、Action " },
	[L_T_STATUS] = { "    status: %s  reply: %s\n", "    ステータス: %s  応答コード: %s\n" },
	[L_T_REMOTE] = { "    remote MTA: ", "    相手のサーバー: " },
	[L_T_COMMAND] = { "    failed command: %s\n", "    失敗したコマンド: %s\n" },
	[L_T_QUEUE] = { "    time from arrival to report: %s\n", "    到着から報告までの時間: %s\n" },
	[L_T_BLOCKLIST] = { "    blocklist: %s", "    ブロックリスト: %s" },
	[L_T_REMOVAL] = { "  removal: %s", "  削除依頼: %s" },
	[L_T_DIAG] = { "    diagnostic: ", "    診断メッセージ: " },
	[L_T_JUDGED] = { "  address receivers judge: %s (%s)\n", "  受信側が判定するアドレス: %s（%s）\n" },
	[L_T_JUDGED_REJECTION] = { "named in the rejection", "拒否の文面に記載" },
	[L_T_JUDGED_PATH] = { "first hop outside the sender's servers",
			      "送信側のサーバーの外で最初の中継" },
	[L_T_PATH] = { "  path (%zu %s%s%s):\n", "  経路（%zu %s%s%s）:\n" },
	[L_T_PATH_TOTAL] = { ", total ", "、合計 " },
	[L_T_NO_TIME] = { "(no time)           ", "(時刻なし)          " },
	[L_T_JUDGED_MARK] = { "   <- judged by receivers", "   <- 受信側が判定" },
	[L_T_SKEW] = { "   (clock skew)", "   （時計のずれ）" },
	[L_T_ERROR] = { ": error: %s\n", ": エラー: %s\n" },

	[L_HARD] = { "hard", "恒久（アドレス）" },
	[L_PERMANENT] = { "permanent", "恒久" },
	[L_SOFT] = { "soft", "一時" },

	[L_H_TITLE] = { "rblkit diagnose", "rblkit diagnose 配信エラーの診断" },
	[L_H_NEXT] = { "What to do next", "次にすること" },
	[L_H_TIMELINE] = { "Timeline", "経過" },
	[L_H_WRITTEN] = { "written (Date:)", "作成（Date:）" },
	[L_H_HOP] = { "hop %zu: %s", "中継 %zu: %s" },
	[L_H_ARRIVED] = { "arrived at the reporting server (Arrival-Date)",
			  "報告したサーバーに到着（Arrival-Date）" },
	[L_H_QUEUE] = { "in the queue for %s", "キューで %s 待機" },
	[L_H_ATTEMPTS] = { "%d delivery attempts (as the report says)", "配信試行 %d 回（報告による）" },
	[L_H_LAST_ATTEMPT] = { "last attempt (Last-Attempt-Date)", "最後の配信試行（Last-Attempt-Date）" },
	[L_H_REPORT] = { "report sent (Date:)", "報告の送信（Date:）" },
	[L_H_REFUSED] = { "refused by %s", "%s が拒否" },
	[L_H_DEFERRED] = { "deferred by %s", "%s が保留" },
	[L_H_RECIPIENTS] = { "Recipients", "宛先" },
	[L_H_DETAILS] = { "Details", "詳細" },
	[L_H_KIND] = { "kind: %s", "種類: %s" },
	[L_H_SUBJECT] = { "subject: ", "件名: " },
	[L_H_TH_RECIPIENT] = { "recipient", "宛先" },
	[L_H_TH_REASON] = { "reason", "原因" },
	[L_H_TH_STATUS] = { "status", "ステータス" },
	[L_H_TH_REPLY] = { "reply", "応答コード" },
	[L_H_TH_REMOTE] = { "remote MTA", "相手のサーバー" },
	[L_H_TH_COMMAND] = { "command", "コマンド" },
	[L_H_TH_BLOCKLIST] = { "blocklist", "ブロックリスト" },
	[L_H_TH_DIAG] = { "diagnostic", "診断メッセージ" },
	[L_H_PATH] = { "path: %zu %s", "経路: %zu %s" },
	[L_H_TH_TIME] = { "time (UTC)", "時刻（UTC）" },
	[L_H_TH_DELAY] = { "delay", "遅延" },
	[L_H_TH_FROM] = { "from", "送信元" },
	[L_H_TH_IP] = { "IP", "IP" },
	[L_H_TH_BY] = { "by", "受信" },
	[L_H_TH_WITH] = { "with", "プロトコル" },
	[L_H_JUDGED] = { "address receivers judge: ", "受信側が判定するアドレス: " },
};

/* sisimai's reasons and their words. */
static const struct {
	const char *reason;
	enum lang_msg id;
} reasons[] = {
	{ "userunknown", L_R_USERUNKNOWN }, { "hostunknown", L_R_HOSTUNKNOWN },
	{ "mailboxfull", L_R_MAILBOXFULL }, { "mesgtoobig", L_R_MESGTOOBIG },
	{ "exceedlimit", L_R_EXCEEDLIMIT }, { "suspend", L_R_SUSPEND },
	{ "hasmoved", L_R_HASMOVED }, { "filtered", L_R_FILTERED },
	{ "rejected", L_R_REJECTED }, { "blocked", L_R_BLOCKED },
	{ "badreputation", L_R_BADREPUTATION }, { "requireptr", L_R_REQUIREPTR },
	{ "authfailure", L_R_AUTHFAILURE }, { "spamdetected", L_R_SPAMDETECTED },
	{ "virusdetected", L_R_VIRUSDETECTED }, { "policyviolation", L_R_POLICYVIOLATION },
	{ "securityerror", L_R_SECURITYERROR }, { "norelaying", L_R_NORELAYING },
	{ "toomanyconn", L_R_TOOMANYCONN }, { "speeding", L_R_SPEEDING },
	{ "expired", L_R_EXPIRED }, { "networkerror", L_R_NETWORKERROR },
	{ "systemerror", L_R_SYSTEMERROR }, { "systemfull", L_R_SYSTEMFULL },
	{ "notaccept", L_R_NOTACCEPT }, { "contenterror", L_R_CONTENTERROR },
	{ "notcompliantrfc", L_R_NOTCOMPLIANTRFC }, { "mailererror", L_R_MAILERERROR },
	{ "syntaxerror", L_R_SYNTAXERROR }, { "failedstarttls", L_R_FAILEDSTARTTLS },
	{ "onhold", L_R_ONHOLD }, { "undefined", L_R_UNDEFINED },
	{ "delivered", L_R_DELIVERED }, { "feedback", L_R_FEEDBACK },
	{ "vacation", L_R_VACATION },
};

const char *lang_msg(enum lang lang, enum lang_msg id)
{
	const char *s;

	if ((unsigned)id >= L_NMSG)
		return "";
	s = (unsigned)lang < LANG_N ? msgs[id][lang] : NULL;
	return s ? s : msgs[id][LANG_EN] ? msgs[id][LANG_EN] : "";
}

const char *lang_reason(enum lang lang, const char *reason)
{
	for (size_t i = 0; reason && i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (!strcmp(reasons[i].reason, reason))
			return lang_msg(lang, reasons[i].id);
	return NULL;
}

const char *lang_name(enum lang lang)
{
	return (unsigned)lang < LANG_N ? names[lang] : names[LANG_EN];
}

int lang_parse(const char *s, enum lang *out)
{
	if (!s)
		return -1;
	for (int l = 0; l < LANG_N; l++)
		if (!strncmp(s, names[l], 2) &&
		    (!s[2] || s[2] == '_' || s[2] == '-' || s[2] == '.' || s[2] == '@')) {
			*out = (enum lang)l;
			return 0;
		}
	return -1;
}

enum lang lang_from_env(void)
{
	static const char *const vars[] = { "LC_ALL", "LC_MESSAGES", "LANG" };

	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		const char *v = getenv(vars[i]);

		if (v && *v)
			return !strncmp(v, "ja", 2) ? LANG_JA : LANG_EN;
	}
	return LANG_EN;
}
