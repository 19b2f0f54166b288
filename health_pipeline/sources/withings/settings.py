"""`[withings]`: the keys of Withings' config section and their defaults."""

from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator, Field

from health_pipeline.settings import OAuthProviderConfig, PositiveInt, Url


def _meastypes(value: Any) -> tuple[int, ...]:
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"must be a list, got {value!r}")
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value):
        raise ValueError(f"must be a list of Withings measure type ids (e.g. [1, 6, 76]), got {value!r}")
    return tuple(value)


class WithingsConfig(OAuthProviderConfig):
    """Withings' public API, with an OAuth2 client registered in its developer portal."""

    name: ClassVar[str] = "withings"
    title: ClassVar[str] = "Withings"
    base_url: Url = "https://wbsapi.withings.net"
    authorize_url: Url = "https://account.withings.com/oauth2_user/authorize2"
    token_url: Url = "https://wbsapi.withings.net/v2/oauth2"
    client_id: str = Field("", description=(
        "From your application at https://developer.withings.com (required when enabled)."))
    requests_per_minute: PositiveInt = Field(120, description=(
        "Requests per minute this tool allows itself (Withings: 120 per minute per application)."))
    intraday: bool = Field(False, description=(
        "Also land per-minute watch data (steps, heart rate, ...), as daily partitions."))
    high_frequency_sleep: bool = Field(False, description=(
        "Also land high-frequency sleep (stage segments with per-minute heart and breathing rate), as daily "
        "partitions."))
    meastypes: Annotated[tuple[int, ...], BeforeValidator(_meastypes)] = Field((), description=(
        "Measure types to ask getmeas for (ids from Withings' table); empty: every type a scale, cuff or watch "
        "measures (weight, body composition, blood pressure, pulse, SpO2, temperature, ECG intervals, ...)."))
