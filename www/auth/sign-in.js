/* /auth/sign-in: username or email + password, then back to rd. */
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
			FA.failed(form, res, { invalid_credentials: "password" });
		});
	});
})();
