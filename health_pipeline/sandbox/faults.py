"""Fault injection for the sandbox: per-provider probabilities or scripted sequences.

Kinds:
  5xx         503 from the provider's front end
  429         the provider's own rate-limit answer, with Retry-After (Withings: status 601 in a 200)
  429-bare    the same without Retry-After
  slow        answer normally after `slow_s`
  timeout     hold the request `hang_s`, then drop the connection without an answer
  reset       drop the connection at once (TCP reset)
  malformed   the real answer, truncated mid-JSON
  expire      every access token of the provider expires now, then the request is served
  revoke      every token of the provider is revoked, then the request is served

Tests can also queue `rewrite`s: a function that turns the real answer into a surprising one
(a missing field, a wrong type, a wrong Content-Type), applied to the next matching request.

SPEC, as `--faults` takes it: `PROVIDER:KIND=P[,KIND=P...][;PROVIDER:...]` for probabilities and
`PROVIDER:script=KIND|ok|KIND...` for an exact sequence (consumed one request at a time, then
the probabilities apply), e.g. `oura:5xx=0.1,429=0.05;hevy:script=reset|ok|malformed`.
"""

import random
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

KINDS = ("5xx", "429", "429-bare", "slow", "timeout", "reset", "malformed", "expire", "revoke")


class FaultSpecError(ValueError):
    """A `--faults` spec that cannot be understood."""


@dataclass
class FaultPlan:
    """What goes wrong for one provider, and how often."""

    probabilities: dict[str, float] = field(default_factory=dict)
    script: deque[str] = field(default_factory=deque)
    slow_s: float = 2.0
    hang_s: float = 5.0
    only_paths_containing: str = ""


class FaultInjector:
    """Decides, request by request, which fault (if any) a provider suffers. Deterministic per seed."""

    def __init__(self, seed: int = 0) -> None:
        self._plans: dict[str, FaultPlan] = {}
        self._rewrites: list[tuple[str, str, dict[str, str], Callable[[Any], Any]]] = []
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def set(self, provider: str, plan: FaultPlan) -> None:
        for kind in [*plan.probabilities, *plan.script]:
            if kind not in KINDS and kind != "ok":
                raise FaultSpecError(f"unknown fault kind {kind!r} (known: {', '.join(KINDS)})")
        with self._lock:
            self._plans[provider] = plan

    def script(self, provider: str, *kinds: str) -> None:
        """Queue an exact sequence of outcomes ('ok' for a normal answer)."""
        plan = self._plans.get(provider) or FaultPlan()
        plan.script.extend(kinds)
        self.set(provider, plan)

    def rewrite(self, provider: str, transform: Callable[[Any], Any], path_contains: str = "", times: int = 1,
                params: dict[str, str] | None = None) -> None:
        """Let `transform` (sandbox Response -> Response) rewrite the next `times` matching answers:
        requests whose path contains `path_contains` and, with `params`, whose parameters (query or
        form) have those values (Withings' `action`)."""
        with self._lock:
            self._rewrites.extend([(provider, path_contains, dict(params or {}), transform)] * times)

    def next_rewrite(self, provider: str, path: str, param: Callable[[str], str | None] = lambda name: None
                     ) -> Callable[[Any], Any] | None:
        """The rewrite queued for this request, if any (consumed); `param` reads a request parameter."""
        with self._lock:
            for index, (wanted, fragment, params, transform) in enumerate(self._rewrites):
                if wanted == provider and fragment in path and all(param(k) == v for k, v in params.items()):
                    del self._rewrites[index]
                    return transform
            return None

    def clear(self, provider: str | None = None) -> None:
        with self._lock:
            if provider is None:
                self._plans.clear()
                self._rewrites.clear()
            else:
                self._plans.pop(provider, None)
                self._rewrites = [r for r in self._rewrites if r[0] != provider]

    def plan(self, provider: str) -> FaultPlan | None:
        return self._plans.get(provider)

    def next_fault(self, provider: str, path: str) -> str | None:
        """The fault for this request, or None to serve it normally."""
        with self._lock:
            plan = self._plans.get(provider)
            if plan is None or plan.only_paths_containing not in path:
                return None
            if plan.script:
                kind = plan.script.popleft()
                return None if kind == "ok" else kind
            roll = self._rng.random()
            for kind, probability in plan.probabilities.items():
                if roll < probability:
                    return kind
                roll -= probability
            return None


def parse_fault_spec(spec: str, providers: list[str]) -> dict[str, FaultPlan]:
    """Parse a `--faults` spec into one plan per provider."""
    plans: dict[str, FaultPlan] = {}
    for part in filter(None, (p.strip() for p in spec.split(";"))):
        provider, sep, body = part.partition(":")
        if not sep or provider not in providers:
            raise FaultSpecError(f"{part!r}: expected PROVIDER:..., with PROVIDER one of {', '.join(providers)}")
        plan = plans.setdefault(provider, FaultPlan())
        for item in filter(None, (i.strip() for i in body.split(","))):
            key, eq, value = item.partition("=")
            if not eq:
                raise FaultSpecError(f"{item!r}: expected KIND=PROBABILITY or script=KIND|KIND")
            if key == "script":
                kinds = value.split("|")
                for kind in kinds:
                    if kind not in KINDS and kind != "ok":
                        raise FaultSpecError(f"{kind!r}: unknown fault kind (known: ok, {', '.join(KINDS)})")
                plan.script.extend(kinds)
                continue
            if key in ("slow_s", "hang_s"):
                setattr(plan, key, _number(item, value, 0, 600))
                continue
            if key not in KINDS:
                raise FaultSpecError(f"{key!r}: unknown fault kind (known: {', '.join(KINDS)})")
            plan.probabilities[key] = _number(item, value, 0, 1)
        if sum(plan.probabilities.values()) > 1:
            raise FaultSpecError(f"{provider}: fault probabilities add up to more than 1")
    return plans


def _number(item: str, value: str, low: float, high: float) -> float:
    try:
        number = float(value)
    except ValueError:
        raise FaultSpecError(f"{item!r}: {value!r} is not a number") from None
    if not low <= number <= high:
        raise FaultSpecError(f"{item!r}: must be between {low:g} and {high:g}")
    return number
