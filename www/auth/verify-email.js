/* /auth/verify-email: the page EMAIL_VERIFY_URL points to. */
"use strict";

(function () {
	var token = FA.param("token"), status = FA.$("status");

	if (token) window.history.replaceState(null, "", window.location.pathname);
	if (!token) {
		status.textContent = "This page needs the link from the email we sent you.";
		return;
	}
	FA.call("POST", "/auth/verify-email", { token: token }).then(function (res) {
		status.textContent = res.status === 200 ? "Your email address is confirmed. Thank you." : FA.words(res);
	});
})();
