"""`[withings]`: the keys of Withings' config section and their defaults."""

from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator

from health_pipeline.config import OAuthProviderConfig, PositiveInt, Url


def _meastypes(value: Any) -> tuple[int, ...]:
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"must be a list, got {value!r}")
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value):
        raise ValueError(f"must be a list of Withings measure type ids (e.g. [1, 6, 76]), got {value!r}")
    return tuple(value)


class WithingsConfig(OAuthProviderConfig):
    """Withings' public API, with an OAuth2 client registered in its developer portal."""

    name: ClassVar[str] = "withings"
    base_url: Url = "https://wbsapi.withings.net"
    authorize_url: Url = "https://account.withings.com/oauth2_user/authorize2"
    token_url: Url = "https://wbsapi.withings.net/v2/oauth2"
    requests_per_minute: PositiveInt = 120
    intraday: bool = False  # per-minute watch samples (`withings_intraday`), daily-partitioned
    high_frequency_sleep: bool = False  # stage segments with per-minute vitals (`withings_sleep_hf`)
    # measure types to ask for (empty: the broad default)
    meastypes: Annotated[tuple[int, ...], BeforeValidator(_meastypes)] = ()
