"""The console's HTTP protections, checked with a plain HTTP client against the real server."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.e2e.console.support import ADMIN, Server

pytestmark = pytest.mark.e2e


def _login_form(client: httpx.Client, server: Server) -> str:
    """Open the sign-in page; the CSRF token its form carries."""
    page = client.get(server.console("/login"))
    assert page.status_code == 200
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found
    return found.group(1)


def test_post_without_the_browsers_csrf_token_is_refused(server: Server) -> None:
    with httpx.Client() as client:
        token = _login_form(client, server)
        creds = {"username": ADMIN[0], "password": ADMIN[1]}
        missing = client.post(server.console("/login"), data=creds)
        forged = client.post(server.console("/login"), data={**creds, "csrf_token": "forged"})
        assert (missing.status_code, forged.status_code) == (403, 403)
        assert "ocs_session" not in client.cookies
        accepted = client.post(server.console("/login"), data={**creds, "csrf_token": token})
        assert accepted.status_code == 303
        assert "ocs_session" in client.cookies


def test_csrf_token_of_another_browser_is_refused(server: Server) -> None:
    with httpx.Client() as attacker, httpx.Client() as victim:
        stolen = _login_form(attacker, server)
        _login_form(victim, server)
        creds = {"username": ADMIN[0], "password": ADMIN[1], "csrf_token": stolen}
        assert victim.post(server.console("/login"), data=creds).status_code == 403


def test_console_pages_forbid_framing_and_foreign_scripts(server: Server) -> None:
    response = httpx.get(server.console("/login"))
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"


def test_vendored_htmx_is_served_by_the_console_itself(server: Server) -> None:
    response = httpx.get(server.console("/static/vendor/htmx-2.0.11.min.js"))
    assert response.status_code == 200
    assert "htmx" in response.text


def test_htmx_request_without_session_is_sent_to_sign_in(server: Server) -> None:
    response = httpx.get(server.console("/dashboard/live"), headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response.headers["hx-redirect"].startswith("/console/login?next=")


def test_unknown_record_gets_an_error_page_not_a_stack_trace(server: Server) -> None:
    with httpx.Client() as client:
        token = _login_form(client, server)
        creds = {"username": ADMIN[0], "password": ADMIN[1], "csrf_token": token}
        client.post(server.console("/login"), data=creds)
        missing = client.get(server.console("/subscribers/999999"))
        assert missing.status_code == 404
        assert "subscriber 999999 does not exist" in missing.text
        bad_kind = client.get(server.console("/config/no-such-kind"))
        assert bad_kind.status_code == 404
