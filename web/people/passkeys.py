"""Your passkeys, on the profile: renaming one, removing one (after a recent sign-in).

Creating and using passkeys is signing in (web/signin/passkeys.py).
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from models.auth import PasskeyCredential
from web.core import audit
from web.core.auth import me, signed_in
from web.core.budgets import PAGE, queries
from web.core.reauth import sign_in_again, signed_in_recently
from web.people.profile import profile_page


async def own_passkey(request: Request) -> PasskeyCredential:
    passkey = await PasskeyCredential.get_or_none(
        id=request.path_params["passkey_id"], practitioner_id=me(request).id
    )
    if passkey is None:
        raise HTTPException(404)
    return passkey


@queries(PAGE)
@signed_in
async def rename(request: Request) -> Response:
    """Give a passkey a name its owner will recognise ("Work phone")."""
    passkey = await own_passkey(request)
    name = str((await request.form()).get("name", "")).strip()[:80]
    if not name:
        return await profile_page(
            request, errors={f"name-{passkey.id}": "Enter a name for the passkey"}, status_code=422
        )
    passkey.name = name
    await passkey.save(update_fields=["name"])
    await audit.record(request, "passkey.renamed", passkey_id=passkey.id)
    return RedirectResponse("/profile#passkeys", status_code=303)


@queries(PAGE)
@signed_in
async def remove(request: Request) -> Response:
    """Remove a passkey, after a sign-in within the last 15 minutes."""
    passkey = await own_passkey(request)
    if not signed_in_recently(request):
        return sign_in_again(request, "To remove a passkey", "/profile")
    await passkey.delete()
    await audit.record(request, "passkey.removed", passkey_id=passkey.id)
    return RedirectResponse("/profile#passkeys", status_code=303)


routes = [
    Route("/passkeys/{passkey_id:int}/rename", rename, methods=["POST"]),
    Route("/passkeys/{passkey_id:int}/remove", remove, methods=["POST"]),
]
