"""Per-person read access to VictoriaMetrics through vmauth: a person's credentials see only the
series labelled `user="<their id>"`, and can only read.

How, as verified against vmauth and VictoriaMetrics 1.79.5 (health_pipeline_tests/test_access.py):

- Each person is a vmauth user whose `url_map` lists only the read paths below. vmauth cleans the
  path (`..` included) and answers any other path with HTTP 400 "missing route": imports,
  `delete_series` and the rest of `/api/v1/admin/` are unreachable.
- Each read route's `url_prefix` carries the query arg `extra_label=user=<id>`. VictoriaMetrics adds
  that filter to every selector of a query, to the `match[]` of series and export, and to label
  lookups. vmauth lets a prefix's query arg win over the request's arg of the same name; a second
  `extra_label` sent in a POST body reaches VictoriaMetrics too, which ANDs them
  (`user="alice", user="bob"` matches nothing), so no request widens the view.
- `extra_filters[]` is not used for the restriction: VictoriaMetrics ORs several of them, and a
  person could send their own (`extra_filters`, without the brackets, is not even the same arg).
- The admin user (the pipeline, the operator, a household's Grafana) has a `url_prefix` without
  restriction.

The config holds every secret in clear (vmauth 1.79.5 compares them verbatim), so it is written
mode 0600, atomically, and nothing here logs or prints a secret. It is also the only place the
secrets are kept: `read_vmauth_config` reads them back, so writing the file again (a person added or
removed) keeps everyone else's credentials, and no second file of secrets can drift from it.
"""

import os
import secrets
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qs, urlencode, urlsplit

import yaml

from health_pipeline.settings import Secret

# The paths a person may read; vmauth 1.79.5 matches each as a whole-path regular expression.
READ_PATHS = (
    "/api/v1/query",
    "/api/v1/query_range",
    "/api/v1/series",
    "/api/v1/labels",
    "/api/v1/label/[^/]+/values",
    "/api/v1/export",
)
USER_LABEL = "user"
MIN_SECRET_LENGTH = 16

Auth = Literal["basic", "bearer"]


class AccessConfigError(ValueError):
    """The people, the secrets or the URL cannot make a safe vmauth config; nothing was written."""


@dataclass(frozen=True)
class AccessConfig:
    """What `write_vmauth_config` wrote: the file and whose credentials it holds (never the secrets)."""

    path: Path
    people: tuple[str, ...]
    admin: str
    auth: Auth

    def describe(self) -> str:
        kind = "user name and password" if self.auth == "basic" else "bearer token"
        return (f"vmauth config for {len(self.people)} people ({kind} each) and admin {self.admin!r} "
                f"written to {self.path} (mode 600)")


@dataclass(frozen=True)
class StoredAccess:
    """What an existing vmauth config holds: each person's secret, the admin's, where it points, how
    people log in."""

    people: dict[str, Secret]
    admin: tuple[str, Secret]
    victoriametrics_url: str
    auth: Auth


def new_secret() -> str:
    """A fresh random secret for a person or the admin (43 URL-safe characters, 256 bits)."""
    return secrets.token_urlsafe(32)


def vmauth_config(people: Sequence[tuple[str, str | Secret]], victoriametrics_url: str, *,
                  admin: tuple[str, str | Secret], auth: Auth = "basic") -> dict:
    """The vmauth config as data: one read-only user per `(person_id, secret)`, then the admin.

    With `auth="basic"` a person logs in with their id as user name and the secret as password;
    with `auth="bearer"` the secret is their bearer token. The admin always uses basic auth.
    """
    base = _checked_url(victoriametrics_url)
    if auth not in ("basic", "bearer"):
        raise AccessConfigError(f"auth must be 'basic' or 'bearer', got {auth!r}")
    admin_name, admin_secret = admin[0], _reveal(admin[1])
    _check_name(admin_name, "the admin user name", basic=True)
    _check_secret(admin_secret, f"admin {admin_name!r}")
    seen: set[str] = set()
    used_secrets: set[str] = {admin_secret}
    users = []
    for person, secret in people:
        _check_name(person, "a person id", basic=auth == "basic")
        if person in seen:
            raise AccessConfigError(f"person {person!r} is listed twice; give each person one secret")
        if auth == "basic" and person == admin_name:
            raise AccessConfigError(f"person {person!r} has the admin's user name; choose another admin name")
        seen.add(person)
        value = _reveal(secret)
        _check_secret(value, f"person {person!r}")
        if value in used_secrets:
            # vmauth tells users apart by the token; one shared would give both the same view
            raise AccessConfigError(f"person {person!r} has a secret already used by another user; use new_secret()")
        used_secrets.add(value)
        login = {"username": person, "password": value} if auth == "basic" else {"bearer_token": value}
        restricted = base + "?" + urlencode({"extra_label": f"{USER_LABEL}={person}"})
        users.append({**login, "url_map": [{"src_paths": list(READ_PATHS), "url_prefix": restricted}]})
    users.append({"username": admin_name, "password": admin_secret, "url_prefix": base})
    return {"users": users}


def write_vmauth_config(path: str | os.PathLike[str], people: Sequence[tuple[str, str | Secret]],
                        victoriametrics_url: str, *, admin: tuple[str, str | Secret],
                        auth: Auth = "basic") -> AccessConfig:
    """Write the vmauth config (see `vmauth_config`) to `path`, mode 0600, replacing it atomically.

    vmauth reads it at start and again on SIGHUP (`docker compose kill -s HUP vmauth`).
    """
    config = vmauth_config(people, victoriametrics_url, admin=admin, auth=auth)
    target = Path(path)
    text = ("# vmauth config written by health-pipeline: one read-only user per person, then the admin.\n"
            "# It holds their secrets: keep it mode 600, and write it again rather than edit it.\n"
            + yaml.safe_dump(config, sort_keys=False, default_flow_style=False, allow_unicode=True))
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)  # created mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return AccessConfig(target, tuple(person for person, _ in people), admin[0], auth)


def read_vmauth_config(path: str | os.PathLike[str]) -> StoredAccess | None:
    """The people and secrets of a config `write_vmauth_config` wrote (None: no file at `path`).

    A person is recognised by the `extra_label=user=<id>` of their route, so basic and bearer
    configs read alike. A file of another shape is an `AccessConfigError`, not an empty config:
    replacing it would silently change every participant's secret.
    """
    target = Path(path)
    try:
        text = target.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as err:
        raise AccessConfigError(f"{target}: cannot read the vmauth config: {getattr(err, 'strerror', None) or err}") \
            from None
    try:
        users = (yaml.safe_load(text) or {}).get("users")
        if not isinstance(users, list):
            raise TypeError("no list of users")
        people: dict[str, Secret] = {}
        admin, url, auth = None, None, "basic"
        for user in users:
            secret = user.get("password") or user.get("bearer_token")
            if not isinstance(secret, str):
                raise TypeError("a user without a password or bearer token")
            if "url_map" in user:
                [route] = user["url_map"]
                [label] = parse_qs(urlsplit(route["url_prefix"]).query)["extra_label"]
                name, person = label.split("=", 1)
                if name != USER_LABEL:
                    raise TypeError(f"a route filtered by {name!r}")
                people[person] = Secret(secret)
                auth = "bearer" if "bearer_token" in user else "basic"
            elif admin is None and isinstance(user.get("username"), str):
                admin, url = (user["username"], Secret(secret)), user["url_prefix"]
            else:
                raise TypeError("a second unrestricted user")
        if admin is None or not isinstance(url, str):
            raise TypeError("no admin user")
    except (yaml.YAMLError, AttributeError, TypeError, KeyError, ValueError) as err:
        what = str(err).splitlines()[0] if isinstance(err, TypeError) else "unexpected content"
        raise AccessConfigError(f"{target}: not a vmauth config written by health-pipeline ({what}); move it "
                                "away to write a new one (everyone then gets a new secret)") from None
    return StoredAccess(people, admin, url, auth)  # type: ignore[arg-type]


def _reveal(secret: str | Secret) -> str:
    return secret.reveal() if isinstance(secret, Secret) else secret


def _checked_url(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise AccessConfigError(f"the VictoriaMetrics URL must be http(s)://host:port, got {url!r}")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise AccessConfigError("the VictoriaMetrics URL must have no query, fragment or credentials in it "
                                f"(got one for {parts.hostname})")
    return url.rstrip("/")


def _check_name(name: str, what: str, *, basic: bool) -> None:
    if not isinstance(name, str) or not name.strip() or name != name.strip():
        raise AccessConfigError(f"{what} must be a non-empty name without surrounding spaces, got {name!r}")
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise AccessConfigError(f"{what} must not contain control characters, got {name!r}")
    if basic and ":" in name:
        raise AccessConfigError(f"{what} {name!r} contains ':', which HTTP basic auth cannot carry in a user name")


def _check_secret(secret: str, whose: str) -> None:
    if not isinstance(secret, str) or len(secret) < MIN_SECRET_LENGTH:
        raise AccessConfigError(f"the secret of {whose} is shorter than {MIN_SECRET_LENGTH} characters; "
                                "use new_secret()")
    if secret != secret.strip() or any(ord(c) < 33 or ord(c) == 127 for c in secret):
        raise AccessConfigError(f"the secret of {whose} contains spaces or control characters, "
                                "which HTTP headers cannot carry; use new_secret()")
