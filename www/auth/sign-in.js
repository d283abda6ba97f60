/*
 * /auth/sign-in: username or email + password, then the second factor
 * when the account has one (a code, a recovery code, or a passkey), then
 * back to rd; or a passkey alone.
 */
"use strict";

(function () {
	var form = FA.$("sign-in");
	var rd = FA.param("rd");
	var where = FA.target(rd);

	if (rd) FA.$("sign-up-link").href = "/auth/sign-up?rd=" + encodeURIComponent(rd);

	/* Already signed in (and not asked to sign in afresh): go on. */
	if (FA.param("prompt") !== "login") {
		FA.call("GET", "/auth/check").then(function (res) {
			if (res.status === 200) where.then(function (to) { window.location.replace(to); });
		});
	} else {
		FA.$("notice").textContent = "Please sign in again to continue.";
	}

	form.addEventListener("submit", function (ev) {
		ev.preventDefault();
		FA.clear(form);
		var username = form.username.value.trim(), password = form.password.value;
		if (!username) return FA.fail(form, "username", "Please enter your username or email address.");
		if (!password) return FA.fail(form, "password", "Please enter your password.");
		FA.busy(form, true);
		FA.call("POST", "/auth/login", { username: username, password: password }).then(function (res) {
			if (res.status === 200) {
				where.then(function (to) { window.location.assign(to); });
				return;
			}
			FA.busy(form, false);
			if (res.status === 403 && res.body.error === "mfa_required")
				return secondStep(res.body.mfa_token, res.body.methods || []);
			FA.failed(form, res, { invalid_credentials: "password" });
		});
	});

	/* The second factor: the ticket lives in this closure only. */
	var second = FA.$("second-factor"), ticket = null, recovery = false;

	function secondStep(mfaToken, methods) {
		ticket = mfaToken;
		form.password.value = "";
		form.hidden = true;
		second.hidden = false;
		var hasCode = methods.indexOf("totp") >= 0, hasKey = methods.indexOf("passkey") >= 0 && FA.passkeys;
		FA.$("use-passkey").hidden = !hasKey;
		FA.$("use-passkey").textContent = hasCode ? "Use a passkey instead" : "Use your passkey";
		FA.$("use-recovery").hidden = !hasCode;
		FA.$("code-field").hidden = !hasCode;
		second.querySelector("button[type=submit]").hidden = !hasCode;
		if (!hasCode) FA.$("second-factor-intro").textContent = "Confirm with your passkey.";
		if (hasCode) second.code.focus();
		else FA.$("use-passkey").focus();
	}

	/* A passkey: alone (no username), or as the second factor. */
	function withPasskey(errorForm) {
		var body = ticket ? { mfa_token: ticket } : {};
		FA.clear(errorForm);
		FA.call("POST", "/auth/passkeys/login/options", body).then(function (res) {
			if (res.status !== 200) return FA.failed(errorForm, res);
			return FA.passkey("get", res.body).then(function (cred) {
				if (!cred) return FA.fail(errorForm, null, "The passkey was not used. You can try again.");
				var b = { credential: cred };
				if (ticket) b.mfa_token = ticket;
				return FA.call("POST", "/auth/passkeys/login", b).then(function (r) {
					if (r.status === 200) return where.then(function (to) { window.location.assign(to); });
					FA.fail(errorForm, null, r.body.error === "invalid_credentials" ?
						"That passkey was not accepted." : FA.words(r));
				});
			});
		});
	}
	if (FA.passkeys) {
		FA.$("passkey-sign-in").hidden = false;
		FA.$("passkey-sign-in").addEventListener("click", function () { withPasskey(form); });
	}
	FA.$("use-passkey").addEventListener("click", function () { withPasskey(second); });

	FA.$("use-recovery").addEventListener("click", function () {
		recovery = !recovery;
		FA.clear(second);
		FA.$("code-field").hidden = recovery;
		FA.$("recovery-field").hidden = !recovery;
		FA.$("second-factor-intro").textContent = recovery ?
			"Enter one of the recovery codes you saved when you set up two-step verification. Each works once." :
			"Enter the 6-digit code from your authenticator app.";
		this.textContent = recovery ? "Use a code from the app instead" : "Use a recovery code instead";
		(recovery ? second.recovery_code : second.code).focus();
	});

	second.addEventListener("submit", function (ev) {
		ev.preventDefault();
		FA.clear(second);
		var body = { mfa_token: ticket }, name = recovery ? "recovery_code" : "code";
		var value = second[name].value.replace(/\s+/g, "");
		if (!recovery && !/^[0-9]{6}$/.test(value)) return FA.fail(second, "code", "The code has 6 digits.");
		if (recovery && !value) return FA.fail(second, "recovery_code", "Please enter a recovery code.");
		body[name] = value;
		FA.busy(second, true);
		FA.call("POST", "/auth/mfa/verify", body).then(function (res) {
			if (res.status === 200) {
				where.then(function (to) { window.location.assign(to); });
				return;
			}
			FA.busy(second, false);
			if (res.body.error === "invalid_token") {
				/* the ticket expired or was used up: start again */
				second.hidden = true;
				form.hidden = false;
				FA.fail(form, "password", "That took too long or too many tries. Please sign in again.");
				return;
			}
			if (res.body.error === "invalid_credentials")
				return FA.fail(second, name, recovery ? "That recovery code is not right, or was used already." :
					"That code is not right. Check the time on your phone, and wait for the next code.");
			FA.failed(second, res);
		});
	});
})();
