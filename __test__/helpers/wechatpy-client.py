"""wechatpy 1.8.18 against the emulator; run by __test__/foreign-clients.test.js.

argv: a JSON object {url, app: {appid, secret}, component: {componentAppid,
componentAppsecret}, ticket, authorizer: {authorizerAppid, refreshToken},
scenario}. Prints one JSON object with what each step got.

wechatpy's own base URLs are used where it has them (API_BASE_URL of the
component); WeChatClient.fetch_access_token hard-codes
https://api.weixin.qq.com/cgi-bin/token, so requests to that host are sent to
the emulator by a requests adapter mounted on the client's session (the
library's code is unchanged; the emulator speaks plain HTTP).
"""
import json
import sys
import time

import requests
from requests.adapters import HTTPAdapter
from wechatpy import WeChatClient, WeChatComponent
from wechatpy.exceptions import WeChatClientException

cfg = json.loads(sys.argv[1])
URL = cfg["url"]
CREATE = "%s/tcb/createenvandresource" % URL


class ToEmulator(HTTPAdapter):
    """Sends https://api.weixin.qq.com/... to the emulator."""

    def send(self, request, **kwargs):
        request.url = request.url.replace("https://api.weixin.qq.com", URL, 1)
        return super().send(request, **kwargs)


def outcome(fn):
    try:
        r = fn()
        return {"errcode": r.get("errcode"), "envid": r.get("envid")}
    except WeChatClientException as e:
        return {"errcode": e.errcode, "errmsg": e.errmsg}


def app_client():
    c = WeChatClient(cfg["app"]["appid"], cfg["app"]["secret"])
    c.API_BASE_URL = URL + "/cgi-bin/"
    c._http.mount("https://api.weixin.qq.com/", ToEmulator())
    return c


out = {}
if cfg["scenario"] == "app":
    mine = app_client()
    out["first"] = outcome(lambda: mine.post(CREATE, data={"type": "CreatePostpayPackage", "alias": "py-app"}))
    held = mine.access_token
    # Another process takes a new token: ours is replaced (grace 0), so
    # WeChat answers 40001 and wechatpy fetches a new one and retries.
    app_client().fetch_access_token()
    out["replaced"] = outcome(lambda: mine.post(CREATE, data={"type": "CreatePostpayPackage", "alias": "py-replaced"}))
    out["renewed"] = mine.access_token != held
    out["bad_params"] = outcome(lambda: mine.post(CREATE, data={"alias": "x"}))
else:
    comp = cfg["component"]
    component = WeChatComponent(comp["componentAppid"], comp["componentAppsecret"], "token", "a" * 43)
    component.API_BASE_URL = URL + "/cgi-bin"
    # What the verify-ticket push and the authorization (query_auth) store.
    component.session.set("component_verify_ticket", cfg["ticket"])
    auth = cfg["authorizer"]
    component.session.set("%s_refresh_token" % auth["authorizerAppid"], auth["refreshToken"])
    client = component.get_client_by_appid(auth["authorizerAppid"])
    calls = []
    for i in range(3):
        calls.append(outcome(lambda: client.post(CREATE, data={"type": "CreatePostpayPackage", "alias": "py-tp%d" % i})))
        time.sleep(1.1)  # past the emulator's 1 s token lifetime: 42001, then a renewal
    out["calls"] = calls
print(json.dumps(out))
