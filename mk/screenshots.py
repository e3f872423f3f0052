#!/usr/bin/python3
"""mk/screenshots.py URL SMS_DIR OUT_DIR - run by `make screenshots`: logs in
to a desk on the demo data (the code from the SMS spool) and writes
desk-queue.png and desk-ticket.png with headless chromium."""
import glob
import os
import re
import sys
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

URL, SMS, OUT = sys.argv[1:4]
opts = webdriver.ChromeOptions()
for a in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
          "--no-first-run", "--disable-background-networking",
          "--disable-component-update", "--disable-sync", "--hide-scrollbars",
          "--user-data-dir=" + tempfile.mkdtemp(prefix="desk-shots-")):
    opts.add_argument(a)
opts.binary_location = "/usr/bin/chromium"
d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
try:
    d.set_window_size(1280, 800)
    d.get(URL + "/login")
    d.find_element(By.ID, "name").send_keys("demo")
    d.find_element(By.ID, "password").send_keys("demo password 1234")
    d.find_element(By.ID, "login").click()
    time.sleep(0.5)
    f = max(glob.glob(os.path.join(SMS, "new", "*")), key=os.path.getmtime)
    code = re.search(r"\b(\d{6})\b", open(f).read().split("\n\n", 1)[-1]).group(1)
    d.find_element(By.ID, "code").send_keys(code)
    d.find_element(By.ID, "verify").click()
    time.sleep(0.5)
    d.get(URL + "/?state=all")
    d.save_screenshot(os.path.join(OUT, "desk-queue.png"))
    d.get(URL + "/?state=needs_review&q=New+mobile+for+Tom")
    d.find_element(By.CSS_SELECTOR, "#queue td a").click()
    time.sleep(0.3)
    h = d.execute_script("return document.documentElement.scrollHeight")
    d.set_window_size(1280, min(max(h, 800), 2400))
    d.save_screenshot(os.path.join(OUT, "desk-ticket.png"))
finally:
    d.quit()
print("wrote %s/desk-queue.png and %s/desk-ticket.png" % (OUT, OUT))
