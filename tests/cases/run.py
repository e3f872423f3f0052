#!/usr/bin/env python3
"""tests/cases/run.py - driver of tests/t_cases.sh (see expect.tsv).

For each case: a fresh database from accounts.yaml, `tfadesk ingest`,
`process`, `send`, then the expected kind, state, phones, 2FA flags and
replies. Then the same again (process twice, ingest twice): nothing may
change. Then staff approve / reject / retry on a few cases, and the plan
an approval carries out (queue show's token, approve --expect). Every
reply written is checked: no full phone number, no injected header, and
nothing of what we check a sender's authentication by.

Golden files (curl's one file per test): after the first process + send,
each case's outcome is written out as text -- the ticket (kind, state,
account, reason), every change to the accounts (each field, old -> new, with
2FA flags and masked numbers), the audit rows the case added (actor, action,
account, user, old -> new) and every reply (To, Subject, In-Reply-To,
References, Auto-Submitted, X-Tfadesk-Ticket, then the body exactly, decoded)
-- and compared with tests/cases/golden/CASE.txt; a mismatch prints a
unified diff. Per-run values are normalised in one place, normalise():
dates (ISO 8601 and RFC 5322) become <DATE> and our Message-IDs <MSGID>.
The account and audit values, which account show --json and audit --json
give whole by design, are masked as mask_phone does (4478******56) so that
a golden never holds a number in full; the ticket and the replies are
compared as they are, so a number shown whole there shows in the diff.
After a reviewed change of behaviour: run.py --update [CASE-PREFIX...] (or
UPDATE=1) rewrites the goldens; commit them with the change.
Usage: run.py [--update] [CASE-PREFIX...]
"""
import contextlib, difflib, email, io, json, multiprocessing, os, quopri, re, shutil, subprocess, sys, tempfile, traceback

TOP = os.environ.get("TOP") or os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
TF = os.environ.get("TFADESK") or os.path.join(TOP, "tfadesk")
CASES = os.path.join(TOP, "tests", "cases")
GOLDEN = os.path.join(CASES, "golden")
UPDATE = os.environ.get("UPDATE") == "1"
fails = 0
BASE = {}       # the template database: accounts and the number of audit rows


def say(ok, what):
    global fails
    if not ok:
        fails += 1
    print(("ok - " if ok else "NOT OK - ") + what)


PG = os.environ.get("TFADESK_DB") == "postgresql"
PG_TEMPLATE = []   # PostgreSQL: the base database, once it is filled


def database(d):
    """A file in d, or with TFADESK_DB=postgresql a fresh database on the
    tests' cluster (tests/pg-lib.sh): a copy of the base one once made."""
    if not PG:
        return f"{d}/db"
    p = subprocess.run(["sh", os.path.join(TOP, "tests", "pg-db.sh")] + PG_TEMPLATE,
                       capture_output=True, text=True, check=True)
    return p.stdout.strip()


def copy_db(template_db, d):
    """SQLite: the base database copied (PostgreSQL: config() did)."""
    if not PG:
        shutil.copy(template_db, os.path.join(d, "db"))


def config(d, extra=""):
    cfg = os.path.join(d, "tfadesk.yaml")
    db = database(d)
    with open(cfg, "w") as f:
        f.write(f"""database: {db}
default_country: GB
rules: {TOP}/rules/tickets.yaml
numbering: {TOP}/rules/numbering.yaml
templates: {TOP}/templates
source:
  type: maildir
  path: {d}/maildir
reply:
  from: "SIP Trunk Plus Support <support@500.uk.com>"
  transport: spool
  spool: {d}/outbox
security:
  require_sender_auth: true
  authserv_id: mx.500.uk.com
policy:
  overwrite_number: {extra.get('policy.overwrite_number', 'review') if isinstance(extra, dict) else 'review'}
sms:
  transport: spool
  spool: {d}/sms
""")
    return cfg


# What reading commands answered, per config, until a command that may
# change something runs with it: the checks and the snapshots of one state
# ask for the same accounts many times (a tfadesk run costs ~35 ms of
# start-up, most of this test's time).
READS = {}


def reads_only(args):
    return (args[0] in ("account", "audit") or
            (args[0] in ("queue", "outbox", "user") and
             args[1:2] in (("list",), ("show",))))


def tf(cfg, *args, check=True, stdin=None):
    if not reads_only(args) or stdin is not None:
        READS.pop(cfg, None)
    elif (cfg, args) in READS.get(cfg, {}):
        return READS[cfg][(cfg, args)]
    p = subprocess.run([TF, "-c", cfg] + list(args), capture_output=True, text=True,
                       input=stdin, env=dict(os.environ, TFADESK_NOW="1795000000"))
    if check and p.returncode != 0:
        print(f"    tfadesk {' '.join(args)}: exit {p.returncode}: {p.stderr.strip()[:500]}")
    if reads_only(args) and stdin is None and p.returncode == 0:
        READS.setdefault(cfg, {})[(cfg, args)] = p
    return p


def queue(cfg):
    """Every ticket, oldest first (queue list shows the newest first)."""
    p = tf(cfg, "queue", "list", "--json")
    try:
        return sorted(json.loads(p.stdout), key=lambda t: t["id"])
    except ValueError:
        print("    queue list --json: not JSON: " + p.stdout[:200])
        return []


def account(cfg, acct):
    p = tf(cfg, "account", "show", acct, "--json")
    try:
        return json.loads(p.stdout)
    except ValueError:
        return None


USER_ACCOUNTS = {}


def user_phone(cfg, uid):
    acct = USER_ACCOUNTS.get(uid)
    a = account(cfg, acct) if acct else None
    for u in (a or {}).get("users", []):
        if u["id"] == uid:
            return u["phone"]
    return "(missing)"


def snapshot(cfg):
    return {a: account(cfg, a) for a in sorted(set(USER_ACCOUNTS.values()))}


def replies(d):
    nd = os.path.join(d, "outbox", "new")
    return sorted(os.path.join(nd, f) for f in os.listdir(nd)) if os.path.isdir(nd) else []


def check_reply(path, name):
    raw = open(path, "rb").read()
    head, _, body = raw.partition(b"\r\n\r\n")
    msg = email.message_from_bytes(raw)
    lines = head.split(b"\r\n")
    bad = [l for l in lines if re.match(rb"(?i)(bcc|cc|x-injected):", l)]
    say(not bad, f"{name}: reply has no injected header ({bad[:1]})")
    if (msg.get("Content-Transfer-Encoding") or "").lower() == "quoted-printable":
        body = quopri.decodestring(body)
    text = body.decode("utf-8", "replace") + "\n" + str(msg.get("Subject"))
    full = re.findall(r"\d[\d ()\-]{6,}\d", text)
    full = [f for f in full if len(re.sub(r"\D", "", f)) >= 7]
    say(not full, f"{name}: reply shows no number in full ({full[:2]})")
    say(msg.get("Auto-Submitted") == "auto-replied" and msg.get("In-Reply-To"),
        f"{name}: reply is auto-replied and threaded")
    # what we check a sender by is what a forger would learn to fake
    told = [w for w in ("Authentication-Results", "DKIM", "dkim", "SPF", "spf",
                        "mx.500.uk.com", "authserv", "not authenticated") if w in text]
    say(not told, f"{name}: reply says nothing of sender authentication ({told})")


def mask_digits(m):
    """mask_phone of src/core/util.c: the first 4 and last 2 digits shown."""
    d = m.group(0)
    return "*" * len(d) if len(d) <= 6 else d[:4] + "*" * (len(d) - 6) + d[-2:]


def normalise(text):
    """The one normalisation of per-run values in a golden (see the top)."""
    text = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "<DATE>", text)
    text = re.sub(r"(?:[A-Z][a-z]{2}, )?\d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d [+-]\d{4}",
                  "<DATE>", text)
    return re.sub(r"<tfadesk\.[^>\s]*>", "<MSGID>", text)


def masked(lines):
    """Account and audit values: every run of 7 or more digits masked."""
    return [re.sub(r"\d{7,}", mask_digits, l) for l in lines]


def shown(v):
    return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)


def account_changes(before, after):
    out = []
    for a in sorted(set(before) | set(after)):
        b, n = before.get(a) or {}, after.get(a) or {}
        for k in sorted(set(b) | set(n)):
            if k != "users" and b.get(k) != n.get(k):
                out.append(f"account {a}: {k}: {shown(b.get(k))} -> {shown(n.get(k))}")
        bu = {u["id"]: u for u in b.get("users") or []}
        nu = {u["id"]: u for u in n.get("users") or []}
        for u in sorted(set(bu) | set(nu)):
            x, y = bu.get(u) or {}, nu.get(u) or {}
            for k in sorted(set(x) | set(y)):
                if x.get(k) != y.get(k):
                    out.append(f"user {u} ({a}): {k}: {shown(x.get(k))} -> {shown(y.get(k))}")
    return out or ["no account changed"]


def reply_golden(path):
    msg = email.message_from_bytes(open(path, "rb").read())
    out = ["--- reply"]
    for h in ("To", "Subject", "In-Reply-To", "References", "Auto-Submitted", "X-Tfadesk-Ticket"):
        for v in msg.get_all(h) or []:
            out.append(f"{h}: {v}")
    body = msg.get_payload(decode=True) or b""
    out.append("")
    out.extend(body.decode("utf-8", "replace").replace("\r\n", "\n").rstrip("\n").split("\n"))
    return out


def golden_text(cfg, d, name, snap, q):
    out = [f"# {name}: what process and send did (tests/cases/run.py --update writes it)"]
    for t in q:
        out.append(f"ticket {t.get('id')}: kind {t.get('kind') or '-'}, state {t.get('state')}, "
                   f"account {t.get('account') or '-'}, refused {t.get('refused')}")
        out.append(f"  from: {t.get('from')}")
        out.append(f"  subject: {t.get('subject')}")
        out.append(f"  reason: {t.get('reason')}")
    out.extend(masked(account_changes(BASE["accounts"], snap)))
    rows = audit(cfg)[BASE["audit"]:]
    for r in rows:
        out += masked([f"audit: {r.get('actor')} {r.get('action')} account {r.get('account') or '-'} "
                   f"user {r.get('user') or '-'}: {shown(r.get('old'))} -> {shown(r.get('new'))}"])
    if not rows:
        out.append("no audit row")
    rs = replies(d)
    out.append(f"replies: {len(rs)}")
    for block in sorted(reply_golden(r) for r in rs):   # spool file names vary
        out.extend(block)
    sd = os.path.join(d, "sms", "new")
    out.append(f"sms: {len(os.listdir(sd)) if os.path.isdir(sd) else 0}")
    return normalise("\n".join(out) + "\n")


def golden(cfg, d, name, snap, q):
    """Compares the case's outcome (SNAP: the accounts, Q: the tickets) with
    tests/cases/golden/NAME.txt, or rewrites it with --update."""
    got = golden_text(cfg, d, name, snap, q)
    path = os.path.join(GOLDEN, name + ".txt")
    if UPDATE:
        os.makedirs(GOLDEN, exist_ok=True)
        old = open(path, encoding="utf-8").read() if os.path.exists(path) else None
        if old != got:
            with open(path, "w", encoding="utf-8") as f:
                f.write(got)
            print(f"    {'updated' if old is not None else 'wrote'} {os.path.relpath(path, TOP)}")
        return
    if not os.path.exists(path):
        say(False, f"{name}: golden file {os.path.relpath(path, TOP)} missing (run.py --update writes it)")
        return
    want = open(path, encoding="utf-8").read()
    say(got == want, f"{name}: outcome matches golden/{name}.txt")
    if got != want:
        sys.stdout.writelines(difflib.unified_diff(
            want.splitlines(True), got.splitlines(True),
            f"tests/cases/golden/{name}.txt", f"{name} (this run)"))


def run_case(tmp, template_db, name, kind, state, checks):
    d = os.path.join(tmp, name)
    os.makedirs(os.path.join(d, "maildir", "new"))
    opts = {c[4:].split("=", 1)[0]: c[4:].split("=", 1)[1] for c in checks if c.startswith("opt:")}
    cfg = config(d, opts)
    copy_db(template_db, d)
    eml = os.path.join(CASES, name + ".eml")
    tf(cfg, "ingest", eml)
    p = tf(cfg, "process", check=False)
    say(p.returncode == 0, f"{name}: process exits 0 ({p.returncode}: {p.stderr.strip()[:300]})")
    tf(cfg, "send")
    q = queue(cfg)
    if len(q) != 1:
        say(False, f"{name}: one ticket stored, got {len(q)}")
        return
    t = q[0]
    got_kind = t.get("kind") or "-"
    say(got_kind == kind, f"{name}: kind {kind} (got {got_kind})")
    say(t.get("state") == state, f"{name}: state {state} (got {t.get('state')}: {t.get('reason')})")
    for c in checks:
        if c.startswith("opt:"):
            continue
        if c.startswith("replies="):
            n = len(replies(d))
            say(n == int(c[8:]), f"{name}: {c} (got {n})")
        elif c.startswith("to~"):
            tos = [str(email.message_from_bytes(open(r, "rb").read()).get("To")) for r in replies(d)]
            say(tos and all(c[3:] in t for t in tos), f"{name}: every reply goes to {c[3:]} ({tos})")
        elif c.startswith("reason~"):
            want = c[7:].replace("_", " ")
            say(want in (t.get("reason") or ""), f"{name}: reason has '{want}' ({t.get('reason')})")
        elif ".twofa=" in c:
            acct, want = c.split(".twofa=")
            a = account(cfg, acct)
            got = a and a.get("twofa")
            say(a is not None and str(got).lower() == want, f"{name}: {c} (got {got})")
        elif "=" in c:
            uid, want = c.split("=", 1)
            got = user_phone(cfg, uid)
            say((got if got is not None else "null") == want, f"{name}: {c} (got {got})")
        else:
            say(False, f"{name}: unknown check {c}")
    for r in replies(d):
        check_reply(r, name)
    before = (snapshot(cfg), queue(cfg), len(replies(d)))
    golden(cfg, d, name, before[0], before[1])
    # Again: processing and ingesting the same mail changes nothing.
    tf(cfg, "ingest", eml)
    p = tf(cfg, "process")
    tf(cfg, "send")
    after = (snapshot(cfg), queue(cfg), len(replies(d)))
    say(before == after and "applied 0, needs_review 0, rejected 0, ignored 0" in p.stdout,
        f"{name}: ingest + process again changes nothing")
    return cfg, d


def audit(cfg):
    p = tf(cfg, "audit", "--json")
    try:
        return json.loads(p.stdout)
    except ValueError:
        return []


def staff_scenarios(tmp, template_db):
    # approve an overwrite: applied by staff, audited as staff
    d = os.path.join(tmp, "staff-approve")
    os.makedirs(os.path.join(d, "maildir", "new"))
    cfg = config(d, {})
    copy_db(template_db, d)
    tf(cfg, "ingest", os.path.join(CASES, "11-overwrite.eml"))
    tf(cfg, "process")
    tid = str(queue(cfg)[0]["id"])
    p = tf(cfg, "queue", "approve", tid, "--by", "alice", "--note", "Checked by phone with Acme.")
    say(p.returncode == 0, "approve: exit 0")
    say(queue(cfg)[0]["state"] == "applied", "approve: overwrite now applied")
    say(user_phone(cfg, "U2002") == "447400654321", "approve: U2002 has the new number")
    rows = [r for r in audit(cfg) if r.get("action") == "user.phone" and r.get("user") == "U2002"]
    say(len(rows) == 1 and rows[0].get("actor") == "staff:alice", f"approve: audited as staff:alice ({rows})")
    tf(cfg, "send")
    say(len(replies(d)) == 2, f"approve: the staff decision sends its own reply ({len(replies(d))})")
    say(not any("Checked by phone" in t for t in reply_texts(d)), "approve: the --note is not mailed")
    n = len(audit(cfg))
    p = tf(cfg, "queue", "approve", tid, "--by", "alice", check=False)
    say(p.returncode == 0 and user_phone(cfg, "U2002") == "447400654321" and len(audit(cfg)) == n,
        f"approve again: exit 0, nothing changes ({p.returncode}, {len(audit(cfg)) - n} new audit rows)")
    for r in replies(d):
        check_reply(r, "staff-approve")

    # approve an unauthenticated ticket: staff vouch for the sender, the number is still validated
    d = os.path.join(tmp, "staff-approve-auth")
    os.makedirs(os.path.join(d, "maildir", "new"))
    cfg = config(d, {})
    copy_db(template_db, d)
    tf(cfg, "ingest", os.path.join(CASES, "18-forged-no-auth.eml"))
    tf(cfg, "process")
    tid = str(queue(cfg)[0]["id"])
    tf(cfg, "queue", "approve", tid, "--by", "bob")
    say(queue(cfg)[0]["state"] == "applied" and user_phone(cfg, "U2001") == "447400666777",
        "approve of an unauthenticated ticket applies after staff checked it")

    # reject: state rejected, reply, nothing changed
    d = os.path.join(tmp, "staff-reject")
    os.makedirs(os.path.join(d, "maildir", "new"))
    cfg = config(d, {})
    copy_db(template_db, d)
    tf(cfg, "ingest", os.path.join(CASES, "11-overwrite.eml"))
    tf(cfg, "process")
    tid = str(queue(cfg)[0]["id"])
    p = tf(cfg, "queue", "reject", tid, "--by", "carol", "--reason", "Please call us to confirm.")
    t = queue(cfg)[0]
    say(t["state"] == "rejected" and "carol" in (t.get("reason") or ""), f"reject: rejected by carol ({t})")
    say(user_phone(cfg, "U2002") == "447400123456", "reject: number unchanged")
    tf(cfg, "send")
    say(len(replies(d)) == 2, "reject: reply sent")
    rows = [r for r in audit(cfg) if r.get("action") == "ticket.state" and r.get("actor") == "staff:carol"]
    say(len(rows) == 1, "reject: audited as staff:carol")

    # retry: processes again, never a second automatic reply
    d = os.path.join(tmp, "staff-retry")
    os.makedirs(os.path.join(d, "maildir", "new"))
    cfg = config(d, {})
    copy_db(template_db, d)
    tf(cfg, "ingest", os.path.join(CASES, "01-twofa-missing.eml"))
    tf(cfg, "process")
    tf(cfg, "user", "edit", "U1002", "--phone", "07400 777888")
    tid = str(queue(cfg)[0]["id"])
    tf(cfg, "queue", "retry", tid)
    tf(cfg, "send")
    a = account(cfg, "R100")
    say(a and a["twofa"] is True and queue(cfg)[0]["state"] == "applied", "retry: 2FA on once every user has a number")
    say(len(replies(d)) == 1, f"retry: still one automatic reply ({len(replies(d))})")


def identity_scenarios(tmp, template_db):
    """Cases 80-82 share one Message-ID: 80 and 82 are one message (82 is 80
    as an IMAP server stores it: more trace fields, LF), 81 is another.
    Whichever comes second of 80 and 81 is held for staff with no reply and
    no change; the first is processed as if alone; staff approve works."""
    def fresh(name):
        d = os.path.join(tmp, name)
        os.makedirs(os.path.join(d, "maildir", "new"))
        cfg = config(d, {})
        copy_db(template_db, d)
        return cfg, d

    def ingest(cfg, *names):
        for n in names:
            tf(cfg, "ingest", os.path.join(CASES, n + ".eml"))

    def held(t):
        return t["state"] == "needs_review" and "duplicate_message_id" in (t.get("reason") or "")

    # genuine first (and again as delivered), then the other message
    cfg, d = fresh("identity-genuine-first")
    ingest(cfg, "80-identity-genuine", "82-identity-delivered", "81-identity-reused-id")
    tf(cfg, "process")
    tf(cfg, "send")
    q = queue(cfg)
    say(len(q) == 2, f"identity: 80 and 82 are one ticket, 81 its own ({len(q)} tickets)")
    if len(q) == 2:
        say(q[0]["state"] == "applied" and user_phone(cfg, "U2001") == "447400123456",
            f"identity: the first ticket is processed as if alone ({q[0]['state']})")
        say(held(q[1]), f"identity: the reused Message-ID is held: {q[1]['state']}: {q[1].get('reason')}")
        say(user_phone(cfg, "U2004") is None, "identity: nothing of it applied (U2004 has no number)")
        say(len(replies(d)) == 1, f"identity: no reply for the held ticket ({len(replies(d))} replies)")
        tid = str(q[1]["id"])
        tf(cfg, "queue", "retry", tid)
        tf(cfg, "process")
        tf(cfg, "send")
        t = queue(cfg)[1]
        say(held(t) and user_phone(cfg, "U2004") is None and len(replies(d)) == 1,
            f"identity: queue retry keeps it held, no reply ({t['state']})")
        p = tf(cfg, "queue", "approve", tid, "--by", "alice")
        tf(cfg, "send")
        t = queue(cfg)[1]
        say(p.returncode == 0 and t["state"] == "applied" and user_phone(cfg, "U2004") == "447400666777",
            f"identity: staff approve it the normal way ({t['state']}: {t.get('reason')})")
        say(len(replies(d)) == 2, f"identity: the approval sends its reply ({len(replies(d))})")
        rows = [r for r in audit(cfg) if r.get("action") == "user.phone" and r.get("user") == "U2004"]
        say(len(rows) == 1 and rows[0].get("actor") == "staff:alice", f"identity: audited as staff:alice ({rows})")
        say(queue(cfg)[0]["state"] == "applied", "identity: the first ticket untouched")
        for r in replies(d):
            check_reply(r, "identity")

    # the other message first (a predicted Message-ID): the genuine mail
    # must become a ticket, held, and must not vanish
    cfg, d = fresh("identity-genuine-second")
    ingest(cfg, "81-identity-reused-id", "80-identity-genuine")
    tf(cfg, "process")
    tf(cfg, "send")
    ingest(cfg, "82-identity-delivered")
    tf(cfg, "process")
    q = queue(cfg)
    say(len(q) == 2, f"identity, other order: two tickets ({len(q)})")
    if len(q) == 2:
        say(held(q[1]) and user_phone(cfg, "U2001") is None,
            f"identity, other order: the genuine mail is held, nothing applied ({q[1]['state']}: {q[1].get('reason')})")
        say(len(replies(d)) == 1, f"identity, other order: no reply for it ({len(replies(d))})")
        p = tf(cfg, "queue", "approve", str(q[1]["id"]), "--by", "bob")
        say(queue(cfg)[1]["state"] == "applied" and user_phone(cfg, "U2001") == "447400123456",
            "identity, other order: staff approve the genuine mail")
def scenario(tmp, template_db, name, eml):
    d = os.path.join(tmp, name)
    os.makedirs(os.path.join(d, "maildir", "new"))
    cfg = config(d, {})
    copy_db(template_db, d)
    tf(cfg, "ingest", os.path.join(CASES, eml))
    tf(cfg, "process")
    tf(cfg, "send")
    return cfg, d, str(queue(cfg)[0]["id"])


def reply_texts(d):
    out = []
    for r in replies(d):
        msg = email.message_from_bytes(open(r, "rb").read())
        out.append(msg.get_payload(decode=True).decode("utf-8", "replace"))
    return out


def show_token(cfg, tid):
    p = tf(cfg, "queue", "show", tid)
    m = re.search(r"^Plan token: ([0-9a-f]{16})$", p.stdout, re.M)
    return (m.group(1) if m else None), p.stdout


def plan_scenarios(tmp, template_db):
    # queue show: per-user results with old -> new masked, the plan, its token
    cfg, d, tid = scenario(tmp, template_db, "plan-show", "11-overwrite.eml")
    tok, out = show_token(cfg, tid)
    say(tok is not None, "plan: queue show prints a plan token" + ("" if tok else f" ({out[-600:]})"))
    say("4474******56 -> 4474******21" in out and "U2002" in out,
        "plan: queue show names the number replaced, old -> new, masked")
    say("447400123456" not in out and "447400654321" not in out, "plan: no number in full")
    p = tf(cfg, "queue", "show", tid, "--json")
    try:
        j = json.loads(p.stdout)
    except ValueError:
        j = {}
    say(j.get("plan_token") == tok and tok is not None, f"plan: --json has the same plan_token ({j.get('plan_token')})")
    say([(c.get("action"), c.get("user"), c.get("old"), c.get("new")) for c in j.get("plan") or []] ==
        [("user.phone", "U2002", "4474******56", "4474******21")], f"plan: --json plan ({j.get('plan')})")
    # the right token applies exactly that plan, with the message and not the note
    note, message = "phoned the reseller, Jo confirmed", "We confirmed the change with you by phone."
    p = tf(cfg, "queue", "approve", tid, "--by", "alice", "--expect", tok or "0" * 16,
           "--message", message, "--note", note, check=False)
    say(p.returncode == 0 and user_phone(cfg, "U2002") == "447400654321",
        f"plan: approve --expect TOKEN applies it ({p.returncode}: {p.stderr.strip()})")
    tf(cfg, "send")
    texts = reply_texts(d)
    say(len(texts) == 2 and sum(message in t for t in texts) == 1, "plan: --message is in the approval's reply")
    say(not any("phoned" in t or "Jo confirmed" in t for t in texts), "plan: --note is in no reply")
    say(note in tf(cfg, "queue", "show", tid).stdout, "plan: --note is in the ticket's history")
    n = len(audit(cfg))
    p = tf(cfg, "queue", "approve", tid, "--by", "alice", check=False)
    say(p.returncode == 0 and len(audit(cfg)) == n and user_phone(cfg, "U2002") == "447400654321",
        f"plan: approving again is a no-op, exit 0 ({p.returncode})")
    for r in replies(d):
        check_reply(r, "plan-show")

    # a plan that changed since it was shown (the number edited meanwhile): refused
    cfg, d, tid = scenario(tmp, template_db, "plan-stale", "11-overwrite.eml")
    tok, _ = show_token(cfg, tid)
    tf(cfg, "user", "edit", "U2002", "--phone", "07400 111333")
    n = len(audit(cfg))
    p = tf(cfg, "queue", "approve", tid, "--by", "alice", "--expect", tok or "0" * 16, check=False)
    say(p.returncode == 65 and "queue show" in p.stderr, f"stale: approve --expect OLD exits 65, says look again ({p.returncode}: {p.stderr.strip()})")
    say(user_phone(cfg, "U2002") == "447400111333" and len(audit(cfg)) == n and queue(cfg)[0]["state"] == "needs_review",
        "stale: nothing changed")
    p = tf(cfg, "queue", "approve", tid, "--by", "alice", check=False)
    say(p.returncode == 65 and user_phone(cfg, "U2002") == "447400111333",
        f"stale: approve without --expect compares with the plan stored when held ({p.returncode})")
    tok2, out = show_token(cfg, tid)
    say(tok2 and tok2 != tok and "4474******33 -> 4474******21" in out, "stale: queue show has the new plan and token")
    p = tf(cfg, "queue", "approve", tid, "--by", "alice", "--expect", tok2 or "0" * 16, check=False)
    say(p.returncode == 0 and user_phone(cfg, "U2002") == "447400654321", "stale: approve --expect NEW applies")
    tf(cfg, "send")
    say(len(replies(d)) == 2, "stale: one reply for the refusals' ticket, one for the approval")

    # refusals stay refused: another reseller's account
    cfg, d, tid = scenario(tmp, template_db, "plan-other-reseller", "38-other-reseller-twofa.eml")
    n = len(audit(cfg))
    p = tf(cfg, "queue", "approve", tid, "--by", "bob", check=False)
    a1, a3 = account(cfg, "R100"), account(cfg, "R300")
    say(p.returncode == 65 and "change nothing" in p.stderr, f"other reseller: approve exits 65, nothing to apply ({p.returncode}: {p.stderr.strip()})")
    say(a1["twofa"] is False and a3["twofa"] is False and len(audit(cfg)) == n and queue(cfg)[0]["state"] == "needs_review",
        "other reseller: nothing changed")
    tok, _ = show_token(cfg, tid)
    p = tf(cfg, "queue", "approve", tid, "--by", "bob", "--expect", tok or "0" * 16, check=False)
    say(p.returncode == 65 and account(cfg, "R300")["twofa"] is False, "other reseller: with --expect too")

    # held because not authenticated, still validated in full
    cfg, d, tid = scenario(tmp, template_db, "plan-unauth", "90-unauth-other-reseller.eml")
    tok, out = show_token(cfg, tid)
    good = bool(re.search(r"U3101 +rejected", out) and re.search(r"U2002 +applied +4474\*{6}56 +-> 4474\*{6}21", out))
    say(good, "unauth: queue show lists every user's result" + ("" if good else f" ({out[-700:]})"))
    texts = reply_texts(d)
    say(len(texts) == 1 and "look at" in texts[0] and "U3101" not in texts[0] and "R100" not in texts[0],
        f"unauth: the reply says a person will look, and nothing else ({texts[:1]})")
    p = tf(cfg, "queue", "approve", tid, "--by", "bob", "--expect", tok or "0" * 16, check=False)
    say(p.returncode == 0 and user_phone(cfg, "U2002") == "447400654321" and user_phone(cfg, "U3101") is None,
        f"unauth: approve applies the plan, the refusal stays ({p.returncode})")
    cfg, d, tid = scenario(tmp, template_db, "plan-unauth-none", "91-unauth-only-other.eml")
    p = tf(cfg, "queue", "approve", tid, "--by", "bob", check=False)
    say(p.returncode == 65 and user_phone(cfg, "U3101") is None and queue(cfg)[0]["state"] == "needs_review",
        f"unauth, only another reseller's user: approve exits 65 ({p.returncode})")

    # queue note: history, actor; reject --note: history, never mail
    cfg, d, tid = scenario(tmp, template_db, "plan-note", "11-overwrite.eml")
    p = tf(cfg, "queue", "note", tid, "--by", "dana", "called Acme, no answer", check=False)
    rows = [r for r in audit(cfg) if r.get("action") == "ticket.note"]
    say(p.returncode == 0 and len(rows) == 1 and rows[0].get("actor") == "staff:dana" and rows[0].get("new") == "called Acme, no answer",
        f"note: queue note adds a history entry by staff:dana ({rows})")
    p = tf(cfg, "queue", "reject", tid, "--by", "dana", "--reason", "Please call us to confirm.",
           "--note", "suspicious: new number abroad", check=False)
    tf(cfg, "send")
    texts = reply_texts(d)
    say(p.returncode == 0 and any("Please call us to confirm." in t for t in texts) and
        not any("suspicious" in t for t in texts), "note: reject --reason is mailed, --note is not")
    say("suspicious: new number abroad" in tf(cfg, "queue", "show", tid).stdout, "note: reject --note is in the history")


# Cases are independent (each its own folder and database): they run JOBS
# at a time (CASES_JOBS, default the number of CPUs), each one's lines
# printed whole and in expect.tsv order.
JOBS = max(1, int(os.environ.get("CASES_JOBS") or os.cpu_count() or 1))


def captured(job):
    """Runs job = (function, args...) in a worker; returns its lines and
    how many of its checks failed."""
    global fails
    fails = 0
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            job[0](*job[1:])
        except Exception:
            say(False, f"{job[0].__name__}{job[1:][2:3]}: {traceback.format_exc()}")
    return out.getvalue(), fails


def run_jobs(jobs):
    global fails
    if JOBS == 1 or len(jobs) < 2:
        results = map(captured, jobs)
    else:
        pool = multiprocessing.get_context("fork").Pool(JOBS)
        results = pool.imap(captured, jobs)
    for text, n in results:
        sys.stdout.write(text)
        sys.stdout.flush()
        fails += n
    if JOBS > 1 and len(jobs) >= 2:
        pool.close()
        pool.join()


def main():
    global UPDATE
    only = sys.argv[1:]
    if only[:1] == ["--update"]:
        UPDATE, only = True, only[1:]
    tmp = tempfile.mkdtemp(prefix="tfadesk-cases.")
    try:
        base = os.path.join(tmp, "base")
        os.makedirs(base)
        cfg = config(base, {})
        tf(cfg, "db", "init")
        p = tf(cfg, "db", "import", os.path.join(CASES, "accounts.yaml"))
        if p.returncode != 0:
            print("cannot import tests/cases/accounts.yaml")
            return 1
        for a in ("R100", "C200", "R200", "C300", "R300"):
            for u in account(cfg, a)["users"]:
                USER_ACCOUNTS[u["id"]] = a
        template_db = os.path.join(base, "db")
        BASE["accounts"], BASE["audit"] = snapshot(cfg), len(audit(cfg))
        seen, jobs = set(), []
        if PG:
            PG_TEMPLATE.append(re.search(r"^database: postgresql://[^/]*/([^?]+)",
                                         open(cfg).read(), re.M).group(1))
        for line in open(os.path.join(CASES, "expect.tsv")):
            f = line.split()
            if not f or f[0].startswith("#"):
                continue
            if only and not any(f[0].startswith(o) for o in only):
                continue
            jobs.append((run_case, tmp, template_db, f[0], f[1], f[2], f[3:]))
            seen.add(f[0])
        # every .eml is a case in expect.tsv, and every golden belongs to one
        emls = {f[:-4] for f in os.listdir(CASES) if f.endswith(".eml")}
        gold = {f[:-4] for f in os.listdir(GOLDEN) if f.endswith(".txt")} if os.path.isdir(GOLDEN) else set()
        if not only:
            say(emls <= seen, f"every tests/cases/*.eml is in expect.tsv ({sorted(emls - seen)})")
            say(UPDATE or gold <= seen, f"every golden file has its case ({sorted(gold - seen)})")
            jobs.append((staff_scenarios, tmp, template_db))
        if not only or any(c.startswith(o) for o in only for c in ("80-", "81-", "82-")):
            jobs.append((identity_scenarios, tmp, template_db))
            jobs.append((plan_scenarios, tmp, template_db))
        run_jobs(jobs)
    finally:
        if not os.environ.get("KEEP"):
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print("kept " + tmp)
    print(f"{fails} failed")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
