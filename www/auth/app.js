/*
 * fcgi-auth hosted pages: what every page shares. The pages call the
 * JSON API under /api/v1 with fetch. No credential is ever stored by a
 * script: the browser session and refresh cookies are HttpOnly, and the
 * account page keeps its access token in a variable only.
 */
"use strict";

var FA = (function () {
	var API = "/api/v1";

	/* The API's error codes, in words for people. */
	var WORDS = {
		invalid_credentials: "The username, email or password is wrong.",
		rate_limited: "Too many attempts. Please wait a moment and try again.",
		email_not_verified: "Please confirm your email address first: we sent you a link.",
		username_taken: "That username is taken.",
		email_taken: "An account with that email address already exists.",
		weak_password: "Please choose a stronger password.",
		invalid_token: "This link is not valid any more. It may have been used or have expired.",
		service_unavailable: "The service is busy or down. Please try again in a moment.",
		internal_error: "Something went wrong on our side. Please try again.",
		payload_too_large: "That is too long.",
		forbidden: "This request was refused.",
		account_disabled: "This account is disabled."
	};

	/* fetch an API route: {status, body, headers}; never throws. */
	function call(method, path, body, token) {
		var init = { method: method, credentials: "same-origin", headers: { Accept: "application/json" } };
		if (body !== undefined) {
			init.headers["Content-Type"] = "application/json";
			init.body = JSON.stringify(body);
		}
		if (token) init.headers.Authorization = "Bearer " + token;
		return fetch(API + path, init).then(function (res) {
			return res.text().then(function (text) {
				var json = null;
				try { json = text ? JSON.parse(text) : null; } catch (e) { json = null; }
				return { status: res.status, body: json || {}, headers: res.headers };
			});
		}, function () {
			return { status: 0, body: { error: "service_unavailable" }, headers: new Headers() };
		});
	}

	/* A response's error in words (the API's own message as a fallback). */
	function words(res) {
		var b = res.body || {};
		if (b.error === "rate_limited") {
			var after = res.headers.get("Retry-After");
			if (after) return "Too many attempts. Please try again in " + after + " seconds.";
		}
		if (b.error === "weak_password" && b.message) return b.message + ".";
		if (b.error && WORDS[b.error] && b.error !== "invalid_request") return WORDS[b.error];
		if (b.message) return b.message.replace(/^Field '([^']+)' /, function (m, f) {
			return f.replace(/_/g, " ").replace(/^./, function (c) { return c.toUpperCase(); }) + " ";
		});
		return WORDS.internal_error;
	}

	function $(id) { return document.getElementById(id); }

	/* Clear a form's errors. */
	function clear(form) {
		Array.prototype.forEach.call(form.querySelectorAll(".error"), function (e) { e.textContent = ""; });
		Array.prototype.forEach.call(form.querySelectorAll("input"), function (i) { i.removeAttribute("aria-invalid"); });
	}

	/* Show msg beside field `name` of form (or the form's own error line). */
	function fail(form, name, msg) {
		var input = name ? form.querySelector("[name='" + name + "']") : null;
		var line = input ? $(input.id + "-error") : null;
		if (!line) line = form.querySelector(".form-error");
		if (input) {
			input.setAttribute("aria-invalid", "true");
			input.focus();
		}
		line.textContent = msg;
	}

	/* Show an API failure where it belongs. */
	function failed(form, res, fieldFor) {
		var b = res.body || {};
		var name = b.field || (fieldFor && fieldFor[b.error]) || null;
		fail(form, name, words(res));
	}

	function busy(form, on) {
		Array.prototype.forEach.call(form.querySelectorAll("button"), function (b) { b.disabled = on; });
	}

	/* Say what a form did in the page's notice line, and bring the line
	 * into view: a form far down the page must not answer off-screen. */
	function say(text) {
		var n = $("notice"), r;
		n.textContent = text;
		r = n.getBoundingClientRect();
		if (text && (r.top < 0 || r.bottom > window.innerHeight)) n.scrollIntoView({ block: "nearest" });
	}

	function param(name) {
		return new URLSearchParams(window.location.search).get(name);
	}

	/* Where rd may lead (the service knows AUTH_ALLOWED_ORIGINS). */
	function target(rd) {
		if (!rd) return Promise.resolve("/auth/account");
		return call("GET", "/auth/redirect?rd=" + encodeURIComponent(rd)).then(function (res) {
			return res.status === 200 && res.body.redirect_to ? res.body.redirect_to : "/auth/account";
		});
	}

	/* An access token for this page, from the refresh cookie. */
	function session() {
		return call("POST", "/auth/refresh").then(function (res) {
			return res.status === 200 ? res.body : null;
		});
	}

	/*
	 * A signed-in page's calls: its access token, from the refresh
	 * cookie, lives in this variable only, and is refreshed once when a
	 * call answers 401; without a session the page goes to sign-in.
	 */
	var token = null;

	function toSignIn() {
		window.location.replace("/auth/sign-in?prompt=login&rd=" + encodeURIComponent(window.location.pathname));
	}

	function authed(method, path, body) {
		return call(method, path, body, token).then(function (res) {
			if (res.status !== 401) return res;
			return session().then(function (s) {
				if (!s) { toSignIn(); return res; }
				token = s.access_token;
				return call(method, path, body, token);
			});
		});
	}

	/* The page's session, or to sign-in: a Promise of it, or of null. */
	function signedIn() {
		return session().then(function (s) {
			if (!s) { toSignIn(); return null; }
			token = s.access_token;
			return s;
		});
	}

	function forget() { token = null; }

	/* base64url <-> ArrayBuffer, for WebAuthn's JSON forms */
	function b64u(buf) {
		var s = "", b = new Uint8Array(buf), i;
		for (i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
		return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
	}
	function unb64u(str) {
		var s = atob(str.replace(/-/g, "+").replace(/_/g, "/")), b = new Uint8Array(s.length), i;
		for (i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
		return b.buffer;
	}

	/* A passkey ceremony from the API's options ({publicKey}); the
	 * credential in the JSON form the API takes, or null (cancelled). */
	function passkey(kind, options) {
		var pk = options.publicKey;
		pk.challenge = unb64u(pk.challenge);
		if (pk.user) pk.user.id = unb64u(pk.user.id);
		(pk.excludeCredentials || pk.allowCredentials || []).forEach(function (d) { d.id = unb64u(d.id); });
		var p = kind === "create" ? navigator.credentials.create({ publicKey: pk }) :
			navigator.credentials.get({ publicKey: pk });
		return p.then(function (c) {
			var r = c.response, out = { id: c.id, rawId: b64u(c.rawId), type: c.type,
				response: { clientDataJSON: b64u(r.clientDataJSON) } };
			if (r.attestationObject) out.response.attestationObject = b64u(r.attestationObject);
			if (r.authenticatorData) out.response.authenticatorData = b64u(r.authenticatorData);
			if (r.signature) out.response.signature = b64u(r.signature);
			if (r.userHandle) out.response.userHandle = b64u(r.userHandle);
			return out;
		}, function () { return null; });
	}

	return { call: call, words: words, $: $, say: say, clear: clear, fail: fail, failed: failed, busy: busy,
		param: param, target: target, session: session, passkey: passkey,
		authed: authed, signedIn: signedIn, forget: forget,
		passkeys: !!(window.PublicKeyCredential && navigator.credentials) };
})();
