"""`[apple_health]`: where the export is, whose samples count first where several recorded the same
minutes, and which apps' copies stay out because the project syncs their source itself."""

from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator, Field

from health_pipeline.settings import ImportConfig

CLASSES = ("watch", "phone", "apps")  # a source by kind: its name says Watch, iPhone, or neither
DEFAULT_EXCLUDED = ("Oura", "Withings", "Health Mate", "Fitbit", "WHOOP", "Polar", "Strava", "Hevy", "Eight Sleep",
                    "Garmin Connect")


def _names(value: Any) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError(f"must be a list of non-empty names, got {value!r}")
    return tuple(v.strip() for v in value)


def _priority(value: Any) -> tuple[str, ...]:
    names = _names(value)
    missing = [c for c in CLASSES if c not in names]
    if missing:
        raise ValueError(f"must name {', '.join(missing)} somewhere (source names may come before them), "
                         f"got {list(names)!r}")
    return names


class AppleHealthConfig(ImportConfig):
    """An Apple Health export ("Export All Health Data" in the Health app): the `export.zip`, the folder it
    unpacks to, or its `export.xml`."""

    name: ClassVar[str] = "apple_health"
    title: ClassVar[str] = "Apple Health export"
    path: str = Field("", description=(
        "An Apple Health export to import with `health-pipeline import apple-health` (or the import_apple_health "
        "asset): export.zip, the unpacked folder, or export.xml. Relative to this file."))
    source_priority: Annotated[tuple[str, ...], BeforeValidator(_priority)] = Field(CLASSES, description=(
        "Whose samples count where several sources recorded the same minutes, first wins, as the Health app's "
        "data-source order: `watch` (a source named like an Apple Watch), `phone` (an iPhone), `apps` (any "
        "other), with exact source names placed before them to rank one source above its kind."))
    exclude_apps: Annotated[tuple[str, ...], BeforeValidator(_names)] = Field(DEFAULT_EXCLUDED, description=(
        "Apps whose copies in Health are left out of the apple_health rows because the project syncs their "
        "source itself (a source whose name contains one of these, any case); they stay in the raw store and "
        "the import's summary lists them."))

    def rank(self, source: str) -> int | None:
        """Where a source stands (0 first), or None for an excluded app's copies."""
        lowered = source.lower()
        if any(app.lower() in lowered for app in self.exclude_apps):
            return None
        kind = "watch" if "watch" in lowered else "phone" if "iphone" in lowered else "apps"
        for i, entry in enumerate(self.source_priority):
            if entry == source or entry == kind:
                return i
        return len(self.source_priority)
