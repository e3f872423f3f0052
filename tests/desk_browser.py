#!/usr/bin/python3
"""tests/desk_browser.py URL SMS_DIR DATABASE - the staff desk in a real
browser (Debian's chromium + chromium-driver, python3-selenium), against a
desk that t_desk_browser.sh started on the demo data plus a hostile ticket.

Logs in with the code read from the SMS spool, finds a ticket by search,
approves one with a message (the reply, with the message, in the outbox),
rejects one, adds a note (in the history, in no mail), opens the hostile
ticket (no dialog, no script, markup shown as text, bidi controls
neutralised), posts a form without its CSRF token (refused), and lets the
session go idle (back to login). Prints "ok - ..." / "NOT OK - ..."; exits 1
on any failure.
"""
import glob
import os
import re
import sqlite3
import sys
import tempfile
import time

from selenium import webdriver
from selenium.common.exceptions import (NoAlertPresentException,
                                        StaleElementReferenceException,
                                        WebDriverException)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

URL, SMS, DB = sys.argv[1], sys.argv[2], sys.argv[3]
fails = 0


def ok(cond, what):
    global fails
    print(("ok - " if cond else "NOT OK - ") + what)
    if not cond:
        fails += 1
    return cond


def db(sql, *args):
    con = sqlite3.connect(DB, timeout=10)
    try:
        rows = con.execute(sql, args).fetchall()
        con.commit()
        return rows
    finally:
        con.close()


def newest_code():
    files = sorted(glob.glob(os.path.join(SMS, "new", "*")), key=os.path.getmtime)
    if not files:
        return None
    body = open(files[-1], encoding="utf-8").read().split("\n\n", 1)[-1]
    m = re.search(r"\b(\d{6})\b", body)
    for f in files:
        os.rename(f, os.path.join(SMS, "cur", os.path.basename(f)))
    return m.group(1) if m else None


def submit(d, button_id):
    """Clicks a submit button and waits for the next page."""
    old = d.find_element(By.TAG_NAME, "html")
    d.find_element(By.ID, button_id).click()
    for _ in range(200):
        try:
            old.tag_name
        except StaleElementReferenceException:
            return
        except WebDriverException as e:
            # chromium may say so in its own words while the new page
            # replaces the old one ("Node with given id does not belong
            # to the document")
            if "does not belong to the document" in str(e):
                return
            raise
        time.sleep(0.05)


def no_dialog(d, what):
    try:
        a = d.switch_to.alert
        text = a.text
        a.dismiss()
        ok(False, what + ": a dialog opened: " + text)
    except NoAlertPresentException:
        ok(True, what + ": no dialog")


opts = webdriver.ChromeOptions()
for a in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
          "--no-first-run", "--disable-background-networking",
          "--disable-component-update", "--disable-sync", "--window-size=1280,1000"):
    opts.add_argument(a)
profile = tempfile.mkdtemp(prefix="desk-chromium-")
opts.add_argument("--user-data-dir=" + profile)
opts.binary_location = "/usr/bin/chromium"
d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
d.set_page_load_timeout(20)
try:
    # ---- log in: password, then the code from the SMS spool
    d.get(URL + "/")
    ok(d.current_url.endswith("/login"), "no session: the login page")
    d.find_element(By.ID, "name").send_keys("alice")
    d.find_element(By.ID, "password").send_keys("correct horse battery staple")
    submit(d, "login")
    ok(d.current_url.endswith("/login/code"), "password accepted: asks for the code")
    code = newest_code()
    ok(code is not None, "the code arrived by SMS")
    d.find_element(By.ID, "code").send_keys(code or "")
    submit(d, "verify")
    ok(len(d.find_elements(By.ID, "queue")) == 1, "logged in: the queue")
    needs = int(d.find_element(By.ID, "count-needs_review").text)
    ok(needs >= 3, "counts per state (needs_review %d)" % needs)
    ids = [int(a.text) for a in d.find_elements(By.CSS_SELECTOR, "#queue td:first-child a")]
    ok(ids == sorted(ids), "needs_review oldest first")

    # ---- find a ticket by search
    d.find_element(By.CSS_SELECTOR, "#f-state option[value=all]").click()
    q = d.find_element(By.ID, "f-q")
    q.clear()
    q.send_keys("Urgent")
    submit(d, "filter")
    rows = d.find_elements(By.CSS_SELECTOR, "#queue tr")[1:]
    ok(len(rows) == 1 and "Urgent: mobile number change" in rows[0].text,
       "search finds the ticket")
    rows[0].find_element(By.CSS_SELECTOR, "td a").click()
    urgent = int(re.search(r"/ticket/(\d+)", d.current_url).group(1))
    ok("needs_review" in d.find_element(By.TAG_NAME, "h1").text, "its page")

    # ---- reject it with a reason
    d.find_element(By.ID, "reject-reason").send_keys(
        "Please send this from your registered address.")
    d.find_element(By.ID, "reject-note").send_keys("INTERNAL-REJECT-NOTE")
    submit(d, "reject-go")
    ok("rejected" in d.find_element(By.TAG_NAME, "h1").text, "rejected")
    ok("Please send this from your registered address." in
       d.find_element(By.ID, "replies").text, "the rejection's reply, with the reason")
    hist = d.find_element(By.ID, "history").text
    ok("staff:alice" in hist and "INTERNAL-REJECT-NOTE" in hist,
       "history: the rejection and its note by staff:alice")

    # ---- approve another with a message
    d.get(URL + "/?state=needs_review&q=New+mobile+for+Tom")
    d.find_element(By.CSS_SELECTOR, "#queue td a").click()
    tom = int(re.search(r"/ticket/(\d+)", d.current_url).group(1))
    d.find_element(By.ID, "approve-message").send_keys(
        "Checked by phone with John: the new number is his.")
    d.find_element(By.ID, "approve-note").send_keys("INTERNAL-APPROVE-NOTE")
    submit(d, "approve-go")
    ok("applied" in d.find_element(By.TAG_NAME, "h1").text, "approved: applied")
    d.get(URL + "/outbox")
    row = [r for r in d.find_elements(By.CSS_SELECTOR, "#outbox tr")
           if r.find_elements(By.LINK_TEXT, str(tom))]
    ok(len(row) >= 1, "the approval's reply is in the outbox")
    d.get(URL + "/ticket/%d" % tom)
    ok("Checked by phone with John: the new number is his." in
       d.find_element(By.ID, "replies").text, "the reply carries the message")
    ok(not re.search(r"\d{10}", d.find_element(By.ID, "replies").text),
       "no whole number in the reply")
    ok("4474******" in d.find_element(By.ID, "history").text,
       "history: old -> new masked")

    for tid in (urgent, tom):
        actors = db("SELECT DISTINCT actor FROM audit WHERE ticket_id = ? AND "
                    "action IN ('ticket.state', 'ticket.note', 'user.phone')", tid)
        ok(("staff:alice",) in actors and not [a for a in actors if a[0].startswith("staff:")
                                               and a[0] != "staff:alice"],
           "ticket %d: audited as staff:alice exactly (%s)" % (tid, actors))

    # ---- a note: in the history, in no mail
    d.find_element(By.ID, "note-text").send_keys("Called John: NOTE-XYZ-123")
    submit(d, "note-go")
    ok("NOTE-XYZ-123" in d.find_element(By.ID, "history").text, "the note is in the history")
    n = db("SELECT count(*) FROM outbox WHERE CAST(message AS TEXT) LIKE '%NOTE-XYZ%' "
           "OR CAST(message AS TEXT) LIKE '%INTERNAL-%-NOTE%'")[0][0]
    ok(n == 0, "no note in any mail")

    # ---- the hostile ticket: inert
    d.get(URL + "/?state=all&q=%3Cscript%3E")
    links = d.find_elements(By.CSS_SELECTOR, "#queue td a[href^='/ticket/']")
    no_dialog(d, "queue with the hostile subject")
    ok(len(links) == 1, "the hostile ticket found by its subject")
    links[0].click()
    time.sleep(0.3)
    no_dialog(d, "hostile ticket page")
    ok(d.title != "pwned" and d.title.startswith("Ticket"), "no script changed the title")
    ok(len(d.find_elements(By.TAG_NAME, "script")) == 0, "no script element")
    for tag in ("img", "svg", "iframe", "object", "embed"):
        ok(len(d.find_elements(By.TAG_NAME, tag)) == 0, "no <%s> element" % tag)
    ok(not [b for b in d.find_elements(By.TAG_NAME, "b") if "U2101" in b.text],
       "the mail's <b> is text, not markup")
    ok(len(d.find_elements(By.CSS_SELECTOR, "[onerror],[onload]")) == 0, "no event attributes")
    ok(len(d.find_elements(By.CSS_SELECTOR, "a[href^='javascript']")) == 0, "no javascript: link")
    subj = d.find_element(By.ID, "subject").text
    ok("<script>alert('subject')</script>" in subj, "the subject's markup shown as text")
    ok("\u202e" not in d.page_source and "\\u202e" in subj, "bidi override shown as \\u202e")
    ok("<img src=x onerror=alert('name')>" in d.find_element(By.ID, "from-name").text,
       "the sender name's markup shown as text")
    text = d.find_element(By.ID, "text").text
    ok("<script>document.title='pwned';alert('text')</script>" in text and
       "javascript:alert('link')" in text, "the body's markup shown as text")
    ok(not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", d.page_source),
       "no control character reaches the page")
    ok("\u2066" not in d.page_source, "isolates neutralised")

    # ---- a form posted without its token: refused
    d.get(URL + "/ticket/%d" % urgent)
    d.execute_script("document.querySelector('#note input[name=csrf]').remove()")
    d.find_element(By.ID, "note-text").send_keys("NO-TOKEN-NOTE")
    submit(d, "note-go")
    ok(d.find_element(By.TAG_NAME, "h1").text == "Forbidden", "a form without its token: Forbidden")
    n = db("SELECT count(*) FROM audit WHERE new LIKE '%NO-TOKEN-NOTE%'")[0][0]
    ok(n == 0, "nothing written without the token")

    # ---- the audit page masks numbers
    d.get(URL + "/audit?action=user.phone")
    a = d.find_element(By.ID, "audit").text
    ok("4474******" in a and not re.search(r"44\d{10}", a), "audit page: numbers masked")

    # ---- lookup
    d.get(URL + "/lookup?q=07400+123456")
    ok(len(d.find_elements(By.CSS_SELECTOR, "#found tr")) >= 2, "lookup by number")

    # ---- an idle session: back to login
    db("UPDATE desk_sessions SET last_seen = last_seen - 3600")
    d.get(URL + "/")
    ok("/login" in d.current_url and "ended" in d.find_element(By.ID, "msg").text,
       "idle session: back to login, told why")
finally:
    d.quit()

print("%d failed" % fails)
sys.exit(1 if fails else 0)
