"""rblkit diagnose's reports for people: what to do next first, the whole
life of the message in the timeline (written, hops, the time in the queue,
the refusal, the report), English or Japanese (--lang, else the locale),
JSON always English; and the HTML page in a real headless Chromium at a
laptop's 1280 px: nothing runs off the page, the sections in order, and a
screenshot under $TMPDIR.  The browser test is skipped, saying why, when
chromium or chromedriver is missing."""

import json
import os
import re
import shutil
import subprocess
import tempfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
TREND = os.path.join(HERE, "diagnose_data", "trendmicro-deferred.eml")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


@pytest.fixture(autouse=True)
def _binary(rblkit_bin):
    global RBLKIT
    RBLKIT = rblkit_bin


def run(*args, env=None):
    e = dict(os.environ)
    for k in ("LC_ALL", "LC_MESSAGES", "LANG"):
        e.pop(k, None)
    e.update(env or {})
    p = subprocess.run([RBLKIT, "diagnose", *args], capture_output=True, timeout=60, env=e)
    assert p.returncode >= 0, p.stderr[-2000:]
    assert b"Sanitizer" not in p.stderr, p.stderr.decode(errors="replace")[-3000:]
    return p


def long_bounce(path):
    """A 5xx block whose diagnostic is long and has a 300-byte word (a
    URL): the table cell must wrap it, not run off the page."""
    url = "https://reputation.example/lookup?" + "q=" + "a1b2c3d4" * 36
    path.write_text(
        "From: MAILER-DAEMON@mx.example.org\nTo: a@example.org\n"
        "Date: Tue, 3 Mar 2026 21:31:07 +0100\n"
        "Subject: Undelivered Mail Returned to Sender\n"
        "Content-Type: multipart/report; report-type=delivery-status; boundary=b\n\n"
        "--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.org\n"
        "Arrival-Date: Tue, 3 Mar 2026 09:30:02 +0100\n\n"
        "Final-Recipient: rfc822; bob@example.net\nAction: failed\nStatus: 5.7.1\n"
        "Remote-MTA: dns; mx.example.net\n"
        "Last-Attempt-Date: Tue, 3 Mar 2026 21:31:00 +0100\n"
        "Diagnostic-Code: smtp; 554 5.7.1 Service unavailable; Client host [192.0.2.45] "
        "blocked using bl.spamcop.net; " + "see the explanation of the listing " * 12 +
        url + "\n--b\nContent-Type: text/rfc822-headers\n\n"
        "Received: from out.sender.example (out.sender.example [192.0.2.45])\n"
        "\tby relay.example.org with ESMTPS id 1; Tue, 3 Mar 2026 09:30:01 +0100\n"
        "Date: Tue, 3 Mar 2026 09:29:58 +0100\n"
        "From: a@example.org\nTo: bob@example.net\nSubject: hi\n--b--\n")
    return path


def sections(html):
    """The order of the parts of the first report, by their markers."""
    body = html[html.index("<section>"):]
    marks = {"summary": '<p class="sum">', "next": '<div class="next">',
             "timeline": '<ol class="life">', "recipients": "<th>recipient</th>",
             "path": "<h3>path: "}
    return sorted((body.index(m), k) for k, m in marks.items() if m in body)


def test_next_steps_come_first_and_the_timeline_is_the_whole_life():
    """The deferral that waited 12 hours: the timeline had only its
    4-second path to our server; now written, both hops, the arrival, 12 h
    01 min in the queue, the refusal and the report, in that order, and
    what to do next (the list, stop the source, its removal link, how long
    it has been retried) comes before the timeline and the tables."""
    html = run("--html", TREND).stdout.decode()
    order = [k for _, k in sections(html)]
    assert order == ["summary", "next", "timeline", "recipients", "path"], order
    life = html[html.index('<ol class="life">'):html.index("</ol>", html.index('<ol class="life">'))]
    steps = re.findall(r"<li[^>]*>(.*?)</li>", life)
    want = ["written (Date:)", "hop 1: mail.example.net", "hop 2: relay.example.net",
            "arrived at the reporting server", "in the queue for 12 h 01 min",
            "deferred by in.hes.trendmicro.com (450 4.7.1)", "report sent (Date:)"]
    assert len(steps) == len(want), steps
    for got, w in zip(steps, want):
        assert w in got, (w, got)
    assert "2026-03-03T08:29:58Z" in steps[0]           # the original's Date:, UTC
    assert "(+12 h 01 min)" in steps[-1]                # from arrival to the report
    nxt = html[html.index('<div class="next">'):html.index("</div>")]
    assert "your server 198.51.100.77 is listed on Trend Micro" in nxt
    assert "first stop what sends the unwanted mail" in nxt
    assert 'request removal at <a href="https://servicecentral.trendmicro.com/en-US/ers/"' in nxt
    assert "mail has been retried for 12 h 01 min" in nxt
    assert "@media print" in html and "overflow-wrap:anywhere" in html


def test_text_report_says_what_to_do_next():
    t = run(TREND).stdout.decode().splitlines()
    assert t[0].startswith("Deferred by in.hes.trendmicro.com for 12 h 01 min: ")
    assert t[1] == ("  next: your server 198.51.100.77 is listed on Trend Micro Email "
                    "Reputation Services (ERS); first stop what sends the unwanted mail (a "
                    "hijacked account, a web form, an open relay); then request removal at "
                    "https://servicecentral.trendmicro.com/en-US/ers/; mail has been "
                    "retried for 12 h 01 min."), t[1]
    assert t[2].startswith("  file: ")


JA_SUMMARY = ("配信遅延（in.hes.trendmicro.com）・12時間01分経過：送信元のIPアドレスかドメインが "
              "Trend Micro Email Reputation Services (ERS) に登録されています")
JA_NEXT = ("お使いのサーバー 198.51.100.77 が Trend Micro Email Reputation Services (ERS) "
           "に登録されています")


@pytest.mark.parametrize("how", [["--lang", "ja"], {"LANG": "ja_JP.UTF-8"},
                                 {"LC_ALL": "ja_JP.eucJP", "LANG": "en_US.UTF-8"},
                                 {"LC_MESSAGES": "ja_JP.UTF-8"}])
def test_japanese_from_the_option_or_the_locale(how):
    """--lang ja, or a locale starting with "ja" (LC_ALL, else LC_MESSAGES,
    else LANG): the summary, what to do next and the labels in Japanese."""
    args, env = (how, None) if isinstance(how, list) else ([], how)
    t = run(*args, TREND, env=env).stdout.decode()
    assert t.startswith(JA_SUMMARY), t[:300]
    assert "削除依頼: https://servicecentral.trendmicro.com/en-US/ers/" in t
    assert JA_NEXT in t and "メールは 12時間01分 再送が続いています" in t
    assert "  宛先: bob@customer.example" in t and "  経路（2 ホップ、合計 4秒）:" in t
    q = run("-q", *args, TREND, env=env).stdout.decode()
    assert q.endswith(": " + t.splitlines()[0] + "\n")
    h = run("--html", *args, TREND, env=env).stdout.decode()
    assert '<html lang="ja">' in h and "<h3>次にすること</h3>" in h and JA_NEXT in h
    assert "キューで 12時間01分 待機" in h and "<th>診断メッセージ</th>" in h


def test_english_wins_over_the_locale_and_json_stays_english():
    en = run(TREND).stdout
    assert run("--lang", "en", TREND, env={"LANG": "ja_JP.UTF-8"}).stdout == en
    js = run("--json", TREND).stdout
    assert run("--json", TREND, env={"LANG": "ja_JP.UTF-8"}).stdout == js
    assert run("--json", "--lang", "ja", TREND).stdout == js
    assert json.loads(js)[0]["summary"].startswith("Deferred by ")


def test_lang_usage():
    for bad in ("fr", "", "japanese"):
        p = run("--lang", bad, TREND)
        assert p.returncode == 2 and b"--lang" in p.stderr, p.stderr


def test_japanese_with_threads_is_byte_identical(tmp_path):
    files = sorted(os.path.join(HERE, "..", "corpus", "sisimai", "eml", f)
                   for f in os.listdir(os.path.join(HERE, "..", "corpus", "sisimai", "eml")))[:60]
    for fmt in ([], ["--html"]):
        one = run(*fmt, "--lang", "ja", "-j", "1", *files)
        many = run(*fmt, "--lang", "ja", "-j", "3", *files)
        assert one.stdout == many.stdout and one.returncode == many.returncode


@pytest.fixture
def browser():
    if not CHROMIUM or not DRIVER:
        pytest.skip("chromium / chromedriver not installed (apt-get install chromium "
                    "chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--no-first-run", "--disable-extensions", "--lang=en-US",
              "--window-size=1280,900", "--hide-scrollbars"):
        opts.add_argument(a)
    profile = tempfile.mkdtemp(prefix="rblkit-chromium-")
    opts.add_argument(f"--user-data-dir={profile}")
    drv = webdriver.Chrome(service=Service(DRIVER), options=opts)
    drv.set_page_load_timeout(30)
    try:
        yield drv
    finally:
        drv.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "ja"])
def test_html_fits_a_laptop_screen_in_chromium(tmp_path, browser, lang):
    """The page at 1280 px in headless Chromium: no horizontal overflow
    (the diagnostic column ran off the page), for the screen and for
    print, and the parts of each report top to bottom in order: summary,
    what to do next, timeline, recipients, path.  The screenshot is kept
    under $TMPDIR."""
    page = tmp_path / "report.html"
    page.write_bytes(run("--html", "--lang", lang, TREND,
                         str(long_bounce(tmp_path / "long.eml"))).stdout)
    browser.set_window_size(1280, 900)
    browser.get("file://" + str(page))
    width = browser.execute_script("return window.innerWidth")
    assert width <= 1280
    for media in ("screen", "print"):
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": media})
        sw = browser.execute_script("return document.documentElement.scrollWidth")
        assert sw <= width, "%s: page %d px wide in a %d px window" % (media, sw, width)
        wide = browser.execute_script(
            "return [...document.querySelectorAll('section *')]"
            ".filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)"
            ".map(e => e.tagName + ' ' + e.textContent.slice(0, 40))")
        assert not wide, (media, wide[:5])
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "screen"})
    ys = browser.execute_script(
        "return [...document.querySelectorAll('section')].map(s => ["
        "s.querySelector('p.sum').getBoundingClientRect().top,"
        "s.querySelector('div.next').getBoundingClientRect().top,"
        "s.querySelector('ol.life').getBoundingClientRect().top,"
        "s.querySelector('table').getBoundingClientRect().top,"
        "[...s.querySelectorAll('h3')].pop().getBoundingClientRect().top])")
    assert len(ys) == 2
    for y in ys:
        assert y == sorted(y), y
    shot = os.path.join(os.environ.get("TMPDIR", tempfile.gettempdir()),
                        "rblkit-diagnose-report-%s.png" % lang)
    browser.set_window_size(1280, max(900, browser.execute_script(
        "return document.documentElement.scrollHeight")))
    assert browser.save_screenshot(shot) and os.path.getsize(shot) > 10000


def test_timeline_counts_the_attempts_the_report_gives():
    """IMail says how often it tried ("failed 3 attempts"): the timeline
    gives that count between the queue and the refusal, in English and in
    Japanese; a report that gives none has no such line."""
    imail = os.path.join(os.path.dirname(__file__), "..", "corpus", "written", "eml",
                         "imail-attempts.eml")
    for lang, want in (("en", "3 delivery attempts (as the report says)"),
                       ("ja", "配信試行 3 回（報告による）")):
        html = run("--html", "--lang", lang, imail).stdout.decode()
        life = html[html.index('<ol class="life">'):html.index("</ol>", html.index('<ol class="life">'))]
        steps = re.findall(r"<li[^>]*>(.*?)</li>", life)
        hits = [i for i, s in enumerate(steps) if want in s]
        assert len(hits) == 1, steps
        assert any(("refused" in s or "拒否" in s) for s in steps[hits[0] + 1:]), steps
    html = run("--html", TREND).stdout.decode()
    assert "delivery attempts" not in html


def test_a_delay_warning_in_prose_reads_as_a_delay():
    """A warning without codes ("has not yet been delivered ... This is just
    a warning ... We will continue to attempt delivery") is a delay: its
    summary says deferred and still retrying, soft, action delayed — not a
    refusal "given up after retrying too long"."""
    warn = os.path.join(HERE, "..", "corpus", "written", "eml", "prose-warning-continue.eml")
    out = run(warn).stdout.decode()
    first = out.splitlines()[0]
    assert first.startswith("Deferred:") and "still retrying" in first, first
    assert "given up" not in out and "(soft), action delayed" in out, out
    ja = run("--lang", "ja", warn).stdout.decode().splitlines()[0]
    assert ja.startswith("配信遅延") and "再送を続けています" in ja, ja
    rec = json.loads(run("--json", warn).stdout)[0]["recipients"][0]
    assert rec["action"] == "delayed" and rec["hard"] is False, rec
