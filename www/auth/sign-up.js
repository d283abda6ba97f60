/*
 * /auth/sign-up: register; when the service requires an emailed code,
 * ask for one and then for the code; then sign in and go on to rd.
 */
"use strict";

(function () {
	var form = FA.$("sign-up");
	var rd = FA.param("rd");
	if (rd) FA.$("sign-in-link").href = "/auth/sign-in?rd=" + encodeURIComponent(rd);

	function sendCode() {
		FA.clear(form);
		return FA.call("POST", "/auth/captcha", { email: form.email.value.trim() }).then(function (res) {
			if (res.status === 200) {
				FA.$("code-step").hidden = false;
				FA.$("notice").textContent = "We sent a code to " + form.email.value.trim() + ".";
				form.captcha.focus();
			} else {
				FA.failed(form, res, { rate_limited: "captcha" });
			}
		});
	}

	FA.$("resend").addEventListener("click", sendCode);

	form.addEventListener("submit", function (ev) {
		ev.preventDefault();
		FA.clear(form);
		var body = { username: form.username.value.trim(), email: form.email.value.trim(), password: form.password.value };
		if (!body.username) return FA.fail(form, "username", "Please choose a username.");
		if (!body.email) return FA.fail(form, "email", "Please enter your email address.");
		if (body.password.length < 8) return FA.fail(form, "password", "The password must have at least 8 characters.");
		if (!FA.$("code-step").hidden) body.captcha = form.captcha.value.trim();
		FA.busy(form, true);
		FA.call("POST", "/auth/register", body).then(function (res) {
			if (res.status === 201) return signIn(body);
			FA.busy(form, false);
			if (res.body.field === "captcha" && FA.$("code-step").hidden) return sendCode();
			FA.failed(form, res, { weak_password: "password", username_taken: "username", email_taken: "email" });
		});
	});

	function signIn(body) {
		FA.call("POST", "/auth/login", { username: body.username, password: body.password }).then(function (res) {
			if (res.status === 200) {
				FA.target(rd).then(function (to) { window.location.assign(to); });
				return;
			}
			FA.busy(form, false);
			form.hidden = true;
			FA.$("notice").textContent = res.body.error === "email_not_verified" ?
				"Your account is created. Please confirm your email address with the link we sent you, then sign in." :
				"Your account is created. You can sign in now.";
		});
	}
})();
