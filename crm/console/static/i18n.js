// Labels in English and Japanese, and dates in JST. Every word the console shows is here,
// including the names of statuses, channels, roles and timeline kinds.

const JA = {
  app: "窓口", tickets: "相談一覧", search: "ナレッジ検索", wallboard: "ウォールボード", presence: "状態",
  available: "受付可", busy: "対応中", after_call_work: "後処理", break: "休憩", offline: "オフライン",
  logout: "ログアウト", login: "ログイン", username: "ユーザー名", password: "パスワード",
  offers: "あなたへの割当て", accept: "受ける", decline: "断る", expires_in: "残り", reason: "理由",
  status: "状態", channel: "チャネル", subject: "件名", flags: "フラグ", updated: "更新日時", waiting: "待ち時間",
  filter_all: "すべて", filter_open: "未完了", filter_mine: "自分の担当", filter_unassigned: "未割当て",
  filter_serious: "重大事故等のみ", sort_newest: "新しい順", sort_oldest: "古い順", sort_waiting: "待ち時間が長い順",
  sort_updated: "更新が新しい順", sort: "並び順", scope: "範囲", center: "センター", search_tickets: "件名・概要を検索",
  prev: "← 前へ", next: "次へ →", page_of: "{from}–{to} / {total}件", no_tickets: "該当する相談はありません",
  unread: "未読", refresh: "更新", back: "← 一覧へ戻る", send_reply: "返信を送信", add_note: "内部メモを追加",
  reply_placeholder: "相談者への返信 (Ctrl+Enter で送信)", canned: "定型文", insert: "挿入",
  empty_reply: "返信が空です。相談者に送る文章を入力してください。", empty_note: "メモが空です。内容を入力してください。",
  case_fields: "相談記録 (PIO-NET)", product_category: "商品・役務", sales_method: "販売購入形態",
  content_keywords: "内容キーワード", contract_amount: "契約購入金額 (円)", paid_amount: "既支払額 (円)",
  outcome: "処理結果", summary: "相談概要", save: "保存", saved: "保存しました", resolve: "完了にする",
  suggestions: "提案", similar: "類似の過去事例", references: "参考資料 (FAQ・助言例・法令)", apply: "適用",
  applied: "適用しました", open_case: "開く", confidence: "確度", no_results: "該当なし", special: "要配慮",
  serious: "重大事故等の疑い: 直ちに消費者庁への通知を検討してください",
  accident_review: "重大事故等 要確認 (重大事故等に当たるか確認してください)",
  cooling_off: "クーリング・オフ", document_received: "書面を受け取った日", check: "確認",
  last_day: "最終日", days_left: "残り{n}日", expired: "期間経過", not_received: "書面未受領: 期間は始まっていません",
  accident_report: "消費者庁への通知 (第12条)", occurred_at: "発生日時", occurred_place: "発生場所",
  learned_method: "情報を得た方法", circumstances: "事故の態様", product: "商品等の特定", damage: "被害の状況",
  method: "通知方法", mark_notified: "通知済みにする", prepare_notification: "重大事故等の通知を作成",
  assign_me: "自分が担当する", transfer: "転送", escalate: "SVにエスカレーション", to_counselor: "相談員へ",
  to_center: "センターへ", to_supervisor: "SVへ", transfer_reason: "転送の理由 (タイムラインに表示)",
  status_menu: "状態を変更", contact: "相談者", identities: "連絡先", past_consultations: "過去の相談",
  consent: "情報共有への同意", consent_yes: "同意あり", consent_no: "同意なし", attachments: "添付ファイル",
  shortcuts: "ショートカット: j k 行の移動 / Enter 開く / g l 一覧 / g w ウォールボード / r 返信欄 / a 自分が担当 / Esc 一覧へ / / 検索 / ? ヘルプ",
  queues: "キュー", counselors: "相談員", longest_wait: "最長待ち", sl_today: "本日のサービスレベル",
  target: "目標", abandoned: "放棄", aht: "平均処理時間", aht_p90: "処理時間 p90", offered_count: "着信",
  answered: "応答", arrivals_by_hour: "時間帯別の着信と必要人数", need: "必要人数", arrivals: "着信",
  state: "状態", time_in_state: "経過", load: "対応数", handled_today: "本日完了", change_state: "状態変更",
  reassign: "再割当て", alerts: "要対応 (重大事故等・応援要請)", all_centers: "全センター", name: "氏名",
  live_events: "リアルタイムイベント", new_offer: "新しい割当て", new_message: "新しいメッセージ",
  enable_notifications: "デスクトップ通知を有効にする", notify_sound: "通知音",
  tpl_name: "題名", tpl_body: "本文", add_template: "定型文を追加", delete: "削除",
  tpl_variables: "使える変数: {consumer_name} 相談者名 / {counselor_name} 担当者名 / {center_name} センター名 / {ticket_id} 受付番号 / {today} 今日の日付",
  open: "開く", inbound: "相談者", outbound: "返信", note: "内部メモ", system: "システム", auto: "自動応答",
  transfer_note: "転送", escalation: "エスカレーション", accident_check: "重大事故等 要確認",
  check_title: "重大事故等の要確認 (相談員の判断が必要です)", check_serious: "重大事故等に該当", check_not_serious: "該当しない", check_note: "該当しない理由 (例: 全治1週間、火災なし)", text: "", sent: "送信済み", queued_msg: "送信待ち",
  failed: "送信失敗", received: "受信", delivered: "配信済み", read: "既読", reconnecting: "再接続中…",
  trends: "傾向", trends_title: "相談の傾向 (決裁済みの相談記録)", dimension: "集計の軸",
  trends_denied: "傾向の画面はSV (監督者)・管理者のみ利用できます。必要な場合はSVに依頼してください。",
  dim_category: "商品・役務", dim_sales_method: "販売購入形態", dim_keyword: "内容キーワード", dim_channel: "チャネル",
  dim_age_band: "年代", dim_business: "事業者", date_from: "開始日", date_to: "終了日", show: "表示", loading: "読み込み中…",
  no_trend_data: "この期間に決裁済みの相談記録はありません", spikes: "急増 (スパイク)", downloads: "ダウンロード",
  dl_digest_html: "週次ダイジェスト (HTML)", dl_digest_csv: "週次ダイジェスト (CSV)",
  dl_anon_csv: "匿名化データ (CSV・Excel用BOM付き)", dl_anon_parquet: "匿名化データ (Parquet)", dl_anon_columns: "項目定義 (CSV)",
  suppressed: "秘匿", suppressed_help: "1～2件のため非表示 (線は途切れます。0件ではありません)",
  spike: "急増", spike_help: "急増: 過去8週と比べて統計的に多い週", more_values: "ほか{n}項目",
  trends_chart: "週別件数", trends_chart_desc: "週ごとの件数の折れ線。途切れは秘匿、赤丸は急増。",
  trends_table: "週別件数の表", total: "合計", all_values: "全体", no_spikes: "この期間に急増は検出されていません",
  week_of: "週", spike_count: "{n}件 (通常は週{usual}件)", masked_examples: "事例 (個人情報はマスク済み)",
  digest_week: "ダイジェストの対象週: {week} から (終了日を含む週)", trends_counted: "集計対象: 決裁済みの相談記録のみ ({k}件未満のセルは秘匿)",
  range_inverted: "開始日が終了日より後です。日付を入れ替えてください。",
  accident_elapsed: "情報を得てからの経過", accident_notify_by: "通知期限", accident_overdue: "期限超過: 直ちに通知してください",
  accident_on_time: "期限内", accident_escalated: "SVにエスカレーション済み", notification_pdf: "通知書 (PDF)", notification_csv: "通知書 (CSV)",
};

const EN = {
  app: "Madoguchi", tickets: "Consultations", search: "Knowledge", wallboard: "Wallboard", presence: "Presence",
  available: "Available", busy: "Busy", after_call_work: "After-call work", break: "Break", offline: "Offline",
  logout: "Log out", login: "Log in", username: "Username", password: "Password",
  offers: "Offers for you", accept: "Accept", decline: "Decline", expires_in: "expires in", reason: "reason",
  status: "Status", channel: "Channel", subject: "Subject", flags: "Flags", updated: "Updated", waiting: "Waiting",
  filter_all: "All", filter_open: "Open", filter_mine: "Mine", filter_unassigned: "Unassigned",
  filter_serious: "Serious (重大事故等) only", sort_newest: "Newest first", sort_oldest: "Oldest first",
  sort_waiting: "Waiting longest", sort_updated: "Recently updated", sort: "Sort", scope: "Show", center: "Center",
  search_tickets: "Search subject and summary", prev: "← Previous", next: "Next →",
  page_of: "{from}–{to} of {total}", no_tickets: "No consultations match", unread: "unread", refresh: "Refresh",
  back: "← Back to the list", send_reply: "Send reply", add_note: "Add internal note",
  reply_placeholder: "Reply to the consumer (Ctrl+Enter sends)", canned: "Canned responses", insert: "Insert",
  empty_reply: "The reply is empty: write the text to send to the consumer.",
  empty_note: "The note is empty: write what you want to keep.",
  case_fields: "Case record (PIO-NET)", product_category: "Product/service (商品・役務)",
  sales_method: "Sales method (販売購入形態)", content_keywords: "Keywords (内容キーワード)",
  contract_amount: "Contract amount (契約購入金額, 円)", paid_amount: "Paid (既支払額, 円)",
  outcome: "Outcome (処理結果)", summary: "Summary (相談概要)", save: "Save", saved: "Saved", resolve: "Resolve",
  suggestions: "Suggestions", similar: "Similar past cases", references: "References (FAQ, advice, law)",
  apply: "Apply", applied: "Applied", open_case: "Open", confidence: "confidence", no_results: "No results",
  special: "special care (要配慮)",
  serious: "Suspected serious accident (重大事故等): consider notifying the Consumer Affairs Agency now",
  accident_review: "重大事故等 要確認 (possibly serious: confirm whether it is a 重大事故等)",
  cooling_off: "Cooling-off (クーリング・オフ)", document_received: "Date the 書面 was received", check: "Check",
  last_day: "last day", days_left: "{n} days left", expired: "period over",
  not_received: "書面 not received: the period has not started",
  accident_report: "Notification to the Consumer Affairs Agency (第12条)", occurred_at: "Date and time it happened (発生日時)",
  occurred_place: "Place (発生場所)", learned_method: "How we learned of it (情報を得た方法)",
  circumstances: "What happened (事故の態様)", product: "Product or service (商品等の特定)", damage: "Damage (被害の状況)",
  method: "Sent by", mark_notified: "Mark as notified", prepare_notification: "Prepare 重大事故等 notification",
  assign_me: "Assign to me", transfer: "Transfer", escalate: "Escalate to a supervisor", to_counselor: "To a counselor",
  to_center: "To a center", to_supervisor: "To a supervisor", transfer_reason: "Reason (shown on the timeline)",
  status_menu: "Change status", contact: "Consumer", identities: "Reached through", past_consultations: "Past consultations",
  consent: "Consent to share", consent_yes: "given", consent_no: "not given", attachments: "Attachments",
  shortcuts: "Shortcuts: j k move / Enter open / g l list / g w wallboard / r reply box / a assign to me / Esc back to the list / / search / ? help",
  queues: "Queues", counselors: "Counselors", longest_wait: "Longest wait", sl_today: "Service level today",
  target: "target", abandoned: "Abandoned", aht: "Avg handle time", aht_p90: "Handle time p90",
  offered_count: "Offered", answered: "Answered", arrivals_by_hour: "Arrivals by hour vs counselors needed",
  need: "needed", arrivals: "arrivals", state: "State", time_in_state: "In state", load: "Load",
  handled_today: "Handled today", change_state: "Change state", reassign: "Reassign",
  alerts: "Needs attention (重大事故等, help requests)", all_centers: "All centers", name: "Name",
  live_events: "Live events", new_offer: "New offer", new_message: "New message",
  enable_notifications: "Enable desktop notifications", notify_sound: "Sound",
  tpl_name: "Title", tpl_body: "Text", add_template: "Add canned response", delete: "Delete",
  tpl_variables: "Variables: {consumer_name} {counselor_name} {center_name} {ticket_id} {today} (filled per ticket)",
  open: "Open", inbound: "Consumer", outbound: "Reply", note: "Internal note", system: "System", auto: "Automatic answer",
  transfer_note: "Transfer", escalation: "Escalation", accident_check: "Possible 重大事故等 (要確認)",
  check_title: "Possible 重大事故等 (要確認): a counselor must judge it", check_serious: "It is a 重大事故等", check_not_serious: "Not serious", check_note: "Why it is not serious (e.g. 全治1週間, no fire)", text: "", sent: "sent", queued_msg: "queued", failed: "failed",
  received: "received", delivered: "delivered", read: "read", reconnecting: "Reconnecting…",
  trends: "Trends", trends_title: "Consultation trends (approved records)", dimension: "Count by",
  trends_denied: "Trends (傾向) are for supervisors and administrators only. Ask your supervisor if you need these figures.",
  dim_category: "Product/service (商品・役務)", dim_sales_method: "Sales method (販売購入形態)",
  dim_keyword: "Keyword (内容キーワード)", dim_channel: "Channel", dim_age_band: "Age band (年代)", dim_business: "Business (事業者)",
  date_from: "From", date_to: "To", show: "Show", loading: "Loading…",
  no_trend_data: "No approved records in this range", spikes: "Spikes", downloads: "Downloads",
  dl_digest_html: "Weekly digest (HTML)", dl_digest_csv: "Weekly digest (CSV)",
  dl_anon_csv: "Anonymized records (CSV with BOM, for Excel)", dl_anon_parquet: "Anonymized records (Parquet)",
  dl_anon_columns: "Column dictionary (CSV)",
  suppressed: "秘匿", suppressed_help: "hidden: 1–2 cases (the line has a gap; it is not 0)",
  spike: "spike", spike_help: "spike: a week far above its 8 weeks before", more_values: "{n} more values",
  trends_chart: "Cases per week", trends_chart_desc: "Weekly counts as lines. A gap is 秘匿 (hidden), a red ring is a spike.",
  trends_table: "Cases per week (table)", total: "Total", all_values: "All", no_spikes: "No spike found in this range",
  week_of: "week of", spike_count: "{n} cases (usually {usual}/week)", masked_examples: "Examples (personal data masked)",
  digest_week: "Digest of the week starting {week} (the week holding the To date)",
  trends_counted: "Counted: approved (決裁済み) records only; cells under {k} cases are hidden",
  range_inverted: "From is after To: swap the two dates.",
  accident_elapsed: "Since 情報を得た日時", accident_notify_by: "Notify by", accident_overdue: "Overdue: notify now",
  accident_on_time: "within the deadline", accident_escalated: "escalated to supervisors", notification_pdf: "Notification (PDF)",
  notification_csv: "Notification (CSV)",
};

const STATUS = {
  ja: { new: "新規", queued: "待機中", offered: "割当て提案中", assigned: "対応中", waiting_on_consumer: "相談者の返信待ち", resolved: "完了", closed: "終了" },
  en: { new: "New", queued: "Queued", offered: "Offered", assigned: "Assigned", waiting_on_consumer: "Waiting on consumer", resolved: "Resolved", closed: "Closed" },
};
const CHANNEL = {
  ja: { line: "LINE", email: "メール", voice: "電話", web: "Web" },
  en: { line: "LINE", email: "Email", voice: "Phone", web: "Web" },
};
const ROLE = {
  ja: { counselor: "相談員", supervisor: "SV (監督者)", admin: "管理者" },
  en: { counselor: "Counselor", supervisor: "Supervisor", admin: "Administrator" },
};
const TIMELINE = { note: "note", system: "system", transfer: "transfer_note", escalation: "escalation", auto: "auto" };
const MESSAGE_STATUS = { queued: "queued_msg" };

let lang = localStorage.getItem("madoguchi.lang") === "ja" ? "ja" : "en";

export const getLang = () => lang;
export function setLang(value) {
  lang = value === "ja" ? "ja" : "en";
  localStorage.setItem("madoguchi.lang", lang);
  document.documentElement.lang = lang;
}

export function t(key, vars) {
  let text = (lang === "ja" ? JA : EN)[key];
  if (text === undefined) text = EN[key] ?? key;
  if (vars) for (const [k, v] of Object.entries(vars)) text = text.replaceAll(`{${k}}`, String(v));
  return text;
}

export const statusLabel = (s) => STATUS[lang][s] || s;
export const channelLabel = (c) => CHANNEL[lang][c] || c;
export const roleLabel = (r) => ROLE[lang][r] || r;
export const presenceLabel = (p) => t(p);
export const noteKindLabel = (k) => t(TIMELINE[k] || "note");
export const messageStatusLabel = (s) => t(MESSAGE_STATUS[s] || s);

export function parseTime(iso) {
  if (!iso) return null;
  const s = String(iso);
  return new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(s) ? s : `${s}Z`); // the API's naive times are UTC
}

const locale = () => (lang === "ja" ? "ja-JP" : "en-GB");

export function fmtTime(iso) {
  const d = parseTime(iso);
  return d ? d.toLocaleString(locale(), { timeZone: "Asia/Tokyo", dateStyle: "medium", timeStyle: "short" }) : "";
}

// A whole number of seconds as 0:42, 12:05 or 3:04:05 (never unrounded seconds).
export function fmtDuration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(Number(seconds))) return "–";
  const s = Math.max(0, Math.round(Number(seconds)));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const pad = (n) => String(n).padStart(2, "0");
  return h ? `${h}:${pad(m)}:${pad(r)}` : `${m}:${pad(r)}`;
}

export const fmtPercent = (x) => (x === null || x === undefined ? "–" : `${Math.round(Number(x) * 100)}%`);

// Today's date in JST as YYYY-MM-DD (for the 書面 date field's default and maximum).
export function todayJst() {
  return new Date().toLocaleDateString("sv-SE", { timeZone: "Asia/Tokyo" });
}

export function applyLanguage(root = document) {
  document.documentElement.lang = lang;
  root.querySelectorAll("[data-i18n]").forEach((node) => { node.textContent = t(node.dataset.i18n); });
  root.querySelectorAll("[data-i18n-placeholder]").forEach((node) => { node.placeholder = t(node.dataset.i18nPlaceholder); });
  root.querySelectorAll("[data-i18n-label]").forEach((node) => { node.setAttribute("aria-label", t(node.dataset.i18nLabel)); });
  root.querySelectorAll("option[data-status]").forEach((node) => { node.textContent = statusLabel(node.dataset.status); });
  root.querySelectorAll("option[data-channel]").forEach((node) => { node.textContent = channelLabel(node.dataset.channel); });
}
