/*
 * /auth/admin: search users (GET /admin/users, keyset pages with "More
 * users") and disable or enable them (PATCH /admin/users/{id}). For
 * role admin: anyone else is told so, and nothing is shown.
 */
"use strict";

(function () {
	var next = null, query = "", asked = 0;

	function when(t) {
		return t ? new Date(t * 1000).toLocaleString() : "never";
	}

	function cell(tr, text, cls) {
		var td = document.createElement("td");
		td.textContent = text;
		if (cls) td.className = cls;
		tr.appendChild(td);
		return td;
	}

	function row(u) {
		var tr = document.createElement("tr"), who = document.createElement("td");
		var name = document.createElement("strong"), mail = document.createElement("div");
		var act = document.createElement("td"), b = document.createElement("button");
		tr.setAttribute("data-user-id", u.user_id);
		name.textContent = u.username;
		mail.className = "hint";
		mail.textContent = u.email + (u.email_verified ? "" : " (not confirmed)");
		who.appendChild(name);
		who.appendChild(mail);
		tr.appendChild(who);
		cell(tr, u.role);
		cell(tr, (u.disabled ? "disabled" : "active") + (u.mfa ? ", two-step" : ""), "state");
		cell(tr, when(u.last_login_at));
		b.type = "button";
		b.className = u.disabled ? "secondary" : "danger";
		b.textContent = u.disabled ? "Enable" : "Disable";
		b.setAttribute("aria-label", b.textContent + " " + u.username);
		b.addEventListener("click", function () { toggle(u, tr, b); });
		act.appendChild(b);
		tr.appendChild(act);
		return tr;
	}

	function toggle(u, tr, b) {
		b.disabled = true;
		FA.authed("PATCH", "/admin/users/" + encodeURIComponent(u.user_id), { disabled: !u.disabled }).then(function (res) {
			if (res.status !== 200) {
				b.disabled = false;
				FA.$("search-error").textContent = FA.words(res) + (res.body.message ? " " + res.body.message + "." : "");
				return;
			}
			var fresh = row(res.body);
			tr.parentNode.replaceChild(fresh, tr);
			FA.$("notice").textContent = res.body.username + (res.body.disabled ?
				" is disabled: every session and token of the account ended." : " is enabled again.");
			fresh.querySelector("button").focus();
		});
	}

	function load(more) {
		var path = "/admin/users?limit=25&q=" + encodeURIComponent(query) + (more && next ? "&after=" + encodeURIComponent(next) : "");
		var mine = ++asked;
		return FA.authed("GET", path).then(function (res) {
			var list = FA.$("users");
			if (mine !== asked) return; /* a later search (or page) was asked for: its answer wins */
			if (res.status === 403) {
				FA.$("admin").hidden = true;
				FA.$("page-error").textContent = "This page is for administrators.";
				return;
			}
			if (res.status !== 200) { FA.$("search-error").textContent = FA.words(res); return; }
			FA.$("admin").hidden = false;
			if (!more) list.textContent = "";
			res.body.users.forEach(function (u) { list.appendChild(row(u)); });
			next = res.body.next;
			FA.$("more").hidden = !next;
			var n = list.children.length;
			FA.$("count").textContent = n + (next ? "+" : "") + (n === 1 && !next ? " user" : " users") +
				(query ? " matching \u201c" + query + "\u201d" : "");
		});
	}

	FA.$("search").addEventListener("submit", function (ev) {
		ev.preventDefault();
		FA.clear(ev.target);
		FA.$("search-error").textContent = "";
		query = ev.target.q.value.trim();
		FA.$("more").hidden = true; /* the last list's next page is not this search's */
		load(false);
	});
	FA.$("more").addEventListener("click", function () { load(true); });

	FA.signedIn().then(function (s) {
		if (s) load(false);
	});
})();
