/*
 * i18n.c - the message catalogue (web/i18n.h).
 *
 * SECURITY: static text only.
 */
#include "web/i18n.h"

const char *const web_lang_names[WEB_NLANG] = { "en", "ja" };

static const char *const cat[WEB_NMSG][WEB_NLANG] = {
	[M_TITLE] = { "Blocklist lookup", "ブロックリスト検索" },
	[M_INTRO] = { "Is an address or a domain on our lists? Why, since when, and how to get it off.",
		      "IPアドレスまたはドメインが当リストに掲載されているか、その理由、時期、解除方法を確認できます。" },
	[M_QUERY_LABEL] = { "IPv4 or IPv6 address, or domain name", "IPv4/IPv6 アドレスまたはドメイン名" },
	[M_LOOKUP] = { "Look up", "検索" },
	[M_YOUR_ADDR] = { "Your address:", "あなたのアドレス:" },
	[M_BAD_QUERY] = { "That is not an IP address or a domain name:", "IPアドレスまたはドメイン名ではありません:" },
	[M_RESULTS_FOR] = { "Results for", "検索結果:" },
	[M_ZONE] = { "List", "リスト" },
	[M_LISTED] = { "LISTED", "掲載中" },
	[M_NOT_LISTED] = { "not listed", "掲載されていません" },
	[M_DNS_UNKNOWN] = { "unknown: our DNS server could not be asked just now (%s). Try again in a minute.",
			    "不明: 現在DNSサーバーに問い合わせできません (%s)。しばらくしてから再度お試しください。" },
	[M_DNS_SAYS] = { "This is what our DNS server answers right now.", "これは現在DNSサーバーが返している応答です。" },
	[M_CODE] = { "Code", "コード" },
	[M_MEANING] = { "Meaning", "意味" },
	[M_REASON] = { "Reason", "理由" },
	[M_FIRST_SEEN] = { "First seen", "初回検出" },
	[M_LAST_SEEN] = { "Last seen", "最終検出" },
	[M_HITS] = { "Hits", "検出回数" },
	[M_EXPIRES] = { "Expires", "有効期限" },
	[M_NEVER] = { "never", "なし" },
	[M_HISTORY] = { "History", "履歴" },
	[M_EVIDENCE] = { "Evidence", "証拠" },
	[M_NO_DETAILS] = { "No details are kept for this listing here.", "この掲載の詳細は保存されていません。" },
	[M_NEXT_LISTED] = { "What to do: stop the mail that caused this (check for a compromised account, an open relay or a hacked web form), then ask for removal below.",
			    "対処方法: 原因となったメール送信を止めてください（乗っ取られたアカウント、オープンリレー、不正利用されたWebフォームを確認）。その後、下のボタンで解除を申請してください。" },
	[M_NEXT_NOT_LISTED] = { "Nothing to do: mail from this address is not refused because of this list.",
				"対処は不要です: このリストが原因でメールが拒否されることはありません。" },
	[M_NEXT_UNKNOWN] = { "We cannot say whether it is listed until DNS answers.", "DNSが応答するまで掲載の有無は判断できません。" },
	[M_REMOVE_BUTTON] = { "Request removal", "解除を申請" },
	[M_REMOVE_REASON] = { "What did you fix? (optional)", "修正した内容（任意）" },
	[M_REMOVED] = { "Removed. Our DNS server now answers: not listed.", "解除しました。DNSサーバーは現在「掲載なし」と応答しています。" },
	[M_RELIST_WARN] = { "It is listed again at the next spamtrap hit, so make sure the cause is fixed.",
			    "次にスパムトラップで検出されると再掲載されます。原因が解決していることを確認してください。" },
	[M_REMOVED_DNS_LAG] = { "Removed from the list; our DNS server did not confirm it yet. Look it up again in a minute.",
				"リストから削除しましたが、DNSサーバーでの反映をまだ確認できていません。1分後に再度検索してください。" },
	[M_REVIEW] = { "Your request needs a review by our staff: %s. We will look at it soon.",
		       "この申請はスタッフによる確認が必要です: %s。確認までしばらくお待ちください。" },
	[M_NOT_LISTED_NOW] = { "It is not listed: nothing to remove.", "掲載されていないため、解除の必要はありません。" },
	[M_RATE_LIMITED] = { "Too many requests from your network. Please wait and try again later.",
			     "お使いのネットワークからのリクエストが多すぎます。時間をおいて再度お試しください。" },
	[M_FORBIDDEN] = { "The form expired or was not sent from this site. Please go back, reload the page and try again.",
			  "フォームの有効期限が切れたか、このサイトから送信されていません。ページを再読み込みしてやり直してください。" },
	[M_NOT_FOUND] = { "There is no such page.", "ページが見つかりません。" },
	[M_TOO_LARGE] = { "The request is too large.", "リクエストが大きすぎます。" },
	[M_BAD_REQUEST] = { "The request could not be read.", "リクエストを読み取れませんでした。" },
	[M_INTERNAL] = { "Something went wrong on our side. Please try again later.", "サーバー側でエラーが発生しました。しばらくしてから再度お試しください。" },
	[M_BACK] = { "Back to the lookup", "検索に戻る" },
	[M_LANG_SWITCH] = { "日本語", "English" },
	[M_REQUEST_SENT] = { "Request number", "申請番号" },
	[M_CONFIRM_SENT] = { "We sent a confirmation link to the postmaster and abuse addresses of %s. Follow it within %u hours to complete the removal.",
			     "%s の postmaster および abuse アドレスに確認リンクを送信しました。%u 時間以内にリンクを開くと解除が完了します。" },
	[M_CONFIRM_DONE] = { "Confirmed.", "確認しました。" },
	[M_CONFIRM_BAD] = { "This link is not valid or has expired.", "このリンクは無効か、有効期限が切れています。" },
	[M_ADMIN] = { "Operator console", "運用コンソール" },
	[M_LOGIN] = { "Log in", "ログイン" },
	[M_USER] = { "User", "ユーザー" },
	[M_PASSWORD] = { "Password", "パスワード" },
	[M_LOGOUT] = { "Log out", "ログアウト" },
	[M_LOGIN_FAILED] = { "Wrong user or password.", "ユーザー名またはパスワードが違います。" },
	[M_QUEUE] = { "Review queue", "確認待ち" },
	[M_APPROVE] = { "Approve (remove)", "承認（解除）" },
	[M_DENY] = { "Deny", "却下" },
	[M_AUDIT] = { "Audit log", "監査ログ" },
	[M_SEARCH] = { "Search", "検索" },
	[M_KEYS] = { "API keys", "APIキー" },
	[M_DONE] = { "Done.", "完了しました。" },
	[M_NO_RIGHTS] = { "Your role does not allow this.", "この操作を行う権限がありません。" },
	[M_CHECK_TITLE] = { "Blocklist check", "ブロックリスト一括チェック" },
	[M_CHECK_LABEL] = { "Addresses, ranges (up to /24), host names or mx:DOMAIN, separated by spaces",
			    "アドレス、範囲（/24まで）、ホスト名、または mx:ドメイン（スペース区切り）" },
	[M_CHECK_BUTTON] = { "Check", "チェック" },
	[M_CHECK_TARGET] = { "Checked", "対象" },
	[M_CHECK_ALLOWED] = { "allowlisted", "許可リスト掲載" },
	[M_CHECK_ERROR] = { "could not be checked", "チェックできませんでした" },
	[M_CHECK_DELIST] = { "How to get off", "解除方法" },
	[M_CHECK_CLEAN] = { "not listed on %s lists", "%s 件のリストに掲載なし" },
	[M_CHECK_NO_LIST] = { "no selected list takes this kind of target", "この種類の対象を扱うリストが選択されていません" },
	[M_CHECK_RANGE] = { "This range is too large: at most a /24.", "範囲が大きすぎます: /24 までです。" },
	[M_CHECK_TIME_UP] = { "not checked: the time for this check ran out", "未チェック: 制限時間を超えました" },
	[M_CHECK_LISTS_DOWN] = { "Lists that gave no verdicts", "判定できなかったリスト" },
	[M_CHECK_DONE] = { "Done: %s listed, %s could not be checked.", "完了: 掲載 %s 件、チェック不能 %s 件。" },
	[M_CHECK_NO_LISTS] = { "No lists are configured for checks (check_lists).", "チェック対象のリストが設定されていません (check_lists)。" },
	[M_CHECK_BUSY] = { "Too many checks are running. Please try again in a moment.", "実行中のチェックが多すぎます。しばらくしてから再度お試しください。" },
	[M_WATCH_TITLE] = { "Watch", "監視" },
	[M_WATCH_COUNTS] = { "Now: %s listings, %s in error.", "現在: 掲載 %s 件、エラー %s 件。" },
	[M_WATCH_LISTINGS] = { "Current listings", "現在の掲載" },
	[M_WATCH_ERRORS] = { "Lists in error (no verdicts)", "エラー状態のリスト（判定不能）" },
	[M_WATCH_TIMELINE] = { "Timeline of transitions", "状態変化のタイムライン" },
	[M_WATCH_LIST_ITSELF] = { "the list itself (RFC 5782 test point)", "リスト自体（RFC 5782 テストポイント）" },
};

const char *web_msg(enum web_lang lang, enum web_msg id)
{
	const char *s;

	if ((unsigned)id >= WEB_NMSG)
		return "";
	if ((unsigned)lang >= WEB_NLANG)
		lang = WEB_LANG_EN;
	s = cat[id][lang];
	return s ? s : cat[id][WEB_LANG_EN] ? cat[id][WEB_LANG_EN] : "";
}
