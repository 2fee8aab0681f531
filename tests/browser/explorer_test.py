"""The explorer's views in headless chromium (tests/browser/explorer.sh runs
this against a live loopback network). Every view loads with no console
error, exception or refused resource; the task page lists every stage in
order with its log entry and a checked inclusion proof; the failed task's
page names the failure as `pixiu audit` does; the lineage SVG has the nodes
of `pixiu trace --dot`; search finds a task and a node; the receipt page
says ok for the real receipt and fail for flipped bytes; a POD page refuses
a browser that has not signed in and shows the ledger to one that has.
Screenshots of each view go to --out."""
import argparse
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cdp  # noqa: E402

a = argparse.ArgumentParser()
for k in ("chromium", "log", "pod", "task", "failed", "result", "receipt", "failed-receipt", "dot", "login", "out",
          "profile"):
    a.add_argument("--" + k, required=True)
o = a.parse_args()
checks = 0


def check(cond, what):
    global checks
    if not cond:
        raise SystemExit("FAIL: " + what)
    checks += 1


def clean(p, start, what):
    probs = p.problems(start)
    check(not probs, "%s: console errors: %s" % (what, probs))


b = cdp.Browser(o.chromium, o.profile, log=os.path.join(o.out, "chromium.log"))
try:
    p = b.page()
    L = o.log

    # Every view of the log node, with no console error.
    views = [("overview", "/ui/"), ("log", "/ui/log"), ("tasks", "/ui/tasks"), ("task", "/ui/task/" + o.task),
             ("task-failed", "/ui/task/" + o.failed), ("lineage", "/ui/digest/" + o.result),
             ("entry", "/ui/entry/4"), ("node", "/ui/node/exec-2"), ("verify", "/ui/verify")]
    for name, url in views:
        s = p.goto(L + url)
        clean(p, s, name)
        check(not p.eval("!!document.getElementById('refused')"), "%s: refused: %s" % (name, p.eval(
            "document.querySelector('main').innerText")))
        p.screenshot(os.path.join(o.out, name + ".png"))

    # The log: its checkpoint's signature checked here, appends plotted.
    p.goto(L + "/ui/log")
    check(p.eval("document.getElementById('checkpoint-check').textContent") == "signature checked in this browser",
          "log: checkpoint not checked")
    check(p.eval("document.querySelectorAll('#appends rect').length") > 0, "log: no appends plot")
    wit = p.eval("[...document.querySelectorAll('#witnesses tbody tr')].map(r => r.innerText)")
    check(len(wit) == 1 and wit[0].startswith("witness-1\tyes\t"), "log: witness-1 did not cosign: %r" % wit)

    # Tasks: both tasks listed, newest first.
    p.goto(L + "/ui/tasks")
    rows = p.eval("[...document.querySelectorAll('#tasks tbody tr')].map(r => r.innerText)")
    check(len(rows) == 2 and "trap" in rows[0] and "\tok\t" in rows[1], "tasks: %r" % rows)

    # The task page: every stage, in order, each with its log entries and
    # an inclusion proof checked in the browser.
    p.goto(L + "/ui/task/" + o.task)
    steps = p.eval("[...document.querySelectorAll('#stages li.step')].map(li => [li.dataset.stage, li.dataset.state,"
                   " li.querySelector('.proof-link') && li.querySelector('.proof-link').getAttribute('href'),"
                   " li.querySelectorAll('[data-inclusion=ok]').length])")
    check([s[0] for s in steps] == ["0", "1", "2"], "task: stages %r" % steps)
    check(all(s[1] == "ok" and re.match(r"^/ui/entry/\d+$", s[2] or "") and s[3] == 2 for s in steps),
          "task: stage without proof, entry link or checked inclusion: %r" % steps)
    check(p.eval("document.getElementById('task-verdict').dataset.verdict") == "ok", "task: verdict")
    check(p.eval("document.querySelectorAll('#releases [data-inclusion=ok]').length") == 3, "task: releases")

    # The failed task: stage 1 named as `pixiu audit` names it.
    p.goto(L + "/ui/task/" + o.failed)
    v = p.eval("({...document.getElementById('task-verdict').dataset})")
    check(v["verdict"] == "failed" and v["status"] == "trap", "failed task verdict %r" % v)
    named = p.eval("[...document.querySelectorAll('#stages li.step')].map(li => [li.dataset.stage, li.dataset.state,"
                   " (li.querySelector('.audit-why') || {}).textContent || ''])")
    check(named[1][1] == "trap" and "pixiu audit: failed (trap)" in named[1][2]
          and "blamed: analyst" in named[1][2], "failed task: stage 1 %r" % named)

    # The lineage SVG has the nodes of `pixiu trace --dot`.
    dot = open(o.dot).read()
    want_d = len(re.findall(r"^  d\d+ \[", dot, re.M))
    want_s = len(re.findall(r"^  s\d+ \[", dot, re.M))
    want_e = len(re.findall(r"->", dot))
    p.goto(L + "/ui/digest/" + o.result)
    got = p.eval("[document.querySelectorAll('#lineage .digest').length, document.querySelectorAll('#lineage .step')"
                 ".length, document.querySelectorAll('#lineage line.edge').length,"
                 " [...document.querySelectorAll('#lineage .digest')].map(n => n.dataset.digest)]")
    check(got[0] == want_d and got[1] == want_s and got[2] == want_e,
          "lineage: %d digests, %d steps, %d edges; dot has %d, %d, %d" % (got[0], got[1], got[2], want_d, want_s,
                                                                          want_e))
    check(got[3][0] == o.result, "lineage: the root is not the result")
    labels = p.eval("[...document.querySelectorAll('#lineage .step.release')].map(n => n.textContent)")
    check(sorted(re.search(r"pod-\d", t).group(0) for t in labels) == ["pod-1", "pod-2", "pod-3"],
          "lineage: releases %r" % labels)

    # Search: a task id prefix and a node id, typed into the search box.
    for q, where in ((o.task[:10], "/ui/task/" + o.task), ("pod-2", "/ui/node/pod-2")):
        p.goto(L + "/ui/")
        s = p.mark()
        p.eval("document.getElementById('q').value = %s; document.querySelector('header form').submit(); 1"
               % json.dumps(q))
        p.wait_for("location.pathname === %s && document.body.dataset.ready === '1'" % json.dumps(where))
        clean(p, s, "search " + q)

    # A receipt, checked in the browser: the real one ok, flipped bytes fail.
    receipt = open(o.receipt, "rb").read()

    def verdict(data):
        p.goto(L + "/ui/verify")
        p.eval("document.getElementById('receipt').value = %s; document.getElementById('check').click(); 1"
               % json.dumps(data.decode("utf-8", "replace")))
        p.wait_for("['ok', 'fail'].includes(document.getElementById('verdict').dataset.verdict)", timeout=120)
        return p.eval("[document.getElementById('verdict').dataset.verdict, document.getElementById('verdict')"
                      ".dataset.reason]")

    s = p.mark()
    got = verdict(receipt)
    check(got[0] == "ok", "receipt: %r" % got)
    clean(p, s, "verify ok")
    p.screenshot(os.path.join(o.out, "verify-ok.png"))
    flipped = bytearray(receipt)
    flipped[len(flipped) // 3] ^= 0x01
    got = verdict(bytes(flipped))
    check(got[0] == "fail" and got[1], "flipped receipt: %r" % got)
    p.screenshot(os.path.join(o.out, "verify-fail.png"))
    # More flipped bytes, spread over the whole receipt, through the same code.
    n = len(receipt)
    for k in range(1, 13):
        x = bytearray(receipt)
        x[n * k // 13] ^= 0x01
        r = p.eval("(async () => { const r = await PXV.verify(%s, PXC.json(document.getElementById('trust').value,"
                   " 't'), document.getElementById('builds').value.split(/\\s+/).filter(Boolean)); return r.ok; })()"
                   % json.dumps(bytes(x).decode("utf-8", "replace")), timeout=120)
        check(r is False, "a receipt flipped at byte %d verified" % (n * k // 13))
    # A failure receipt holds, and says where the task failed: not ok.
    got = verdict(open(o.failed_receipt, "rb").read())
    check(got[0] == "fail" and "the receipt holds" in got[1] and "trap" in got[1], "failure receipt %r" % got)

    # The POD's views: refused without a sign-in, in the page and as JSON.
    s = p.goto(o.pod + "/ui/pod")
    check(p.eval("document.getElementById('refused') && document.getElementById('refused').dataset.status") == "401",
          "pod: not refused: %r" % p.eval("document.querySelector('main').innerText"))
    check(p.eval("fetch('/ui/pod', {headers: {Accept: 'application/json'}}).then(r => r.status)") == 401,
          "pod JSON not refused")
    check(p.eval("fetch('/ui/pod/budget').then(r => r.status)") == 401, "pod budget not refused")
    p.screenshot(os.path.join(o.out, "pod-refused.png"))
    # Signed in with the link `pixiu ui login` printed: the ledger and releases.
    s = p.goto(o.login)
    check(p.eval("location.pathname") == "/ui/pod", "sign-in did not land on /ui/pod")
    clean(p, s, "pod")
    check(p.eval("document.querySelectorAll('.budget-plot path.line').length") >= 1, "pod: no ledger plot")
    check(p.eval("document.querySelectorAll('#pod-releases tbody tr').length") == 2, "pod: releases")
    p.screenshot(os.path.join(o.out, "pod.png"))
finally:
    b.close()
print("%d passed, 0 failed" % checks)
