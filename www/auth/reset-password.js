/*
 * /auth/reset-password: the page RESET_PASSWORD_URL points to. With
 * ?token= (the link from the mail): the new password twice, then done.
 * Without: ask for the link. The token leaves the address bar at once.
 */
"use strict";

(function () {
	var token = FA.param("token");
	var request = FA.$("request"), reset = FA.$("reset"), notice = FA.$("notice");

	if (token) window.history.replaceState(null, "", window.location.pathname);
	(token ? reset : request).hidden = false;

	request.addEventListener("submit", function (ev) {
		ev.preventDefault();
		FA.clear(request);
		var email = request.email.value.trim();
		if (!email) return FA.fail(request, "email", "Please enter your email address.");
		FA.busy(request, true);
		FA.call("POST", "/auth/password-reset", { email: email }).then(function (res) {
			FA.busy(request, false);
			if (res.status !== 200) return FA.failed(request, res);
			request.hidden = true;
			notice.textContent = "If an account with that address exists, we sent it a link. It is valid for 30 minutes.";
		});
	});

	reset.addEventListener("submit", function (ev) {
		ev.preventDefault();
		FA.clear(reset);
		var a = reset.new_password.value, b = reset.new_password_confirm.value;
		if (a.length < 8) return FA.fail(reset, "new_password", "The password must have at least 8 characters.");
		if (a !== b) return FA.fail(reset, "new_password_confirm", "The two passwords are not the same.");
		FA.busy(reset, true);
		FA.call("POST", "/auth/password-reset-confirm", { token: token, new_password: a, new_password_confirm: b }).then(function (res) {
			FA.busy(reset, false);
			if (res.status !== 200)
				return FA.failed(reset, res, { weak_password: "new_password", invalid_token: null });
			reset.hidden = true;
			notice.textContent = "Your password has been reset, and every session of your account was signed out. You can sign in with the new password now.";
		});
	});
})();
