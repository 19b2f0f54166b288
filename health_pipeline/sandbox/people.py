"""Many people in one sandbox: each provider's fake runs one app per person, built on first use.

A person is named by `login_hint` on the authorize page (absent: the default person, `me`). Every
later request is routed by the credential it carries (a bearer token, a code or refresh token in the
form or JSON body, Hevy's `api-key`) to the app of the person it was issued to, so a person's app
only ever sees that person's tokens and answers from that person's world. What is the app's rather
than a person's (the client's quota, Withings' nonces, the knobs in `settings`) a fake shares with
the apps it builds for other people in its `for_person(world)`; a fake without one is built afresh.
"""

import json
import threading
from collections.abc import Callable

from health_pipeline.sandbox.http import ProviderApp, Request
from health_pipeline.sandbox.world import DEFAULT_PERSON, PERSON_ID, SandboxWorld

# Where a request carries a credential: form or query parameters, or members of a JSON body (Strava's token endpoint).
_CREDENTIAL_FIELDS = ("code", "refresh_token", "access_token", "token")


def credentials(request: Request) -> list[str]:
    """Every credential a request carries, the bearer token first."""
    found = [request.bearer_token(), request.header("api-key"), *(request.param(name) for name in _CREDENTIAL_FIELDS)]
    if request.body and "json" in (request.header("content-type") or ""):
        try:
            body = json.loads(request.body)
        except ValueError:
            body = None
        if isinstance(body, dict):
            found += [str(body[name]) for name in _CREDENTIAL_FIELDS if body.get(name)]
    return [credential for credential in found if credential]


class ProviderPeople:
    """One provider's fake for every person: the default person's app, and one per other person."""

    def __init__(self, mount: str, build: Callable[[SandboxWorld], ProviderApp],
                 world_for: Callable[[str], SandboxWorld],
                 person_of_key: Callable[[str], str | None] | None = None) -> None:
        self.mount = mount
        self._build = build
        self._world_for = world_for
        self._person_of_key = person_of_key
        self.default = build(world_for(DEFAULT_PERSON))
        self._apps: dict[str, ProviderApp] = {DEFAULT_PERSON: self.default}
        self._lock = threading.Lock()

    def app(self, person: str) -> ProviderApp:
        """The app serving `person` (built from their world on first use)."""
        with self._lock:
            found = self._apps.get(person)
            if found is None:
                world = self._world_for(person)
                twin = getattr(self.default, "for_person", None)
                found = self._apps[person] = twin(world) if twin is not None else self._build(world)
            return found

    def people(self) -> list[str]:
        """The people whose app has been built, the default person first."""
        with self._lock:
            return list(self._apps)

    def person_of(self, credential: str) -> str | None:
        """The person a code, token or key was issued to (None when no person's app issued it)."""
        with self._lock:
            apps = list(self._apps.items())
        for person, app in apps:
            if app.oauth.issued(credential):
                return person
        return self._person_of_key(credential) if self._person_of_key is not None else None

    def route(self, request: Request) -> tuple[str, ProviderApp]:
        """The person a request is for, and their app. Raises ValueError for a `login_hint` that names no one."""
        hint = request.query.get("login_hint")
        if hint is not None:
            if not PERSON_ID.fullmatch(hint):
                raise ValueError(f"login_hint {hint!r} is not a person id (letters, digits, '.', '_' and '-')")
            return hint, self.app(hint)
        for credential in credentials(request):
            person = self.person_of(credential)
            if person is not None:
                return person, self.app(person)
        return DEFAULT_PERSON, self.default
