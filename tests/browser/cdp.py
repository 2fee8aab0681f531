"""A small Chrome DevTools Protocol client over --remote-debugging-pipe.

Chromium reads commands on fd 3 and writes answers and events on fd 4, each
message one JSON object ended by a NUL byte. Nothing but the Python
standard library: the browser tests need no package download.
"""
import fcntl
import json
import os
import queue
import threading
import time


class CDPError(Exception):
    pass


def _high(fd):
    """Move fd above 10, so the child's dup2 onto 3 and 4 cannot clobber it."""
    new = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return new


class Browser:
    def __init__(self, chromium, profile, width=1280, height=900, log=None):
        to_r, to_w = (_high(f) for f in os.pipe())
        from_r, from_w = (_high(f) for f in os.pipe())
        args = [chromium, "--headless=new", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--no-first-run", "--no-default-browser-check",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-extensions", "--disable-features=Translate,MediaRouter,OptimizationHints",
                "--user-data-dir=" + profile, "--window-size=%d,%d" % (width, height), "about:blank"]
        out = _high(os.open(log or os.devnull, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
        self.pid = os.posix_spawn(chromium, args, os.environ,
                                  file_actions=[(os.POSIX_SPAWN_DUP2, out, 1), (os.POSIX_SPAWN_DUP2, out, 2),
                                                (os.POSIX_SPAWN_DUP2, to_r, 3), (os.POSIX_SPAWN_DUP2, from_w, 4)])
        os.close(out)
        os.close(to_r)
        os.close(from_w)
        self.wfd, self.rfd = to_w, from_r
        self.next_id = 0
        self.answers = {}
        self.events = []
        self.cv = threading.Condition()
        self.closed = False
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        buf = b""
        while True:
            try:
                chunk = os.read(self.rfd, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                with self.cv:
                    self.closed = True
                    self.cv.notify_all()
                return
            buf += chunk
            while b"\0" in buf:
                msg, buf = buf.split(b"\0", 1)
                if not msg.strip():
                    continue
                m = json.loads(msg)
                with self.cv:
                    if "id" in m:
                        self.answers[m["id"]] = m
                    else:
                        self.events.append(m)
                    self.cv.notify_all()

    def send(self, method, params=None, session=None, timeout=60):
        with self.cv:
            self.next_id += 1
            mid = self.next_id
        m = {"id": mid, "method": method, "params": params or {}}
        if session:
            m["sessionId"] = session
        data = json.dumps(m).encode() + b"\0"
        while data:
            data = data[os.write(self.wfd, data):]
        deadline = time.monotonic() + timeout
        with self.cv:
            while mid not in self.answers:
                left = deadline - time.monotonic()
                if self.closed or left <= 0:
                    raise CDPError("%s: no answer from the browser" % method)
                self.cv.wait(left)
            a = self.answers.pop(mid)
        if "error" in a:
            raise CDPError("%s: %s" % (method, a["error"].get("message")))
        return a.get("result", {})

    def wait_event(self, method, session=None, start=0, timeout=60):
        """The first event `method` at or after position start of the event list."""
        deadline = time.monotonic() + timeout
        with self.cv:
            while True:
                for e in self.events[start:]:
                    if e.get("method") == method and (session is None or e.get("sessionId") == session):
                        return e
                left = deadline - time.monotonic()
                if self.closed or left <= 0:
                    raise CDPError("no %s event from the browser" % method)
                self.cv.wait(left)

    def page(self):
        t = self.send("Target.createTarget", {"url": "about:blank"})
        s = self.send("Target.attachToTarget", {"targetId": t["targetId"], "flatten": True})["sessionId"]
        return Page(self, s)

    def close(self):
        try:
            self.send("Browser.close", timeout=10)
        except CDPError:
            pass
        try:
            os.close(self.wfd)
        except OSError:
            pass
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass


class Page:
    def __init__(self, browser, session):
        self.b = browser
        self.s = session
        for m in ("Page.enable", "Runtime.enable", "Log.enable"):
            self.send(m)

    def send(self, method, params=None, timeout=60):
        return self.b.send(method, params, self.s, timeout)

    def problems(self, start=0):
        """Console errors, uncaught exceptions and browser log errors (CSP
        violations, failed loads) of this page since event position start."""
        out = []
        with self.b.cv:
            evs = list(self.b.events[start:])
        for e in evs:
            if e.get("sessionId") != self.s:
                continue
            p = e.get("params", {})
            if e["method"] == "Runtime.exceptionThrown":
                d = p.get("exceptionDetails", {})
                out.append("exception: %s %s" % (d.get("text"), d.get("exception", {}).get("description", "")))
            elif e["method"] == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append("console.%s: %s" % (p["type"], " ".join(str(a.get("value", a.get("description")))
                                                                   for a in p.get("args", []))))
            elif e["method"] == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
                en = p["entry"]
                out.append("log: %s %s" % (en.get("text"), en.get("url", "")))
        return out

    def mark(self):
        with self.b.cv:
            return len(self.b.events)

    def goto(self, url, ready="document.body && document.body.dataset.ready === '1'", timeout=60):
        start = self.mark()
        self.send("Page.navigate", {"url": url})
        self.b.wait_event("Page.loadEventFired", self.s, start, timeout)
        self.wait_for(ready, timeout)
        return start

    def eval(self, expr, timeout=60):
        r = self.send("Runtime.evaluate", {"expression": expr, "returnByValue": True, "awaitPromise": True},
                      timeout)
        if "exceptionDetails" in r:
            raise CDPError("evaluate %r: %s" % (expr[:80], r["exceptionDetails"].get("text")))
        return r["result"].get("value")

    def wait_for(self, expr, timeout=60):
        """Poll until expr is truthy: the page says when it is done, the
        test never guesses a duration."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                if self.eval("!!(%s)" % expr):
                    return
            except CDPError:
                pass  # the page is navigating: its context went away

            if time.monotonic() > deadline:
                raise CDPError("page never satisfied: %s" % expr)
            time.sleep(0.05)

    def screenshot(self, path, max_height=4000):
        h = self.eval("Math.ceil(Math.max(document.documentElement.scrollHeight, 600))")
        self.send("Emulation.setDeviceMetricsOverride", {"width": 1280, "height": min(int(h), max_height),
                                                         "deviceScaleFactor": 1, "mobile": False})
        import base64
        data = self.send("Page.captureScreenshot", {"format": "png"})["data"]
        self.send("Emulation.clearDeviceMetricsOverride")
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
