#!/usr/bin/python3
"""The hosted pages in a real headless Chromium (Debian's chromium,
chromium-driver, python3-selenium), driven by t/36-browser.t. Prints TAP
lines ("ok N - ..." / "not ok N - ...") and a plan; screenshots of each
page go to $SHOTS. Environment: BASE (http://localhost:PORT), MAILDIR
(the SMTP sink's directory), SHOTS."""

import glob
import json
import os
import re
import sys
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

BASE = os.environ["BASE"]
MAILDIR = os.environ["MAILDIR"]
SHOTS = os.environ["SHOTS"]
n = 0
failed = 0


def ok(cond, name, diag=None):
    global n, failed
    n += 1
    print(("ok %d - %s" if cond else "not ok %d - %s") % (n, name), flush=True)
    if not cond:
        failed += 1
        if diag:
            for line in str(diag).splitlines():
                print("# " + line, flush=True)
    return cond


def api(method, path, body=None, token=None):
    """The JSON API, outside the browser: (status, decoded body)."""
    req = urllib.request.Request(BASE + "/api/v1" + path, method=method)
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, data, timeout=30) as res:
            return res.status, json.loads(res.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def new_user(tag):
    u = {"username": "b%s%d" % (tag, int(time.time() * 1000) % 10**9),
         "password": "browser-%s-Gr33n-Tea!" % tag}
    u["email"] = u["username"] + "@example.com"
    st, _ = api("POST", "/auth/register", u)
    assert st == 201, "register %s: %s" % (u["username"], st)
    return u


def wait_link(to, kind, timeout=15):
    """The link of kind (reset-password, verify-email) mailed to `to`."""
    end = time.time() + timeout
    while time.time() < end:
        for f in sorted(glob.glob(os.path.join(MAILDIR, "*.eml"))):
            with open(f, encoding="utf-8", errors="replace") as fh:
                text = fh.read()
            if "To: <%s>" % to in text:
                m = re.search(r"(https?://\S+/auth/%s\?token=[A-Za-z0-9_-]+)" % kind, text)
                if m:
                    return m.group(1)
        time.sleep(0.2)
    return None


def browser():
    opts = webdriver.ChromeOptions()
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
              "--disable-gpu", "--window-size=1100,900", "--no-first-run",
              "--disable-extensions", "--disable-background-networking",
              "--user-data-dir=" + os.path.join(SHOTS, "profile")):
        opts.add_argument(a)
    opts.binary_location = "/usr/bin/chromium"
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    d.set_page_load_timeout(30)
    return d


def shot(d, name):
    d.save_screenshot(os.path.join(SHOTS, name + ".png"))


def until(d, cond, timeout=10):
    """Poll cond until it is truthy. A page that re-renders between a
    find and a read (a row replaced by the answer it was waiting for)
    leaves a stale element: that is one more poll, not a failure."""
    try:
        return WebDriverWait(d, timeout, ignored_exceptions=(StaleElementReferenceException,)).until(cond)
    except TimeoutException:
        return None


def at(path):
    """A wait condition: the browser is on path (not merely a URL that
    mentions it, as a sign-in page's rd does)."""
    def cond(d):
        u = urllib.parse.urlsplit(d.current_url)
        want = urllib.parse.urlsplit(path)
        return u.path == want.path and (not want.query or u.query == want.query)
    return cond


def text_of(d, ident):
    return d.find_element(By.ID, ident).text


def csp_violations(d):
    return [e["message"] for e in d.get_log("browser")
            if "Content Security Policy" in e["message"] or "Refused to" in e["message"]]


def sign_in_keyboard(d, ident, password):
    """Type into the sign-in form with the keyboard alone: focus is on
    the first field, Tab moves on, Enter submits."""
    user = until(d, EC.element_to_be_clickable((By.ID, "username")))
    user.click()
    ac = webdriver.ActionChains(d)
    ac.send_keys(ident).send_keys(Keys.TAB).send_keys(password).send_keys(Keys.ENTER).perform()


def flows(d):
    # --- sign in from a protected page, and land back on it ------------
    u = new_user("a")
    d.get(BASE + "/demo/whoami?from=browser")
    ok(until(d, at("/auth/sign-in")) is not None,
       "a protected page sends a browser that is not signed in to the sign-in page", d.current_url)
    ok("rd=" in d.current_url and "demo" in d.current_url, "... with rd naming the page", d.current_url)
    shot(d, "01-sign-in")

    sign_in_keyboard(d, u["username"], "wrong password, really")
    err = until(d, lambda x: x.find_element(By.ID, "password-error").text or None)
    ok(err is not None and "wrong" in err.lower() and "{" not in err,
       "a wrong password shows a message in words beside the form", err)
    ok(d.find_element(By.ID, "password").get_attribute("aria-invalid") == "true",
       "... and marks the field")
    shot(d, "02-sign-in-wrong-password")

    d.find_element(By.ID, "password").clear()
    d.find_element(By.ID, "password").send_keys(u["password"], Keys.ENTER)
    ok(until(d, at("/demo/whoami?from=browser")) is not None,
       "signing in lands back on the protected page", d.current_url)
    body = d.find_element(By.TAG_NAME, "body").text
    try:
        who = json.loads(body)
    except ValueError:
        who = {}
    ok(who.get("user") == u["username"], "... which sees the user's identity", body)
    shot(d, "03-protected-page")

    ok(d.execute_script("return document.cookie") == "",
       "no cookie a script can read", d.execute_script("return document.cookie"))
    ok(d.execute_script("return window.localStorage.length + window.sessionStorage.length") == 0,
       "nothing in localStorage or sessionStorage")

    # --- the account page: this device marked, revoke another ----------
    st, other = api("POST", "/auth/login", {"username": u["username"], "password": u["password"]})
    ok(st == 200, "a second session from elsewhere")
    d.get(BASE + "/auth/account")
    items = until(d, lambda x: len(x.find_elements(By.CSS_SELECTOR, "#sessions li")) >= 2 and
                  x.find_elements(By.CSS_SELECTOR, "#sessions li"))
    ok(items is not None and len(items) == 2, "the account page lists both sessions",
       items and len(items))
    ok(until(d, lambda x: text_of(x, "p-username") == u["username"]) is not None, "... and the profile")
    cur = d.find_elements(By.CSS_SELECTOR, "#sessions li.current")
    ok(len(cur) == 1 and "this device" in cur[0].text, "... with this device marked")
    shot(d, "04-account")
    target = d.find_element(By.CSS_SELECTOR,
                            "#sessions li[data-session-id='%s'] button" % other["session_id"])
    target.send_keys(Keys.ENTER)  # the keyboard again
    gone = until(d, lambda x: len(x.find_elements(By.CSS_SELECTOR, "#sessions li")) == 1)
    ok(gone is not None, "revoking the other session removes it from the list")
    st, _ = api("GET", "/auth/me", token=other["access_token"])
    ok(st == 401, "... and its access token is refused at once", st)
    ok("signed out" in text_of(d, "notice"), "... and the page says so", text_of(d, "notice"))

    # --- password change on the account page ----------------------------
    form = d.find_element(By.ID, "current_password")
    form.send_keys("not my password")
    d.find_element(By.ID, "new_password").send_keys(u["password"] + "-2")
    d.find_element(By.ID, "new_password_confirm").send_keys(u["password"] + "-2", Keys.ENTER)
    err = until(d, lambda x: x.find_element(By.ID, "current_password-error").text or None)
    ok(err is not None and "wrong" in err.lower(), "a wrong current password: a message beside that field", err)
    cur = d.find_element(By.ID, "current_password")
    cur.clear()
    cur.send_keys(u["password"], Keys.ENTER)
    ok(until(d, lambda x: "password is changed" in text_of(x, "notice")) is not None,
       "changing the password says so", text_of(d, "notice"))
    u["password"] += "-2"
    st, _ = api("POST", "/auth/login", {"username": u["username"], "password": u["password"]})
    ok(st == 200, "... and the new password works", st)
    shot(d, "04b-password-changed")

    # --- readable on a phone --------------------------------------------
    d.set_window_size(360, 740)
    d.get(BASE + "/auth/account")
    until(d, lambda x: x.find_elements(By.CSS_SELECTOR, "#sessions li"))
    width = d.execute_script("return document.documentElement.scrollWidth")
    ok(width <= 360, "the account page fits 360 px without scrolling sideways", width)
    shot(d, "05-account-360px")
    d.get(BASE + "/auth/sign-in?prompt=login")
    until(d, EC.presence_of_element_located((By.ID, "username")))
    width = d.execute_script("return document.documentElement.scrollWidth")
    ok(width <= 360, "so does the sign-in page", width)
    shot(d, "06-sign-in-360px")
    d.set_window_size(1100, 900)

    # --- sign out ends access to the protected page ---------------------
    d.get(BASE + "/auth/account")
    until(d, EC.element_to_be_clickable((By.ID, "sign-out"))).click()
    ok(until(d, at("/auth/sign-in")) is not None, "sign out goes to the sign-in page")
    d.get(BASE + "/demo/whoami")
    ok(until(d, at("/auth/sign-in")) is not None,
       "after signing out the protected page sends the browser to sign in again", d.current_url)

    # --- the admin demo refuses a user with a small page ----------------
    d.get(BASE + "/auth/sign-in?rd=/demo/admin/whoami")
    sign_in_keyboard(d, u["email"], u["password"])
    until(d, at("/demo/admin/whoami"))
    h1 = until(d, lambda x: x.find_elements(By.TAG_NAME, "h1"))
    ok(h1 and h1[0].text == "Not allowed", "a location the user's role may not see: the 403 page",
       h1 and h1[0].text)
    shot(d, "07-forbidden")
    d.get(BASE + "/auth/account")
    until(d, EC.element_to_be_clickable((By.ID, "sign-out"))).click()
    until(d, at("/auth/sign-in"))

    # --- the reset link from the mail opens the page; the new password works
    d.get(BASE + "/auth/reset-password")
    email = until(d, EC.element_to_be_clickable((By.ID, "email")))
    shot(d, "08-reset-request")
    email.send_keys(u["email"], Keys.ENTER)
    ok(until(d, lambda x: "we sent" in text_of(x, "notice")) is not None,
       "asking for a reset link says it was sent", text_of(d, "notice"))
    link = wait_link(u["email"], "reset-password")
    ok(link is not None and link.startswith(BASE + "/auth/reset-password?token="),
       "the mail sink has the reset link to the hosted page", link)
    d.get(link)
    pw = until(d, EC.element_to_be_clickable((By.ID, "new_password")))
    ok("token=" not in d.current_url, "the token leaves the address bar", d.current_url)
    shot(d, "09-reset-form")
    new = u["password"] + "-new"
    pw.send_keys(new)
    d.find_element(By.ID, "new_password_confirm").send_keys(new + "x", Keys.ENTER)
    err = until(d, lambda x: x.find_element(By.ID, "new_password_confirm-error").text or None)
    ok(err and "not the same" in err, "two different passwords: a message beside the field", err)
    conf = d.find_element(By.ID, "new_password_confirm")
    conf.clear()
    conf.send_keys(new, Keys.ENTER)
    ok(until(d, lambda x: "has been reset" in text_of(x, "notice")) is not None,
       "the reset page says the password was reset", text_of(d, "notice"))
    shot(d, "10-reset-done")
    d.get(BASE + "/auth/sign-in")
    sign_in_keyboard(d, u["username"], u["password"])
    err = until(d, lambda x: x.find_element(By.ID, "password-error").text or None)
    ok(err is not None, "the old password no longer works", err)
    d.find_element(By.ID, "password").clear()
    d.find_element(By.ID, "password").send_keys(new, Keys.ENTER)
    ok(until(d, at("/auth/account")) is not None,
       "the new password works (and without rd the account page opens)", d.current_url)
    until(d, EC.element_to_be_clickable((By.ID, "sign-out"))).click()
    until(d, at("/auth/sign-in"))

    # --- sign up, then confirm the email address from the mail ----------
    d.get(BASE + "/auth/sign-up?rd=/demo/whoami")
    name = "s%d" % (int(time.time() * 1000) % 10**9)
    until(d, EC.element_to_be_clickable((By.ID, "username"))).send_keys(name)
    d.find_element(By.ID, "email").send_keys(name + "@example.com")
    d.find_element(By.ID, "password").send_keys("password", Keys.ENTER)
    err = until(d, lambda x: x.find_element(By.ID, "password-error").text or None)
    ok(err is not None and "{" not in err, "a common password is refused in words beside the field", err)
    shot(d, "11-sign-up-weak")
    p = d.find_element(By.ID, "password")
    p.clear()
    p.send_keys("a much better passphrase", Keys.ENTER)
    ok(until(d, at("/demo/whoami")) is not None,
       "signing up signs in and goes on to rd", d.current_url)
    link = wait_link(name + "@example.com", "verify-email")
    ok(link is not None, "the verification mail links to the hosted page", link)
    d.get(link)
    st = until(d, lambda x: "confirmed" in text_of(x, "status") and text_of(x, "status"))
    ok(st is not None, "the verify-email page confirms and says so", text_of(d, "status"))
    shot(d, "12-verify-email")
    d.get(BASE + "/auth/account")
    ok(until(d, lambda x: text_of(x, "p-verified") == "yes") is not None,
       "the account page shows the address confirmed")

    until(d, EC.element_to_be_clickable((By.ID, "sign-out"))).click()
    until(d, at("/auth/sign-in"))
    mfa_flows(d)
    d.get(BASE + "/auth/account")
    until(d, EC.element_to_be_clickable((By.ID, "sign-out"))).click()
    until(d, at("/auth/sign-in"))
    passkey_flows(d)
    d.get(BASE + "/auth/account")
    until(d, EC.element_to_be_clickable((By.ID, "sign-out"))).click()
    until(d, at("/auth/sign-in"))
    lifecycle_flows(d)
    token_and_admin_flows(d)

    v = csp_violations(d)
    ok(not v, "no Content-Security-Policy violation on any page", "\n".join(v))


def totp(secret, offset=0):
    """The code at now + offset, from Debian's oathtool (RFC 6238)."""
    import subprocess
    t = int(time.time()) + offset
    return subprocess.run(["oathtool", "--totp", "-b", "--now=@%d" % t, secret],
                          capture_output=True, text=True, check=True).stdout.strip()


def mfa_flows(d):
    # --- enrol TOTP on the account page ----------------------------------
    u = new_user("m")
    d.get(BASE + "/auth/sign-in?rd=/auth/account")
    sign_in_keyboard(d, u["username"], u["password"])
    until(d, at("/auth/account"))
    setup = until(d, EC.element_to_be_clickable((By.ID, "mfa_password")))
    ok(setup is not None and until(d, lambda x: "Off" in text_of(x, "mfa-status")) is not None,
       "the account page says two-step verification is off",
       text_of(d, "mfa-status"))
    setup.send_keys(u["password"], Keys.ENTER)
    code_in = until(d, EC.element_to_be_clickable((By.ID, "mfa_code")))
    secret = text_of(d, "mfa-secret").replace(" ", "")
    ok(re.fullmatch(r"[A-Z2-7]{32}", secret) is not None, "setting it up shows the key as text", secret)
    qr = d.execute_script("var i = document.getElementById('mfa-qr'); return i.complete && i.naturalWidth;")
    ok(qr and qr > 0, "... and a QR code image that renders", qr)
    shot(d, "13-mfa-setup")
    code_in.send_keys("000000" if totp(secret) != "000000" else "111111", Keys.ENTER)
    err = until(d, lambda x: x.find_element(By.ID, "mfa_code-error").text or None)
    ok(err and "not right" in err, "a wrong code: a message beside the field", err)
    code_in.clear()
    code_in.send_keys(totp(secret), Keys.ENTER)
    codes = until(d, lambda x: [li.text for li in x.find_elements(By.CSS_SELECTOR, "#mfa-codes-list li")] or None)
    ok(codes and len(codes) == 10, "turning it on shows ten recovery codes once", codes)
    ok(until(d, lambda x: "On" in text_of(x, "mfa-status")) is not None, "... and the page says it is on",
       text_of(d, "mfa-status"))
    shot(d, "14-mfa-recovery-codes")
    until(d, EC.element_to_be_clickable((By.ID, "sign-out"))).click()
    until(d, at("/auth/sign-in"))

    # --- sign in with the second factor, at a location that demands it --
    d.get(BASE + "/demo/mfa/whoami")
    until(d, at("/auth/sign-in"))
    sign_in_keyboard(d, u["username"], u["password"])
    code = until(d, EC.element_to_be_clickable((By.ID, "code")))
    ok(code is not None, "after the password the sign-in page asks for the code")
    shot(d, "15-sign-in-code")
    code.send_keys("000000" if totp(secret, 30) != "000000" else "111111", Keys.ENTER)
    err = until(d, lambda x: x.find_element(By.ID, "code-error").text or None)
    ok(err and "not right" in err, "a wrong code: a message in words", err)
    code.clear()
    code.send_keys(totp(secret, 30), Keys.ENTER)
    ok(until(d, at("/demo/mfa/whoami")) is not None, "the right code lands on the page that needs it", d.current_url)
    body = d.find_element(By.TAG_NAME, "body").text
    ok('"user":"%s"' % u["username"] in body.replace(" ", ""), "... which lets the user in", body)
    d.get(BASE + "/auth/account")
    until(d, EC.element_to_be_clickable((By.ID, "sign-out"))).click()
    until(d, at("/auth/sign-in"))

    # --- or with a recovery code ----------------------------------------
    d.get(BASE + "/auth/sign-in?rd=/demo/mfa/whoami")
    sign_in_keyboard(d, u["email"], u["password"])
    until(d, EC.element_to_be_clickable((By.ID, "use-recovery"))).send_keys(Keys.ENTER)
    rc = until(d, EC.element_to_be_clickable((By.ID, "recovery_code")))
    rc.send_keys(codes[0], Keys.ENTER)
    ok(until(d, at("/demo/mfa/whoami")) is not None, "a recovery code signs in too", d.current_url)
    shot(d, "16-signed-in-with-recovery-code")


def main():
    d = None
    try:
        d = browser()
        flows(d)
    except Exception:
        ok(False, "the browser flows ran to the end", traceback.format_exc())
    finally:
        if d is not None:
            try:
                shot(d, "99-last")
            except Exception:
                pass
            d.quit()
    print("1..%d" % n, flush=True)
    return 1 if failed else 0



def passkey_flows(d):
    """Passkeys with Chromium's virtual authenticator (CTAP2, internal,
    resident keys, user verification): add one on the account page,
    sign in with it alone, use it as the second factor, remove it."""
    from selenium.webdriver.common.virtual_authenticator import VirtualAuthenticatorOptions
    o = VirtualAuthenticatorOptions()
    o.protocol = VirtualAuthenticatorOptions.Protocol.CTAP2
    o.transport = VirtualAuthenticatorOptions.Transport.INTERNAL
    o.has_resident_key = True
    o.has_user_verification = True
    o.is_user_verified = True
    d.add_virtual_authenticator(o)
    u = new_user("p")
    d.get(BASE + "/auth/sign-in?rd=/auth/account")
    sign_in_keyboard(d, u["username"], u["password"])
    until(d, at("/auth/account"))
    name = until(d, EC.element_to_be_clickable((By.ID, "passkey_name")))
    name.send_keys("Test key", Keys.ENTER)
    item = until(d, lambda x: x.find_elements(By.CSS_SELECTOR, "#passkeys li"))
    ok(item and "Test key" in item[0].text, "the account page adds a passkey and lists it", item and item[0].text)
    ok(until(d, lambda x: "passkeys" in text_of(x, "mfa-status")) is not None,
       "... and says password sign-in now asks for it", text_of(d, "mfa-status"))
    shot(d, "17-passkey-added")
    until(d, EC.element_to_be_clickable((By.ID, "sign-out"))).click()
    until(d, at("/auth/sign-in"))

    until(d, EC.element_to_be_clickable((By.ID, "passkey-sign-in"))).send_keys(Keys.ENTER)
    ok(until(d, at("/auth/account")) is not None, "sign in with a passkey alone, no username", d.current_url)
    ok(until(d, lambda x: text_of(x, "p-username") == u["username"]) is not None, "... as its user")
    d.get(BASE + "/demo/mfa/whoami")
    body = d.find_element(By.TAG_NAME, "body").text.replace(" ", "")
    ok(at("/demo/mfa/whoami")(d) and '"user":"%s"' % u["username"] in body,
       "... and that session reaches /demo/mfa/whoami (a passkey is two factors)", body)
    d.get(BASE + "/auth/account")
    until(d, EC.element_to_be_clickable((By.ID, "sign-out"))).click()
    until(d, at("/auth/sign-in"))

    d.get(BASE + "/demo/mfa/whoami")
    until(d, at("/auth/sign-in"))
    sign_in_keyboard(d, u["username"], u["password"])
    use = until(d, EC.element_to_be_clickable((By.ID, "use-passkey")))
    ok(use is not None, "after the password the page offers the passkey as the second factor")
    shot(d, "18-sign-in-passkey-second-factor")
    use.send_keys(Keys.ENTER)
    ok(until(d, at("/demo/mfa/whoami")) is not None, "... which opens the page that needs a second factor",
       d.current_url)

    d.get(BASE + "/auth/account")
    until(d, lambda x: x.find_elements(By.CSS_SELECTOR, "#passkeys li"))
    rename = d.find_element(By.CSS_SELECTOR, "#passkeys li input[name=name]")
    rename.clear()
    rename.send_keys("Renamed key", Keys.ENTER)
    ok(until(d, lambda x: "Renamed key" in (x.execute_script(
        "var e = document.querySelector('#passkeys li strong'); return e ? e.textContent : '';") or "")) is not None,
       "renaming it")
    until(d, EC.element_to_be_clickable((By.CSS_SELECTOR, "#passkeys li button.danger"))).send_keys(Keys.ENTER)
    ok(until(d, lambda x: not x.find_elements(By.CSS_SELECTOR, "#passkeys li")) is not None, "removing it")
    d.remove_virtual_authenticator()


def lifecycle_flows(d):
    """Change the email address on the account page and confirm it from
    the mail; then delete the account, after its confirming step."""
    u = new_user("l")
    d.get(BASE + "/auth/sign-in?rd=/auth/account")
    sign_in_keyboard(d, u["username"], u["password"])
    until(d, at("/auth/account"))
    new = "n" + u["email"]
    box = until(d, EC.element_to_be_clickable((By.ID, "new_email")))
    box.send_keys(new)
    d.find_element(By.ID, "email_password").send_keys("not the password", Keys.ENTER)
    err = until(d, lambda x: x.find_element(By.ID, "email_password-error").text or None)
    ok(err is not None and "not right" in err, "an email change with a wrong password: a message beside it", err)
    pw = d.find_element(By.ID, "email_password")
    pw.clear()
    pw.send_keys(u["password"], Keys.ENTER)
    note = until(d, lambda x: "sent a link" in text_of(x, "notice") and text_of(x, "notice"))
    ok(note is not None and new in note, "... with the password: the page says where the link went", text_of(d, "notice"))
    in_view = d.execute_script("var r = document.getElementById('notice').getBoundingClientRect();"
                               "return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight;")
    ok(in_view, "... brought into view from the form far down the page")
    ok(text_of(d, "p-email") == u["email"], "... and the address is unchanged until it is opened")
    shot(d, "19-email-change-sent")
    link = wait_link(new, "verify-email")
    ok(link is not None, "the link went to the new address", link)
    d.get(link)
    st = until(d, lambda x: "now" in text_of(x, "status") and text_of(x, "status"))
    ok(st is not None and new in st, "the verify page confirms the change and names the address", text_of(d, "status"))
    shot(d, "20-email-changed")
    d.get(BASE + "/auth/account")
    ok(until(d, lambda x: text_of(x, "p-email") == new) is not None, "the account page shows the new address")

    until(d, EC.element_to_be_clickable((By.ID, "delete-start"))).click()
    ok(d.find_element(By.ID, "delete").is_displayed(), "deleting asks first, in a confirming step")
    d.find_element(By.ID, "delete-cancel").click()
    ok(not d.find_element(By.ID, "delete").is_displayed(), "... which can be cancelled")
    until(d, EC.element_to_be_clickable((By.ID, "delete-start"))).click()
    pw = until(d, EC.element_to_be_clickable((By.ID, "delete_password")))
    pw.send_keys("not the password", Keys.ENTER)
    err = until(d, lambda x: x.find_element(By.ID, "delete_password-error").text or None)
    ok(err is not None and "not right" in err, "a wrong password: nothing deleted, a message beside it", err)
    shot(d, "21-delete-confirm")
    pw.clear()
    pw.send_keys(u["password"], Keys.ENTER)
    ok(until(d, lambda x: x.find_element(By.ID, "deleted").is_displayed()) is not None,
       "with the password the account is deleted and the page says so")
    shot(d, "22-deleted")
    st, _ = api("POST", "/auth/login", {"username": u["username"], "password": u["password"]})
    ok(st == 401, "the account no longer signs in", st)
    d.get(BASE + "/demo/whoami")
    ok(until(d, at("/auth/sign-in")) is not None, "the browser is signed out of the protected page", d.current_url)


def token_and_admin_flows(d):
    """Make a personal access token on the account page (shown once,
    copied), use it, revoke it; then an admin finds that user on the
    admin page and disables it."""
    u = new_user("t")
    d.get(BASE + "/auth/sign-in?rd=/auth/account")
    sign_in_keyboard(d, u["username"], u["password"])
    until(d, at("/auth/account"))
    name = until(d, EC.element_to_be_clickable((By.ID, "token_name")))
    name.send_keys("deploy job")
    d.find_element(By.ID, "token_scopes").send_keys("deploy read:logs", Keys.ENTER)
    tok = until(d, lambda x: x.find_element(By.ID, "token-value").text or None)
    ok(tok is not None and re.fullmatch(r"fa_pat_[0-9A-Za-z]{46}", tok) is not None,
       "the account page makes a token and shows it once", tok)
    item = until(d, lambda x: x.find_elements(By.CSS_SELECTOR, "#tokens li"))
    ok(item and "deploy job" in item[0].text and "deploy, read:logs" in item[0].text,
       "... and lists it with its scopes", item and item[0].text)
    ok(tok not in d.find_element(By.ID, "tokens").text, "... the list never shows the secret")
    d.find_element(By.ID, "token-copy").click()
    copied = until(d, lambda x: text_of(x, "token-copied") or None)
    ok(copied is not None, "the copy button answers", copied)
    shot(d, "23-token-made")
    st, me = api("GET", "/auth/me", token=tok)
    ok(st == 200 and me.get("uid"), "the token works on /auth/me", st)
    d.refresh()
    ok(until(d, lambda x: x.find_elements(By.CSS_SELECTOR, "#tokens li")) and
       not d.find_element(By.ID, "token-new").is_displayed(), "after a reload the token is not shown again")
    until(d, EC.element_to_be_clickable((By.CSS_SELECTOR, "#tokens li button.danger"))).click()
    ok(until(d, lambda x: not x.find_elements(By.CSS_SELECTOR, "#tokens li")) is not None, "revoking it")
    st, _ = api("GET", "/auth/me", token=tok)
    ok(st == 401, "... which ends it at once", st)

    d.get(BASE + "/auth/admin")
    err = until(d, lambda x: text_of(x, "page-error") or None)
    ok(err is not None and "administrators" in err, "a user on the admin page is told it is for administrators", err)
    d.delete_all_cookies()
    d.get(BASE + "/auth/sign-in?rd=/auth/admin")
    sign_in_keyboard(d, os.environ["ADMIN_USER"], os.environ["ADMIN_PASSWORD"])
    ok(until(d, at("/auth/admin")) is not None, "an admin signs in to the admin page", d.current_url)
    q = until(d, EC.element_to_be_clickable((By.ID, "q")))
    q.send_keys(u["username"].upper(), Keys.ENTER)
    # The answer to this search, not the first page the admin page showed.
    row = until(d, lambda x: u["username"].upper() in text_of(x, "count") and
                x.find_elements(By.CSS_SELECTOR, "#users tr[data-user-id]"))
    ok(row and len(row) == 1 and u["username"] in row[0].text, "searching finds the user, whatever the case",
       row and [r.text for r in row])
    shot(d, "24-admin-search")
    row[0].find_element(By.TAG_NAME, "button").click()
    state = until(d, lambda x: "disabled" in x.find_element(By.CSS_SELECTOR, "#users tr .state").text)
    ok(state, "Disable: the row says disabled")
    st, body = api("POST", "/auth/login", {"username": u["username"], "password": u["password"]})
    ok(st == 403 and body.get("error") == "account_disabled", "... and the user's login answers account_disabled", st)
    until(d, EC.element_to_be_clickable((By.CSS_SELECTOR, "#users tr button"))).click()
    ok(until(d, lambda x: "active" in x.find_element(By.CSS_SELECTOR, "#users tr .state").text),
       "Enable: active again")
    st, _ = api("POST", "/auth/login", {"username": u["username"], "password": u["password"]})
    ok(st == 200, "... and the user signs in", st)
    shot(d, "25-admin-enabled")


if __name__ == "__main__":
    sys.exit(main())
