"""Sessions and the guards on every route (web/core/auth.py), rule by rule.

Written to kill the mutants `python -m tests --mutate web/core/auth.py` found surviving. The
guards are applied here to endpoints made in the test (as the route modules do when they
load), so each rule is checked on its own: who gets through, and what everyone else gets."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from models.auth import Session
from models.practitioners import Practitioner
from tests import support
from tests.web.helpers import sign_in
from web.core import auth, clock
from web.core.auth import safe_next


def request(
    path: str = "/clients/5",
    method: str = "GET",
    query: str = "",
    practitioner: Any = None,
    **headers: str,
) -> Request:
    return Request(
        {
            "type": "http",
            "method": method,
            "scheme": "http",
            "server": ("testserver", 80),
            "path": path,
            "query_string": query.encode(),
            "headers": [
                (k.replace("_", "-").lower().encode(), v.encode()) for k, v in headers.items()
            ],
            "state": {"practitioner": practitioner},
        }
    )


async def endpoint(request: Request) -> Response:
    return PlainTextResponse(f"the page at {request.url.path}")  # given the request


def person(step: int = 7, role: str = "practitioner") -> SimpleNamespace:
    return SimpleNamespace(signup_step=step, signed_up=step >= 6, role=role)


async def answer(guarded, req: Request) -> tuple[int, str]:
    """(status, location or body) of a guarded endpoint, refusals included."""
    try:
        response = await guarded(req)
    except HTTPException as refusal:
        return refusal.status_code, refusal.detail
    if "location" in response.headers:
        return response.status_code, response.headers["location"]
    return response.status_code, bytes(response.body).decode()


async def test_signed_in_lets_only_a_finished_signup_through(db):
    guarded = auth.signed_in(endpoint)
    assert guarded.__name__ == "endpoint"
    assert await answer(guarded, request(practitioner=person())) == (200, "the page at /clients/5")
    assert await answer(guarded, request(query="tab=team")) == (
        303,
        "/signin?next=%2Fclients%2F5%3Ftab%3Dteam",
    )
    assert await answer(guarded, request()) == (303, "/signin?next=%2Fclients%2F5")
    assert await answer(guarded, request(method="POST")) == (401, "Please sign in again.")
    unfinished = person(step=3)
    assert await answer(guarded, request(practitioner=unfinished)) == (303, "/signup/4")
    status, detail = await answer(guarded, request(method="POST", practitioner=unfinished))
    assert status == 403 and detail.startswith("Finish signing up first")


async def test_signing_up_lets_any_signed_in_practitioner_through(db):
    guarded = auth.signing_up(endpoint)
    assert guarded.during_signup is True  # type: ignore[attr-defined]
    assert guarded.__name__ == "endpoint"
    for step in (1, 5, 7):
        assert await answer(guarded, request(practitioner=person(step))) == (
            200,
            "the page at /clients/5",
        )
    assert await answer(guarded, request()) == (303, "/signin?next=%2Fclients%2F5")
    assert await answer(guarded, request(method="DELETE")) == (401, "Please sign in again.")


async def test_requires_role_lets_only_those_roles_through(db):
    guarded = auth.requires_role("state_admin", "local_admin")(endpoint)
    assert guarded.__name__ == "endpoint"
    assert guarded.__wrapped__.roles == ("state_admin", "local_admin")  # type: ignore[attr-defined]
    for role in ("state_admin", "local_admin"):
        assert await answer(guarded, request(practitioner=person(role=role))) == (
            200,
            "the page at /clients/5",
        )
    assert await answer(guarded, request(practitioner=person())) == (
        403,
        "This page is for administrators.",
    )
    assert await answer(guarded, request()) == (303, "/signin?next=%2Fclients%2F5")
    unfinished_admin = person(step=2, role="state_admin")
    assert await answer(guarded, request(practitioner=unfinished_admin)) == (303, "/signup/3")
    inner = auth.requires_role("state_admin")(endpoint).__wrapped__  # type: ignore[attr-defined]
    with pytest.raises(HTTPException) as anonymous:
        await inner(request(method="POST"))
    assert anonymous.value.status_code == 401


def test_public_marks_the_endpoint_and_returns_it():
    async def page(request: Request) -> Response:
        return PlainTextResponse("")

    assert auth.public(page) is page
    assert page.public is True  # type: ignore[attr-defined]


def test_a_page_load_is_a_plain_get_only():
    assert auth.wants_page(request())
    assert auth.wants_page(request(accept="text/html"))
    assert not auth.wants_page(request(method="POST"))
    assert not auth.wants_page(request(hx_request="true"))
    assert not auth.wants_page(request(accept="application/json"))
    assert not auth.wants_page(request(accept="text/html, application/json"))


def test_resume_path_is_the_next_question_until_signup_is_answered():
    assert auth.resume_path(person(step=0)) == "/signup/1"  # type: ignore[arg-type]
    assert auth.resume_path(person(step=5)) == "/signup/6"  # type: ignore[arg-type]
    assert auth.resume_path(person(step=6)) is None  # type: ignore[arg-type]


def test_me_is_the_signed_in_practitioner():
    priya = person()
    assert auth.me(request(practitioner=priya)) is priya


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/" + "a" * 299, "/" + "a" * 299),  # 300 characters: kept
        ("/" + "a" * 300, "/"),  # 301: refused
        ("", "/"),
        (None, "/"),
        (5, "/"),
        # MAX_DECODINGS passes of unquote: three layers decoded and seen to be done, kept;
        # a fourth layer is still changing on the last pass, refused.
        ("/%252541", "/%252541"),
        ("/%25252541", "/"),
        ("/a b", "/"),
        ("/a%20b", "/"),
        ("/a\\b", "/"),
        ("/a%5Cb", "/"),
        ("/a\u200bb", "/"),  # format character (Cf)
        ("/a\u2028b", "/"),  # line separator (Zl)
        ("/a\x7fb", "/"),  # control (Cc)
        ("/ok/path?x=1#top", "/ok/path?x=1#top"),
        ("//evil.example", "/"),
        ("/%2Fevil.example", "/"),
        ("evil.example", "/"),
        ("https://evil.example/", "/"),
        ("/http://evil.example", "/http://evil.example"),  # a path on this site
        ("/\uff0f\uff0fevil.example", "/\uff0f\uff0fevil.example"),  # fullwidth: a path
        ("/%2F%2Fevil.example", "/"),
    ],
)
def test_safe_next(target, expected):
    assert safe_next(target) == expected


def test_only_a_path_that_is_local_however_it_is_read_is_kept():
    assert auth._one_local_path("/a")
    assert not auth._one_local_path("a/b")
    assert not auth._one_local_path("//a")
    assert not auth._one_local_path("/\t/evil.example")  # urlsplit drops the tab: a host
    assert not auth._one_local_path("/\t/[evil")  # urlsplit raises ValueError: refused


async def test_a_session_is_touched_at_most_every_five_minutes(client, settings):
    priya = await support.practitioner()
    await sign_in(client, priya)
    session = await Session.get()
    with clock.shifted(timedelta(minutes=4)):
        assert (await client.get("/")).status_code == 200
    assert (await Session.get()).last_seen_at == session.last_seen_at
    with clock.shifted(timedelta(minutes=6)):
        assert (await client.get("/")).status_code == 200
        touched = (await Session.get()).last_seen_at
    assert touched - session.last_seen_at >= timedelta(minutes=6)
    # The idle limit counts from the last use, not from sign-in.
    idle = timedelta(hours=settings.session_idle_hours)
    with clock.shifted(timedelta(minutes=6) + idle - timedelta(minutes=1)):
        assert (await client.get("/")).status_code == 200
    assert await Session.all().count() == 1


async def test_a_session_ends_at_the_idle_and_absolute_limits_and_not_before(client, settings):
    priya = await support.practitioner()
    await sign_in(client, priya)
    idle = timedelta(hours=settings.session_idle_hours)
    with clock.shifted(idle - timedelta(seconds=30)):
        assert (await client.get("/")).status_code == 200
    absolute = timedelta(days=settings.session_absolute_days)
    # Used every few hours, the session still ends once it is `absolute` old.
    step = idle - timedelta(minutes=10)
    moved = step
    while moved < absolute - timedelta(minutes=30):
        with clock.shifted(moved):
            assert (await client.get("/")).status_code == 200, moved
        moved += step
    with clock.shifted(absolute + timedelta(minutes=1)):
        assert (await client.get("/")).status_code == 303
    assert await Session.all().count() == 0


async def test_a_deactivated_practitioners_session_is_ended_on_its_next_use(client):
    priya = await support.practitioner()
    await sign_in(client, priya)
    await Practitioner.filter(id=priya.id).update(active=False)
    assert (await client.get("/")).status_code == 303
    assert await Session.all().count() == 0


async def test_an_unknown_or_empty_session_cookie_is_nobody(client, settings):
    priya = await support.practitioner()
    await sign_in(client, priya)
    client.cookies.set(settings.session_cookie, "")
    assert (await client.get("/")).status_code == 303
    client.cookies.set(settings.session_cookie, "not-a-session")
    assert (await client.get("/")).status_code == 303
    assert await Session.all().count() == 1


async def test_signing_in_again_replaces_the_browsers_session(client, settings):
    priya = await support.practitioner()
    first = await sign_in(client, priya)
    old = first.cookies[settings.session_cookie]
    second = await sign_in(client, priya)
    new = second.cookies[settings.session_cookie]
    assert new != old
    [session] = await Session.all()
    assert session.token_hash == auth.token_hash(new)
    assert session.method == "email"
    [set_cookie] = second.headers.get_list("set-cookie")
    max_age = int(settings.session_absolute_days * 86400)
    assert set_cookie == (
        f"{settings.session_cookie}={new}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}"
    )
    assert (await Practitioner.get(id=priya.id)).last_seen_at == session.created_at


async def test_a_session_keeps_at_most_300_characters_of_user_agent(client):
    priya = await support.practitioner()
    client.headers["user-agent"] = "A" * 400
    await sign_in(client, priya)
    session = await Session.get()
    assert session.user_agent == "A" * 300
    assert session.created_at == session.last_seen_at == session.authenticated_at


async def test_deactivating_ends_every_session_at_once(client, settings):
    priya = await support.practitioner()
    aroha = await support.practitioner("Aroha Ngata", "aroha.ngata@brimbank.example")
    for who in (priya, aroha, priya):  # three browsers
        client.cookies.clear()
        await sign_in(client, who)
    assert await auth.deactivate(priya) == 2
    assert priya.active is False
    assert not (await Practitioner.get(id=priya.id)).active
    assert await Session.filter(practitioner_id=aroha.id).count() == 1


def test_clearing_the_session_cookie_expires_it(settings):
    response = Response()
    auth.clear_session_cookie(settings, response)
    assert response.headers.getlist("set-cookie") == [
        f"{settings.session_cookie}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"
    ]


def test_the_token_hash_is_sha256_hex():
    assert auth.token_hash("abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )


async def test_a_browser_that_sends_no_user_agent_gets_a_session_all_the_same(client, settings):
    priya = await support.practitioner()
    del client.headers["user-agent"]
    response = await sign_in(client, priya)
    assert (await Session.get()).user_agent == ""
    assert len(response.cookies[settings.session_cookie]) == 43  # 256 random bits, base64url


async def test_the_middleware_finds_nobody_on_a_bare_request(settings):
    seen: list[dict[str, Any]] = []

    async def app(scope, receive, send):
        seen.append(scope.get("state", {}))

    scope = {"type": "http", "method": "GET", "path": "/", "headers": []}
    await auth.AuthMiddleware(app, settings)(scope, None, None)  # type: ignore[arg-type]
    nobody = {"practitioner": None, "session": None, "unread": 0, "has_passkey": False}
    assert seen == [{**nobody, "directory_version": None}]
    lifespan = {"type": "lifespan"}
    await auth.AuthMiddleware(app, settings)(lifespan, None, None)  # type: ignore[arg-type]
    assert seen[1:] == [{}]  # no session is looked up outside HTTP


async def through_the_middleware(settings, token: str) -> tuple[Any, Any]:
    """(practitioner, session) the middleware loads for a request sending this session token."""
    seen: list[dict[str, Any]] = []

    async def app(scope, receive, send):
        seen.append(scope["state"])

    cookie = f"{settings.session_cookie}={token}".encode()
    scope = {"type": "http", "method": "GET", "path": "/", "headers": [(b"cookie", cookie)]}
    await auth.AuthMiddleware(app, settings)(scope, None, None)  # type: ignore[arg-type]
    [state] = seen
    return state["practitioner"], state["session"]


async def a_session(ago_created: timedelta, ago_seen: timedelta, moment) -> Session:
    priya = await support.practitioner()
    return await Session.create(
        token_hash=auth.token_hash("the-token"),
        practitioner=priya,
        created_at=moment - ago_created,
        last_seen_at=moment - ago_seen,
        authenticated_at=moment - ago_created,
        method="email",
    )


@pytest.fixture
def frozen(monkeypatch):
    """The sessions' clock stopped at one moment (whole seconds: no database rounds it)."""
    moment = clock.now().replace(microsecond=0)
    monkeypatch.setattr(auth, "now", lambda: moment)
    return moment


async def test_a_session_idle_for_exactly_the_limit_is_still_good(settings, frozen):
    idle = timedelta(hours=settings.session_idle_hours)
    session = await a_session(idle, idle, frozen)
    practitioner, loaded = await through_the_middleware(settings, "the-token")
    assert practitioner.id == session.practitioner_id  # type: ignore[attr-defined]
    # Idle longer than five minutes: touched, in the database and on the loaded session.
    assert loaded.last_seen_at == frozen
    assert (await Session.get(id=session.id)).last_seen_at == frozen
    # One second more idle, and it has ended.
    await Session.filter(id=session.id).update(last_seen_at=frozen - idle - timedelta(seconds=1))
    assert await through_the_middleware(settings, "the-token") == (None, None)
    assert not await Session.exists(id=session.id)


async def test_a_session_exactly_the_absolute_limit_old_is_still_good(settings, frozen):
    absolute = timedelta(days=settings.session_absolute_days)
    session = await a_session(absolute, timedelta(minutes=1), frozen)
    practitioner, loaded = await through_the_middleware(settings, "the-token")
    assert practitioner.id == session.practitioner_id  # type: ignore[attr-defined]
    assert loaded.id == session.id
    await Session.filter(id=session.id).update(created_at=frozen - absolute - timedelta(seconds=1))
    assert await through_the_middleware(settings, "the-token") == (None, None)
    assert not await Session.exists(id=session.id)


async def test_a_session_used_exactly_five_minutes_ago_is_not_touched_yet(settings, frozen):
    five = timedelta(minutes=5)
    session = await a_session(timedelta(hours=1), five, frozen)
    _, loaded = await through_the_middleware(settings, "the-token")
    assert loaded.last_seen_at == frozen - five
    assert (await Session.get(id=session.id)).last_seen_at == frozen - five
    await Session.filter(id=session.id).update(last_seen_at=frozen - five - timedelta(seconds=1))
    _, loaded = await through_the_middleware(settings, "the-token")
    assert loaded.last_seen_at == frozen
    assert (await Session.get(id=session.id)).last_seen_at == frozen


def test_refusing_a_finished_signup_as_unfinished_sends_them_home():
    finished = person(step=6)
    response = auth.refuse_unfinished(request(practitioner=finished), finished)  # type: ignore[arg-type]
    assert (response.status_code, response.headers["location"]) == (303, "/")
