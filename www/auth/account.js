/*
 * /auth/account: profile, sessions (this device marked, revoke one, sign
 * out, sign out everywhere), two-step verification (TOTP: set up with
 * a QR code, recovery codes shown once, new codes, turn off), passkeys,
 * password change, email change, account deletion (after a confirming
 * step). The access token comes
 * from the refresh cookie and lives in a variable of this page only.
 */
"use strict";

(function () {
	var authed = FA.authed;

	function when(t) {
		return t ? new Date(t * 1000).toLocaleString() : "";
	}

	function profile() {
		return authed("GET", "/user/info").then(function (res) {
			if (res.status !== 200) { FA.$("page-error").textContent = FA.words(res); return; }
			var u = res.body;
			FA.$("p-username").textContent = u.username;
			FA.$("p-email").textContent = u.email;
			FA.$("p-verified").textContent = u.email_verified ? "yes" : "not yet";
			FA.$("p-created").textContent = when(u.created_at);
			FA.$("profile").display_name.value = u.display_name || "";
		});
	}

	function sessionItem(s) {
		var li = document.createElement("li"), title = document.createElement("strong");
		var info = document.createElement("div");
		title.textContent = s.user_agent || "Unknown device";
		li.appendChild(title);
		if (s.current) {
			var tag = document.createElement("span");
			tag.className = "tag";
			tag.textContent = "this device";
			li.appendChild(tag);
			li.className = "current";
		}
		info.className = "hint";
		info.textContent = "Address " + (s.ip || "unknown") + " \u00b7 signed in " + when(s.created_at) +
			" \u00b7 last active " + when(s.last_used_at);
		li.appendChild(info);
		li.setAttribute("data-session-id", s.session_id);
		if (!s.current) {
			var b = document.createElement("button");
			b.type = "button";
			b.className = "secondary";
			b.textContent = "Sign this device out";
			b.setAttribute("aria-label", "Sign out " + title.textContent + ", signed in " + when(s.created_at));
			b.addEventListener("click", function () { revoke(s.session_id, b); });
			li.appendChild(b);
		}
		return li;
	}

	function sessions() {
		return authed("GET", "/auth/sessions").then(function (res) {
			var list = FA.$("sessions");
			if (res.status !== 200) { FA.$("sessions-error").textContent = FA.words(res); return; }
			list.textContent = "";
			res.body.sessions.forEach(function (s) { list.appendChild(sessionItem(s)); });
		});
	}

	function revoke(id, button) {
		button.disabled = true;
		authed("DELETE", "/auth/sessions/" + encodeURIComponent(id)).then(function (res) {
			if (res.status !== 200 && res.status !== 404) {
				button.disabled = false;
				FA.$("sessions-error").textContent = FA.words(res);
				return;
			}
			FA.say("That device is signed out.");
			sessions().then(function () { FA.$("sign-out").focus(); });
		});
	}

	/* Sign out with the cookies, which the answer clears. */
	function signOut(path) {
		FA.call("POST", path).then(function (res) {
			if (res.status === 200 || res.status === 401) {
				FA.forget();
				window.location.assign("/auth/sign-in");
			} else {
				FA.$("sessions-error").textContent = FA.words(res);
			}
		});
	}

	FA.$("sign-out").addEventListener("click", function () { signOut("/auth/logout"); });
	FA.$("sign-out-all").addEventListener("click", function () { signOut("/auth/logout-all"); });

	FA.$("profile").addEventListener("submit", function (ev) {
		var form = ev.target;
		ev.preventDefault();
		FA.clear(form);
		FA.busy(form, true);
		authed("PATCH", "/user/info", { display_name: form.display_name.value }).then(function (res) {
			FA.busy(form, false);
			if (res.status !== 200) return FA.failed(form, res);
			FA.say("Your profile is saved.");
		});
	});

	FA.$("password").addEventListener("submit", function (ev) {
		var form = ev.target;
		ev.preventDefault();
		FA.clear(form);
		var cur = form.current_password.value, a = form.new_password.value, b = form.new_password_confirm.value;
		if (!cur) return FA.fail(form, "current_password", "Please enter your current password.");
		if (a.length < 8) return FA.fail(form, "new_password", "The password must have at least 8 characters.");
		if (a !== b) return FA.fail(form, "new_password_confirm", "The two passwords are not the same.");
		FA.busy(form, true);
		authed("POST", "/auth/password", { current_password: cur, new_password: a }).then(function (res) {
			FA.busy(form, false);
			if (res.status !== 200)
				return FA.failed(form, res, { invalid_credentials: "current_password", weak_password: "new_password" });
			form.reset();
			FA.say("Your password is changed. Every other device was signed out.");
			sessions();
		});
	});

	/* --- two-step verification ---------------------------------- */
	function show(id, on) { FA.$(id).hidden = !on; }

	function mfa() {
		return authed("GET", "/auth/mfa").then(function (res) {
			if (res.status !== 200) { FA.$("mfa-status").textContent = FA.words(res); return; }
			var on = res.body.totp;
			/* with TOTP on, an email change or a deletion asks for a code */
			Array.prototype.forEach.call(document.querySelectorAll(".needs-code"), function (d) { d.hidden = !on; });
			FA.$("mfa-status").textContent = on ?
				"On: signing in asks for a code from your authenticator app. Recovery codes left: " +
				res.body.recovery_codes_remaining + "." :
				res.body.passkeys > 0 ? "Off. Signing in with your password also asks for one of your passkeys." :
				"Off: signing in asks for your password only.";
			show("mfa-setup", !on);
			show("mfa-confirm", false);
			show("mfa-new-codes", on);
			show("mfa-remove", on);
		});
	}

	function showCodes(codes) {
		var list = FA.$("mfa-codes-list");
		list.textContent = "";
		codes.forEach(function (c) {
			var li = document.createElement("li");
			li.textContent = c;
			list.appendChild(li);
		});
		show("mfa-codes", true);
	}

	FA.$("mfa-setup").addEventListener("submit", function (ev) {
		var form = ev.target;
		ev.preventDefault();
		FA.clear(form);
		if (!form.password.value) return FA.fail(form, "password", "Please enter your password.");
		FA.busy(form, true);
		authed("POST", "/auth/mfa/totp", { password: form.password.value }).then(function (res) {
			FA.busy(form, false);
			if (res.status !== 200) return FA.failed(form, res, { invalid_credentials: "password" });
			form.reset();
			show("mfa-setup", false);
			if (res.body.qr_svg) FA.$("mfa-qr").src = "data:image/svg+xml;base64," + btoa(res.body.qr_svg);
			FA.$("mfa-secret").textContent = res.body.secret.replace(/(.{4})/g, "$1 ").trim();
			show("mfa-confirm", true);
			FA.$("mfa_code").focus();
		});
	});

	/* A form that sends a 6-digit code to path and answers recovery codes. */
	function codeForm(id, path, wrong, done) {
		FA.$(id).addEventListener("submit", function (ev) {
			var form = ev.target;
			ev.preventDefault();
			FA.clear(form);
			var code = form.code.value.replace(/\s+/g, "");
			if (!/^[0-9]{6}$/.test(code)) return FA.fail(form, "code", "The code has 6 digits.");
			FA.busy(form, true);
			authed("POST", path, { code: code }).then(function (res) {
				FA.busy(form, false);
				if (res.status !== 200)
					return FA.fail(form, "code", res.body.error === "invalid_credentials" ? wrong : FA.words(res));
				form.reset();
				showCodes(res.body.recovery_codes);
				done();
			});
		});
	}

	codeForm("mfa-confirm", "/auth/mfa/totp/confirm",
		"That code is not right. Check the time on your phone, and wait for the next code.", function () {
			/* not FA.say: the codes shown below are what to look at */
			FA.$("notice").textContent = "Two-step verification is on. Your other devices were signed out.";
			mfa().then(sessions);
		});
	codeForm("mfa-new-codes", "/auth/mfa/recovery-codes", "That code is not right.", function () {
		/* not FA.say: the codes shown below are what to look at */
		FA.$("notice").textContent = "New recovery codes: the old ones no longer work.";
		mfa();
	});

	FA.$("mfa-remove").addEventListener("submit", function (ev) {
		var form = ev.target;
		ev.preventDefault();
		FA.clear(form);
		if (!form.password.value) return FA.fail(form, "password", "Please enter your password.");
		FA.busy(form, true);
		authed("DELETE", "/auth/mfa/totp", { password: form.password.value }).then(function (res) {
			FA.busy(form, false);
			if (res.status !== 200) return FA.failed(form, res, { invalid_credentials: "password" });
			form.reset();
			show("mfa-codes", false);
			FA.say("Two-step verification is off. Your other devices were signed out.");
			mfa().then(sessions);
		});
	});

	/* --- passkeys ----------------------------------------------- */
	function passkeyItem(k) {
		var li = document.createElement("li"), title = document.createElement("strong");
		var info = document.createElement("div"), rename = document.createElement("form");
		var label = document.createElement("label"), input = document.createElement("input");
		var save = document.createElement("button"), del = document.createElement("button");
		li.setAttribute("data-passkey-id", k.passkey_id);
		title.textContent = k.name;
		li.appendChild(title);
		info.className = "hint";
		info.textContent = "Added " + when(k.created_at) + " \u00b7 " +
			(k.last_used_at ? "last used " + when(k.last_used_at) : "not used yet");
		li.appendChild(info);
		label.textContent = "New name";
		label.htmlFor = input.id = "rename-" + k.passkey_id;
		input.type = "text";
		input.name = "name";
		input.maxLength = 64;
		input.value = k.name;
		save.type = "submit";
		save.className = "secondary";
		save.textContent = "Rename";
		rename.appendChild(label);
		rename.appendChild(input);
		rename.appendChild(save);
		rename.addEventListener("submit", function (ev) {
			ev.preventDefault();
			authed("PATCH", "/auth/passkeys/" + encodeURIComponent(k.passkey_id), { name: input.value }).then(function (res) {
				if (res.status !== 200) { FA.$("passkey-add-error").textContent = FA.words(res); return; }
				FA.say("The passkey is renamed.");
				passkeys();
			});
		});
		li.appendChild(rename);
		del.type = "button";
		del.className = "danger";
		del.textContent = "Remove";
		del.setAttribute("aria-label", "Remove the passkey " + k.name);
		del.addEventListener("click", function () {
			authed("DELETE", "/auth/passkeys/" + encodeURIComponent(k.passkey_id)).then(function (res) {
				if (res.status !== 200) { FA.$("passkey-add-error").textContent = FA.words(res); return; }
				FA.say("The passkey is removed.");
				passkeys();
			});
		});
		li.appendChild(del);
		return li;
	}

	function passkeys() {
		return authed("GET", "/auth/passkeys").then(function (res) {
			var list = FA.$("passkeys");
			list.textContent = "";
			if (res.status !== 200) return;
			res.body.passkeys.forEach(function (k) { list.appendChild(passkeyItem(k)); });
		});
	}

	FA.$("passkey-add").addEventListener("submit", function (ev) {
		var form = ev.target;
		ev.preventDefault();
		FA.clear(form);
		if (!FA.passkeys) return FA.fail(form, null, "This browser does not support passkeys.");
		FA.busy(form, true);
		authed("POST", "/auth/passkeys/register/options").then(function (res) {
			if (res.status !== 200) { FA.busy(form, false); return FA.failed(form, res); }
			return FA.passkey("create", res.body).then(function (cred) {
				if (!cred) {
					FA.busy(form, false);
					return FA.fail(form, null, "No passkey was made. You can try again.");
				}
				return authed("POST", "/auth/passkeys/register", { credential: cred, name: form.name.value.trim() })
					.then(function (r) {
						FA.busy(form, false);
						if (r.status !== 201) return FA.failed(form, r);
						form.reset();
						FA.say("The passkey is added.");
						passkeys();
						mfa();
					});
			});
		});
	});

	/* --- email change, deletion ---------------------------------- */
	FA.$("email").addEventListener("submit", function (ev) {
		var form = ev.target, to = form.new_email.value.trim();
		ev.preventDefault();
		FA.clear(form);
		if (!/^[^@\s]+@[^@\s]+$/.test(to)) return FA.fail(form, "new_email", "Please enter an email address.");
		if (!form.password.value) return FA.fail(form, "password", "Please enter your password.");
		var body = { new_email: to, password: form.password.value };
		if (form.code.value.trim()) body.code = form.code.value.replace(/\s+/g, "");
		FA.busy(form, true);
		authed("POST", "/auth/email", body).then(function (res) {
			FA.busy(form, false);
			if (res.status !== 200) {
				if (res.body.error === "invalid_credentials" && !/code/i.test(res.body.message || ""))
					return FA.fail(form, "password", "That password is not right.");
				return FA.failed(form, res, { invalid_credentials: "code", email_taken: "new_email" });
			}
			form.reset();
			FA.say("We sent a link to " + to + ". Open it to finish the change.");
		});
	});

	FA.$("delete-start").addEventListener("click", function () {
		FA.$("delete-start").hidden = true;
		FA.$("delete").hidden = false;
		FA.$("delete_password").focus();
	});
	FA.$("delete-cancel").addEventListener("click", function () {
		var form = FA.$("delete");
		form.reset();
		FA.clear(form);
		form.hidden = true;
		FA.$("delete-start").hidden = false;
		FA.$("delete-start").focus();
	});
	FA.$("delete").addEventListener("submit", function (ev) {
		var form = ev.target;
		ev.preventDefault();
		FA.clear(form);
		if (!form.password.value) return FA.fail(form, "password", "Please enter your password.");
		var body = { password: form.password.value };
		if (form.code.value.trim()) body.code = form.code.value.replace(/\s+/g, "");
		FA.busy(form, true);
		authed("POST", "/user/delete", body).then(function (res) {
			FA.busy(form, false);
			if (res.status !== 200) {
				if (res.body.error === "invalid_credentials" && !/code/i.test(res.body.message || ""))
					return FA.fail(form, "password", "That password is not right.");
				return FA.failed(form, res, { invalid_credentials: "code" });
			}
			FA.forget();
			FA.$("account").hidden = true;
			FA.say("");
			FA.$("deleted").hidden = false;
		});
	});

	/* --- personal access tokens --------------------------------- */
	function tokenItem(t) {
		var li = document.createElement("li"), title = document.createElement("strong");
		var info = document.createElement("div"), del = document.createElement("button");
		li.setAttribute("data-token-id", t.token_id);
		title.textContent = t.name;
		li.appendChild(title);
		info.className = "hint";
		info.textContent = (t.scopes.length ? "Scopes " + t.scopes.join(", ") : "No scopes") +
			" \u00b7 made " + when(t.created_at) + " \u00b7 expires " + when(t.expires_at) + " \u00b7 " +
			(t.last_used_at ? "last used " + when(t.last_used_at) : "not used yet");
		li.appendChild(info);
		del.type = "button";
		del.className = "danger";
		del.textContent = "Revoke";
		del.setAttribute("aria-label", "Revoke the token " + t.name);
		del.addEventListener("click", function () {
			del.disabled = true;
			authed("DELETE", "/auth/tokens/" + encodeURIComponent(t.token_id)).then(function (res) {
				if (res.status !== 200 && res.status !== 404) {
					del.disabled = false;
					FA.$("token-error").textContent = FA.words(res);
					return;
				}
				FA.say("The token is revoked: it no longer works.");
				tokens();
			});
		});
		li.appendChild(del);
		return li;
	}

	function tokens() {
		return authed("GET", "/auth/tokens").then(function (res) {
			var list = FA.$("tokens");
			list.textContent = "";
			if (res.status !== 200) { FA.$("token-error").textContent = FA.words(res); return; }
			res.body.tokens.forEach(function (t) { list.appendChild(tokenItem(t)); });
		});
	}

	FA.$("token-add").addEventListener("submit", function (ev) {
		var form = ev.target, name = form.name.value.trim();
		var scopes = form.scopes.value.split(/[\s,]+/).filter(function (x) { return x; });
		ev.preventDefault();
		FA.clear(form);
		FA.$("token-new").hidden = true;
		if (!name) return FA.fail(form, "name", "Please name the token: what is it for?");
		FA.busy(form, true);
		authed("POST", "/auth/tokens", { name: name, expires_in: Number(form.expires_in.value), scopes: scopes })
			.then(function (res) {
				FA.busy(form, false);
				if (res.status !== 201) return FA.failed(form, res);
				form.reset();
				FA.$("token-value").textContent = res.body.token;
				FA.$("token-copied").textContent = "";
				FA.$("token-new").hidden = false;
				FA.$("token-copy").focus();
				tokens();
			});
	});

	FA.$("token-copy").addEventListener("click", function () {
		var text = FA.$("token-value").textContent, done = function (ok) {
			FA.$("token-copied").textContent = ok ? "Copied." : "Select the token and copy it.";
		};
		if (navigator.clipboard && navigator.clipboard.writeText)
			navigator.clipboard.writeText(text).then(function () { done(true); }, function () { done(false); });
		else
			done(false);
	});

	FA.signedIn().then(function (s) {
		if (!s) return;
		FA.$("account").hidden = false;
		return Promise.all([profile(), sessions(), mfa(), passkeys(), tokens()]);
	});
})();
