"""rblkit web in a real browser: headless Chromium driven by Selenium
against the real portal, `rblkit serve` and a SQLite store. Look an
address up and see the evidence; request removal and see DNS answer
NXDOMAIN; exceed the self-removal limit and land in review; log in to the
console and approve the request.

Skipped, saying why, only when chromium or chromedriver is missing."""

import os
import shutil
import subprocess
import sys
import tempfile
import time

import dns.message
import dns.query
import dns.rcode
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_web import LISTED, ZONE, dns_for  # noqa: E402
from test_web_helpers import Web, rl  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")

pytestmark = pytest.mark.skipif(not CHROMIUM or not DRIVER,
                                reason="chromium / chromedriver not installed "
                                       "(apt-get install chromium chromium-driver)")


@pytest.fixture(autouse=True)
def _binary(rblkit_bin):
    return rblkit_bin


@pytest.fixture
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--no-first-run", "--disable-extensions", "--lang=en-US"):
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


@pytest.fixture
def site(tmp_path):
    dsn = f"sqlite:{tmp_path}/list.db"
    rules = tmp_path / "list.conf"
    rules.write_text(f"store = {dsn}\nself_remove_max = 1\n")
    assert rl(dsn, "add", ZONE, LISTED, "--reason", "spam <i>run</i>").returncode == 0
    ev = tmp_path / "ev.txt"
    ev.write_text("To: spamtrap@trap.example\nSubject: cheap pills\n\nbody\n")
    assert rl(dsn, "hit", ZONE, LISTED, "--trap", "spamtrap@trap.example",
              "--evidence", ev).returncode == 0
    srv, live = dns_for(tmp_path, dsn, [f"{LISTED} :127.0.0.2:listed"])
    web = Web(tmp_path, dsn, f"127.0.0.1:{srv.port}", rules=str(rules)).start()
    try:
        yield web, srv, dsn, live
    finally:
        web.stop()
        srv.stop()


def nx(srv, key=LISTED):
    q = dns.message.make_query(".".join(reversed(key.split("."))) + "." + ZONE, "A")
    return dns.query.udp(q, "127.0.0.1", port=srv.port, timeout=2).rcode() == dns.rcode.NXDOMAIN


def act(b, el, how="click"):
    """Click (or submit) el and wait until the next page has replaced this
    one: a form submitted by script does not wait for the navigation."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def replaced(_):
        try:
            old.is_enabled()
            return False
        except StaleElementReferenceException:
            return True
        except WebDriverException:
            # chromedriver asked in the middle of the navigation answers
            # "unhandled inspector error" (seen under load): ask again;
            # a page that never changes still ends in a timeout
            return False

    old = b.find_element(By.TAG_NAME, "html")
    el.click() if how == "click" else el.submit()
    WebDriverWait(b, 20).until(replaced)


def lookup(b, web, q):
    from selenium.webdriver.common.by import By

    b.get(web.url("/"))
    box = b.find_element(By.ID, "q")
    box.clear()
    box.send_keys(q)
    act(b, box, "submit")
    return b.find_element(By.CSS_SELECTOR, "section.zone").text


def test_lookup_remove_review_approve(browser, site):
    from selenium.webdriver.common.by import By

    web, srv, dsn, live = site
    b = browser
    text = lookup(b, web, LISTED)
    assert "LISTED" in text and "127.0.0.2 — spam source" in text
    assert "spam <i>run</i>" in text                 # shown as text, not markup
    assert "Subject: cheap pills" in text and "s***@trap.example" in text
    assert "spamtrap@" not in b.page_source
    if not live:
        pytest.skip("this rblkit serve has no store zones: DNS cannot follow a removal")
    # removal within the limit: the page answers once DNS says NXDOMAIN
    b.find_element(By.NAME, "reason").send_keys("closed the open relay")
    act(b, b.find_element(By.NAME, "remove"))
    assert "now answers: not listed" in b.find_element(By.CSS_SELECTOR, "p.removed").text
    assert nx(srv)
    # listed again, removal asked again: past self_remove_max -> review
    assert rl(dsn, "add", ZONE, LISTED).returncode == 0
    text = lookup(b, web, LISTED)
    for _ in range(50):                  # serve picks the change up within a second
        if "LISTED" in text:
            break
        text = lookup(b, web, LISTED)
    assert "LISTED" in text
    act(b, b.find_element(By.NAME, "remove"))
    assert "needs a review" in b.find_element(By.CSS_SELECTOR, "p.review").text
    assert not nx(srv)
    # the operator approves it in the console
    r = web.cli("--add-user", "op", "--role", "operator", stdin="correct horse battery\n")
    assert r.returncode == 0
    b.get(web.url("/admin"))
    b.find_element(By.ID, "user").send_keys("op")
    b.find_element(By.ID, "password").send_keys("correct horse battery")
    act(b, b.find_element(By.ID, "login"))
    row = b.find_element(By.CSS_SELECTOR, "#queue tr.request")
    assert LISTED in row.text
    act(b, row.find_element(By.CSS_SELECTOR, "button[value=approve]"))
    assert "approved request" in b.find_element(By.ID, "notice").text
    for _ in range(50):
        if nx(srv):
            break
        time.sleep(0.05)
    assert nx(srv)


# -- mail verification through a real Postfix --------------------------------

# The confirmation goes through Postfix's own sendmail (postdrop -> pickup)
# of a private instance (postfix_helper.py) whose virtual(8) agent delivers
# postmaster@ and abuse@ of the PTR domain into a Maildir in its directory.
MAIL_CF = """
virtual_mailbox_domains = localhost
virtual_mailbox_base = {dir}/mail
virtual_mailbox_maps = inline:{{ postmaster@localhost=box/ abuse@localhost=box/ }}
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
virtual_minimum_uid = 100
virtual_transport = virtual
queue_run_delay = 1s
"""


def mail_postfix():
    import postfix_helper

    class MailboxPostfix(postfix_helper.Postfix):
        """postfix_helper's instance with the virtual delivery agent."""

        def start(self, timeout=20.0):
            saved = postfix_helper.MASTER_CF
            postfix_helper.MASTER_CF = saved + "virtual   unix  -       n       n       -       -       virtual\n"
            try:
                return super().start(timeout)
            finally:
                postfix_helper.MASTER_CF = saved

    # smtpd's policy check is never asked: the mail comes in by pickup
    return MailboxPostfix(policy="inet:127.0.0.1:9")


def wait_mail(box, pf, timeout=30.0):
    new = os.path.join(box, "new")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.isdir(new):
            files = sorted(os.listdir(new))
            if files:
                with open(os.path.join(new, files[0]), errors="replace") as f:
                    return f.read()
        time.sleep(0.1)
    raise AssertionError("no mail in the mailbox:\n" + pf.maillog())


@pytest.mark.slow
def test_mail_confirmation_through_postfix(browser, tmp_path):
    """Removal by mail: Postfix delivers the link to postmaster@ of the
    PTR domain, the browser follows it and confirms, DNS says NXDOMAIN."""
    import re

    import postfix_helper
    from selenium.webdriver.common.by import By

    if os.geteuid() != 0 or not os.access(postfix_helper.POSTFIX, os.X_OK):
        pytest.skip("needs root and Debian's postfix")
    key = "127.0.0.1"                       # PTR localhost (/etc/hosts)
    dsn = f"sqlite:{tmp_path}/list.db"
    assert rl(dsn, "add", ZONE, key, "--reason", "trap hits").returncode == 0
    maildir = tempfile.mkdtemp(prefix="rblkit-mail-", dir="/tmp")
    os.chmod(maildir, 0o755)
    os.chown(maildir, 65534, 65534)
    pf = mail_postfix()
    pf.extra = MAIL_CF.format(dir=maildir)
    srv = web = None
    try:
        pf.start()
        srv, live = dns_for(tmp_path, dsn, [f"{key} :127.0.0.2:listed"])
        if not live:
            pytest.skip("this rblkit serve has no store zones: DNS cannot follow a removal")
        sendmail = f"/usr/sbin/sendmail -C {pf.dir}/conf"
        web = Web(tmp_path, dsn, f"127.0.0.1:{srv.port}",
                  extra=f"verify = {ZONE}=mail\nsendmail = {sendmail}\n"
                        "mail_from = lookup@bl.test\n")
        with open(web.conf, "a") as f:
            f.write(f"base_url = http://127.0.0.1:{web.port}\n")
        web.start()
        b = browser
        lookup(b, web, key)
        b.find_element(By.NAME, "reason").send_keys("fixed the hacked form")
        act(b, b.find_element(By.NAME, "remove"))
        assert "postmaster and abuse addresses of localhost" in \
            b.find_element(By.CSS_SELECTOR, "p.confirm").text
        assert not nx(srv, key)
        mail = wait_mail(os.path.join(maildir, "mail", "box"), pf)
        assert "Subject: Removal of 127.0.0.1 from bl.test" in mail
        assert re.search(r"^Delivered-To: (postmaster|abuse)@localhost$", mail, re.M), mail
        link = re.search(r"http://127\.0\.0\.1:\d+/confirm\?t=[0-9a-f]{64}", mail).group(0)
        b.get(link)
        assert not nx(srv, key)             # opening the link changes nothing
        act(b, b.find_element(By.ID, "confirm"))
        assert "now answers: not listed" in b.find_element(By.CSS_SELECTOR, "p.result").text
        assert nx(srv, key)
    finally:
        if web:
            web.stop()
        if srv:
            srv.stop()
        pf.stop()
        shutil.rmtree(maildir, ignore_errors=True)
