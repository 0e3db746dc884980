"""Sign in, sign out and the choice of service provider."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from ocs.core.errors import DomainError
from ocs.service.operators import TOKEN_VALIDITY_S

from .forms import FormState
from .page import Form, Page, operator_page, posted_form, public_page
from .session import SESSION_COOKIE, SessionData, clear_cookie, set_cookie

router = APIRouter()


def _local_path(page: Page, target: str | None) -> str:
    """A path inside the console to return to; anything else falls back to the dashboard."""
    root = page.root
    if target and target.startswith(f"{root}/") and "//" not in target and "\\" not in target:
        return target[len(root) :]
    return "/"


def _section(path: str) -> str:
    """The list screen of a path ('/customers/7' -> '/customers'): records of one service
    provider are not found under another."""
    first = path.strip("/").split("/", 1)[0]
    return f"/{first}" if first else "/"


@router.get("/login")
def login_form(next: str = "", page: Page = Depends(public_page)) -> Response:
    return page.render("login.html", form=FormState(), next=next, title="Sign in")


@router.post("/login")
def login(page: Page = Depends(public_page), form: Form = Depends(posted_form)) -> Response:
    username = form.get("username", "").strip()
    try:
        token, _ = page.services.operators.issue_token(username, form.get("password", ""))
    except DomainError as exc:
        state = FormState({"username": username}, general=[exc.detail])
        return page.render(
            "login.html", status_code=401, form=state, next=form.get("next", ""), title="Sign in"
        )
    response = page.redirect(_local_path(page, form.get("next")))
    cookie = page.request.app.state.cookies.dump_session(SessionData(token, None))
    set_cookie(page.request, response, SESSION_COOKIE, cookie, TOKEN_VALIDITY_S)
    return response


@router.post("/logout")
def logout(page: Page = Depends(operator_page), _form: Form = Depends(posted_form)) -> Response:
    assert page.session is not None
    page.services.operators.revoke_token(page.session.token)
    response = page.redirect("/login", notice="logged-out")
    clear_cookie(page.request, response, SESSION_COOKIE)
    return response


@router.post("/provider")
def choose_provider(
    page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    """Work inside another service provider: kept in the session cookie."""
    assert page.session is not None
    codes = {str(p["code"]) for p in page.providers}
    chosen = form.get("provider")
    provider = chosen if chosen in codes else page.provider
    response = page.redirect(_section(_local_path(page, form.get("back"))))
    cookie = page.request.app.state.cookies.dump_session(SessionData(page.session.token, provider))
    set_cookie(page.request, response, SESSION_COOKIE, cookie, TOKEN_VALIDITY_S)
    return response
