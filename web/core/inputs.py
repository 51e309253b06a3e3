"""One validation layer for what a request carries, so hostile input gets a clear 4xx page and
changes nothing, on SQLite and PostgreSQL alike.

- `InputGuard` (ASGI, wired in web/app.py) refuses with 400 a path, query string, header or
  body that holds NUL (raw or `%00`, or `\\u0000` in JSON), text that is not UTF-8 (lone
  surrogates included), a charset other than UTF-8, or JSON nested deeper than MAX_JSON_DEPTH;
  and with 415 any multipart body but at the addresses in UPLOADS (bulk onboarding's CSV):
  Patchwork keeps no files, and a route reading a form would otherwise be handed an
  UploadFile where it expects text.
- `read_body` reads at most MAX_BODY_BYTES (Content-Length is checked first); the security
  middleware calls it before the CSRF check, so an oversized body gets its own 413 page.
- The `int` path convertor is replaced once, here, so an id beyond PostgreSQL's integer
  becomes 0 (never a row) and the route answers 404 rather than a database error.
- `form_int` and `form_date` read numbers and dates from forms: ASCII digits, sane bounds.

web/__init__.py imports this module so the convertor is registered before any route is built.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_to_bytes

from python_multipart.multipart import parse_options_header
from starlette.convertors import Convertor, register_url_convertor
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web.core.errors import error_page
from web.core.forms import MAX_ID

#: Far more than any form or passkey/push JSON here, small enough to hold in memory per request.
MAX_BODY_BYTES = 64 * 1024
#: Passkey and push JSON is at most 4 deep; anything deeper is an attack on the parser.
MAX_JSON_DEPTH = 32

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SURROGATE = re.compile("[\ud800-\udfff]")
#: What matters for nesting: quotes and escapes (to skip strings) and brackets.
JSON_TOKEN = re.compile(rb'["\\\[\]{}]')
QUOTE, BACKSLASH, OPENING = ord('"'), ord("\\"), b"[{"


@dataclass(frozen=True)
class Refusal:
    """A 4xx answer: its status, the page title, and what to do next."""

    status_code: int
    title: str
    message: str


UNSTORABLE = Refusal(
    400,
    "That request had characters Patchwork cannot store",
    "It held a null character or text that is not valid UTF-8, perhaps pasted from another "
    "program. Go back, retype what you entered and try again.",
)
TOO_DEEP = Refusal(
    400,
    "Something was wrong with that request",
    f"It was nested more than {MAX_JSON_DEPTH} levels deep, which Patchwork does not read.",
)
#: The only addresses taking a multipart form: a CSV of staff to invite (web/admin/onboarding.py).
UPLOADS = frozenset({"/admin/practitioners/upload"})
#: What an upload address may carry: a 256 KB staff list and the form around it.
MAX_UPLOAD_BYTES = 264 * 1024
NO_UPLOADS = Refusal(
    415,
    "Patchwork does not accept file uploads",
    "Patchwork keeps no documents, photos or case notes, so it takes no files. Go back and "
    "type what you wanted to say.",
)
TOO_LARGE = Refusal(
    413,
    "That was too large to send",
    f"Patchwork accepts at most {MAX_BODY_BYTES // 1024} KB in one form. Go back, shorten what "
    "you entered and try again.",
)


# -- path ids ----------------------------------------------------------------------------------


class IdConvertor(Convertor[int]):
    """`{name:int}`: ASCII digits; beyond PostgreSQL's integer it is 0, which is never an id."""

    regex = "[0-9]+"

    def convert(self, value: str) -> int:
        # Length first: int() of thousands of digits is slow, and refused past 4300.
        if len(value) > len(str(MAX_ID)) or int(value) > MAX_ID:
            return 0
        return int(value)

    def to_string(self, value: int) -> str:
        value = int(value)
        assert 0 <= value <= MAX_ID, "ids are between 0 and 2**31 - 1"
        return str(value)


register_url_convertor("int", IdConvertor())


# -- the guard ---------------------------------------------------------------------------------


def storable(data: bytes) -> bool:
    """UTF-8 with no NUL: what both databases can store as text."""
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8")  # strict: lone surrogates (ED A0 80) are invalid UTF-8 too
    except UnicodeDecodeError:
        return False
    return True


def target_refusal(scope: Scope) -> Refusal | None:
    """Why the path, query string or a header cannot be accepted, if it cannot."""
    raw_path = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogatepass")
    query = scope.get("query_string", b"").replace(b"+", b" ")
    for part in (raw_path, query):
        if not storable(part) or not storable(unquote_to_bytes(part)):
            return UNSTORABLE
    if "\x00" in scope["path"] or SURROGATE.search(scope["path"]):
        return UNSTORABLE
    # The server usually refuses NUL in a header; some are stored (User-Agent), so be sure.
    if any(b"\x00" in value for _name, value in scope.get("headers", [])):
        return UNSTORABLE
    return None


def json_depth(body: bytes) -> int:
    """How deeply brackets nest outside JSON strings: one linear pass, no parsing, no recursion."""
    depth = deepest = 0
    in_string = False
    escaped_until = -1
    for token in JSON_TOKEN.finditer(body):
        at = token.start()
        if at < escaped_until:
            continue
        char = body[at]
        if in_string:
            if char == BACKSLASH:
                escaped_until = at + 2
            elif char == QUOTE:
                in_string = False
        elif char == QUOTE:
            in_string = True
        elif char in OPENING:
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _unstorable_json(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value or SURROGATE.search(value) is not None
    if isinstance(value, dict):
        return any(_unstorable_json(k) or _unstorable_json(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_unstorable_json(v) for v in value)
    return False


def body_refusal(headers: Headers, body: bytes, path: str = "") -> Refusal | None:
    """Why the body cannot be accepted, if it cannot, whatever its Content-Type claims."""
    media_type, options = parse_options_header(headers.get("content-type", ""))
    if media_type == b"multipart/form-data" and path in UPLOADS:
        return None  # a file in whatever encoding: the route decodes it and refuses NUL
    if media_type.startswith(b"multipart/"):
        return NO_UPLOADS
    charset = options.get(b"charset", b"utf-8").lower()
    if charset not in (b"utf-8", b"utf8") or not storable(body):
        return UNSTORABLE
    if media_type == b"application/x-www-form-urlencoded" and not storable(
        unquote_to_bytes(body.replace(b"+", b" "))
    ):
        return UNSTORABLE
    # Routes parse JSON without trusting Content-Type, so every body is checked as JSON too.
    if json_depth(body) > MAX_JSON_DEPTH:
        return TOO_DEEP
    try:
        parsed = json.loads(body)
    except ValueError:
        return None  # not JSON: the route says what it expected
    return UNSTORABLE if _unstorable_json(parsed) else None


async def read_body(scope: Scope, receive: Receive) -> bytes | None:
    """The whole body, or None when it is over MAX_BODY_BYTES (MAX_UPLOAD_BYTES at an upload
    address), reading no further."""
    limit = MAX_UPLOAD_BYTES if scope["path"] in UPLOADS else MAX_BODY_BYTES
    length = Headers(scope=scope).get("content-length", "")
    if length.isascii() and length.isdigit() and int(length) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def replay(body: bytes) -> Receive:
    """A receive channel that hands the app a body already read."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def refuse(scope: Scope, send: Send, refusal: Refusal) -> None:
    """Send the error page for `refusal` (inside the security middleware: headers, CSRF cookie)."""
    request = Request(scope, replay(b""))
    response = error_page(request, refusal.status_code, refusal.message, title=refusal.title)
    await response(scope, replay(b""), send)


class InputGuard:
    """Refuses, before any route or database sees it, a request no database here can store."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = target_refusal(scope)
        if refusal is None and scope["method"] not in SAFE_METHODS:
            body = await read_body(scope, receive)
            if body is None:
                refusal = TOO_LARGE
            else:
                refusal = body_refusal(Headers(scope=scope), body, scope["path"])
                receive = replay(body)
        if refusal is not None:
            await refuse(scope, send, refusal)
            return
        await self.app(scope, receive, send)
