"""The emulator as a test double for another language: a Python test, with
the standard library only, that starts the `wx-cloud-emulator` program,
reads its banner for the URL, and drives it through the control API
(`/__emulator/*`, docs/emulator.md) while a tiny platform server receives
the pushed events.

Usage: python3 emulator_control.py COMMAND... (the program to start, e.g.
`cargo run -q -p wx-cloud-emulator --`). Exits 0 when every check passed;
prints what failed otherwise. Run by __test__/emulator-control.test.js.
"""

import http.server
import json
import os
import subprocess
import sys
import threading
import urllib.error
import urllib.request

URL_PASSWORD = "HUSH-url-password"
KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


class Platform(http.server.BaseHTTPRequestHandler):
    """The third-party platform's event URL: answers `success`, keeps the query strings."""

    received = []
    answer = (200, b"success")

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(length)
        Platform.received.append(self.path)
        status, body = Platform.answer
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def call(base, method, path, body=None):
    """(status, JSON answer) of `method path` with a JSON body."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def main(command):
    platform = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Platform)
    threading.Thread(target=platform.serve_forever, daemon=True).start()
    event_url = "http://platform:%s@127.0.0.1:%d/events" % (URL_PASSWORD, platform.server_address[1])
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", ""),
        "WX_EMULATOR_COMPONENT_TOKEN": "HUSH-token",
        "WX_EMULATOR_COMPONENT_ENCODING_AES_KEY": KEY,
    }
    for k in ("CARGO_TARGET_DIR", "CARGO_HOME", "RUSTUP_HOME", "CARGO_BUILD_JOBS"):
        if k in os.environ:
            env[k] = os.environ[k]
    args = ["--port", "0", "--component-event-url", event_url, "--ticket-interval-ms", "0"]
    child = subprocess.Popen(command + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    try:
        banner = []
        for line in child.stdout:
            banner.append(line)
            if line.startswith("export WX_API_BASE_URL="):
                break
        base = banner[0].strip().rsplit(" ", 1)[-1]
        check(banner[0].startswith("# wx-cloud-openapi emulator listening on http://127.0.0.1:"), banner[0])
        control = [l for l in banner if l.startswith("# control API: ")]
        check(control == ["# control API: %s/__emulator/ (authorize, revoke, push-ticket, faults, environments, stats)\n" % base], control)

        status, routes = call(base, "GET", "/__emulator/")
        check(status == 200 and len(routes["routes"]) == 7, routes)

        # A ticket, then an account authorizes: both pushed to the platform.
        status, v = call(base, "POST", "/__emulator/push-ticket", {})
        check(status == 200 and v["componentVerifyTicket"].startswith("ticket@@@"), v)
        status, v = call(base, "POST", "/__emulator/authorize", {"authorizerAppid": "wxpython0001"})
        check(status == 200, v)
        check(v["infoType"] == "authorized" and v["pushed"] is True and v["pushError"] is None, v)
        check(len(v["authorizationCode"]) > 0 and v["expiresAt"] > 0, v)
        check(len(Platform.received) == 2, Platform.received)
        check(all("encrypt_type=aes" in p and "msg_signature=" in p for p in Platform.received), Platform.received)

        # It revokes: true, then false.
        status, v = call(base, "POST", "/__emulator/revoke", {"authorizerAppid": "wxpython0001"})
        check((status, v) == (200, {"authorizerAppid": "wxpython0001", "revoked": True}), v)
        status, v = call(base, "POST", "/__emulator/revoke", {"authorizerAppid": "wxpython0001"})
        check((status, v["revoked"]) == (200, False), v)
        check(len(Platform.received) == 3, Platform.received)
        status, v = call(base, "POST", "/__emulator/revoke", {"appid": "wxpython0001"})
        check(status == 400 and "authorizerAppid" in v["error"], v)

        # Faults: a misspelt API is refused; a real one fires once.
        status, v = call(base, "POST", "/__emulator/faults", {"api": "cgi-bin.tokn", "kind": "errcode"})
        check(status == 400 and '"cgi-bin.tokn" is not an API' in v["error"], v)
        status, v = call(base, "POST", "/__emulator/faults", {"api": "cgi-bin.token", "kind": "errcode", "errcode": 45009, "times": 1})
        check((status, v) == (200, {"activeFaults": 1}), v)
        token = "/cgi-bin/token?grant_type=client_credential&appid=wx0emulatorapp0001&secret=emulator-app-secret"
        status, v = call(base, "GET", token)
        check(v["errcode"] == 45009, v)
        status, v = call(base, "GET", token)
        access_token = v["access_token"]
        call(base, "POST", "/__emulator/faults", {"kind": "delay", "delayMs": 1})
        status, v = call(base, "DELETE", "/__emulator/faults")
        check((status, v) == (200, {"activeFaults": 0}), v)

        # Environments and stats.
        status, v = call(base, "POST", "/tcb/createenvandresource?access_token=" + access_token, {"type": "CreatePostpayPackage", "alias": "py"})
        envid = v["envid"]
        status, envs = call(base, "GET", "/__emulator/environments")
        check(status == 200 and [e["env"] for e in envs] == [envid] and envs[0]["createdVia"] == "https", envs)
        status, stats = call(base, "GET", "/__emulator/stats")
        check(status == 200 and stats["calls"]["https:cgi-bin.token"] == 2 and stats["faultsFired"] == 1, stats)
        check(sum(stats["tokensIssued"].values()) == 1 and stats["environments"] == 1, stats)

        # The platform fails: the push fails, answered 502 and logged on
        # stderr with the HTTP status, never with the event URL's password.
        Platform.answer = (500, b"busy")
        status, v = call(base, "POST", "/__emulator/push-ticket", {})
        check(status == 502 and "***@127.0.0.1" in v["error"] and "HTTP 500" in v["error"], v)
        check(URL_PASSWORD not in json.dumps(v), v)
    finally:
        platform.shutdown()
        child.terminate()
        _, stderr = child.communicate(timeout=30)
    failed = [l for l in stderr.splitlines() if "push of component_verify_ticket failed" in l]
    check(len(failed) == 1 and "http://***@127.0.0.1:" in failed[0] and "HTTP 500" in failed[0], stderr)
    check(URL_PASSWORD not in stderr and "HUSH-token" not in stderr and KEY not in stderr, stderr)
    print("ok: authorize, revoke, push-ticket, faults, environments, stats")


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except AssertionError as e:
        print("FAILED: %s" % e, file=sys.stderr)
        sys.exit(1)
