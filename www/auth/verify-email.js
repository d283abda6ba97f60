/*
 * /auth/verify-email: the page EMAIL_VERIFY_URL points to, for a new
 * account's link and for an email change's (its answer names the new
 * address).
 */
"use strict";

(function () {
	var token = FA.param("token"), status = FA.$("status");

	if (token) window.history.replaceState(null, "", window.location.pathname);
	if (!token) {
		status.textContent = "This page needs the link from the email we sent you.";
		return;
	}
	FA.call("POST", "/auth/verify-email", { token: token }).then(function (res) {
		if (res.status === 200 && res.body.email)
			status.textContent = "Your email address is now " + res.body.email +
				". Sign in with it from now on; your other devices were signed out.";
		else if (res.status === 200)
			status.textContent = "Your email address is confirmed. Thank you.";
		else if (res.body.error === "email_taken")
			status.textContent = "Another account took that address meanwhile, so your address is unchanged.";
		else
			status.textContent = FA.words(res);
	});
})();
