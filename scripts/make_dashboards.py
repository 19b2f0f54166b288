"""Write the Grafana dashboards in deploy/grafana/dashboards/ from the panel lists below.

Run: .venv/bin/python scripts/make_dashboards.py   (a test checks the files match this script)
Daily series are sparse (one sample at local midnight), so daily panels use
`last_over_time(...[1d])` with a one-day interval; instant series are plotted as they are.

Every query selects one person, `user="$user"`: the `user` variable lists the ids of every series the
dashboard's family has (not only of one metric: a person with only a scale has no steps). It is
single-select without "All" on purpose: Grafana selects "All" on first load when it is offered, and
"All" would overlay several people under the same legends; the operator switches person instead.
Opened through vmauth with a person's credentials, the list holds only their own id.
"""

import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "deploy" / "grafana" / "dashboards"
DATASOURCE = {"type": "prometheus", "uid": "victoriametrics"}
U = '{user="$user"}'

# (row, title, unit, interval or "", [(expr, legend)], bars)
HEALTH = [
    ("Activity", "Steps per day", "none", "1d", [(f"last_over_time(health_summary_steps{U}[1d])", "steps")], True),
    ("Activity", "Steps by provider", "none", "1d",
     [(f"last_over_time(health_steps{U}[1d])", "{{provider}}")], False),
    ("Activity", "Active energy per day", "kcal", "1d",
     [(f"last_over_time(health_summary_active_energy_kcal{U}[1d])", "active kcal")], True),
    ("Activity", "Minutes per activity level", "m", "1d",
     [(f"max by (level) (last_over_time(health_activity_seconds{U}[1d])) / 60", "{{level}}")], True),
    ("Heart", "Heart rate", "bpm", "", [(f"health_heart_rate_bpm{U}", "{{provider}}")], False),
    ("Heart", "Resting heart rate", "bpm", "1d",
     [(f"last_over_time(health_summary_resting_heart_rate_bpm{U}[1d])", "resting"),
      (f"avg_over_time(health_summary_resting_heart_rate_bpm{U}[30d])", "30-day average")], False),
    ("Heart", "Heart-rate variability", "ms", "1d", [(f"last_over_time(health_summary_hrv_ms{U}[1d])", "HRV")], False),
    ("Heart", "Minutes per heart-rate zone", "m", "1d",
     [(f"max by (zone) (last_over_time(health_heart_rate_zone_seconds{U}[1d])) / 60", "{{zone}}")], True),
    ("Sleep", "Hours asleep", "h", "1d",
     [(f"last_over_time(health_summary_asleep_seconds{U}[1d]) / 3600", "asleep"),
      (f"last_over_time(health_summary_time_in_bed_seconds{U}[1d]) / 3600", "in bed")], True),
    ("Sleep", "Sleep stages (main sleep)", "h", "1d",
     [('sum by (stage) (sum_over_time(health_sleep_seconds{user="$user", type="main", '
       'stage=~"deep|light|rem|awake"}[1d])) / 3600', "{{stage}}")], True),
    ("Sleep", "Sleep and readiness scores", "none", "1d",
     [(f"last_over_time(health_summary_sleep_score{U}[1d])", "sleep"),
      (f"last_over_time(health_summary_readiness_score{U}[1d])", "readiness")], False),
    ("Body", "Weight", "kg", "",
     [(f"health_body_weight_kg{U}", "{{provider}}"), (f"avg_over_time(health_body_weight_kg{U}[7d])", "7-day average")],
     False),
    ("Body", "Body fat", "percent", "", [(f"health_body_fat_ratio_percent{U}", "{{provider}}")], False),
    ("Body", "Blood pressure", "none", "",
     [(f"health_body_systolic_bp_mmhg{U}", "systolic"), (f"health_body_diastolic_bp_mmhg{U}", "diastolic")], False),
    ("Training", "Training volume per week", "kg", "7d",
     [(f"sum by (provider) (sum_over_time(health_training_volume_kg{U}[7d]))", "{{provider}}")], True),
    ("Training", "Workout minutes per week", "m", "7d",
     [(f"sum by (activity) (sum_over_time(health_workout_duration_seconds{U}[7d])) / 60", "{{activity}}")], True),
]

SYNCBIT = [
    ("Fitbit (SyncBit names)", "Steps", "none", "1d", [(f"last_over_time(fitbit_steps_total{U}[1d])", "steps")], True),
    ("Fitbit (SyncBit names)", "Distance", "lengthkm", "1d",
     [(f"last_over_time(fitbit_distance_km{U}[1d])", "km")], True),
    ("Fitbit (SyncBit names)", "Calories", "kcal", "1d",
     [(f"last_over_time(fitbit_calories_total{U}[1d])", "kcal")], True),
    ("Fitbit (SyncBit names)", "Active minutes", "m", "1d",
     [(f"last_over_time(fitbit_active_minutes{U}[1d])", "{{type}}")], True),
    ("Fitbit (SyncBit names)", "Floors and elevation", "none", "1d",
     [(f"last_over_time(fitbit_floors_total{U}[1d])", "floors"),
      (f"last_over_time(fitbit_elevation_meters{U}[1d])", "elevation (m)")], False),
    ("Fitbit (SyncBit names)", "Resting heart rate", "bpm", "1d",
     [(f"last_over_time(fitbit_resting_heart_rate_bpm{U}[1d])", "resting")], False),
    ("Fitbit (SyncBit names)", "Heart-rate zone minutes", "m", "1d",
     [(f"last_over_time(fitbit_heart_rate_zone_minutes{U}[1d])", "{{zone}}")], True),
    ("Fitbit (SyncBit names)", "Heart-rate zone calories", "kcal", "1d",
     [(f"last_over_time(fitbit_heart_rate_zone_calories{U}[1d])", "{{zone}}")], True),
]


def dashboard(uid: str, title: str, panels: list, family: str) -> dict:  # type: ignore[type-arg]
    built: list[dict] = []  # type: ignore[type-arg]
    y, column, row = 0, 0, None
    for index, (row_title, panel_title, unit, interval, targets, bars) in enumerate(panels):
        if row_title != row:
            row = row_title
            y += 8 if column else 0  # the previous row ended with a half-width panel
            built.append({"type": "row", "title": row_title, "collapsed": False, "id": 1000 + index,
                          "gridPos": {"h": 1, "w": 24, "x": 0, "y": y}, "panels": []})
            y, column = y + 1, 0
        panel = {
            "id": index + 1, "type": "timeseries", "title": panel_title, "datasource": DATASOURCE,
            "gridPos": {"h": 8, "w": 12, "x": column * 12, "y": y},
            "fieldConfig": {"defaults": {"unit": unit, "custom": {
                "drawStyle": "bars" if bars else "line", "fillOpacity": 60 if bars else 10,
                "showPoints": "auto", "spanNulls": True}}, "overrides": []},
            "options": {"legend": {"displayMode": "list", "placement": "bottom"}, "tooltip": {"mode": "multi"}},
            "targets": [{"refId": chr(65 + i), "datasource": DATASOURCE, "expr": expr, "legendFormat": legend,
                         "range": True} for i, (expr, legend) in enumerate(targets)],
        }
        if interval:
            panel["interval"] = interval
        built.append(panel)
        column = (column + 1) % 2
        if column == 0:
            y += 8
    people = f'label_values({{__name__=~"{family}_.+"}}, user)'
    return {
        "uid": uid, "title": title, "tags": ["health-pipeline"], "timezone": "browser", "schemaVersion": 39,
        "editable": True, "time": {"from": "now-90d", "to": "now"}, "refresh": "15m",
        "templating": {"list": [{
            "name": "user", "label": "user", "type": "query", "datasource": DATASOURCE,
            "query": {"query": people, "refId": "user"}, "definition": people, "refresh": 2,
            "includeAll": False, "multi": False, "sort": 1,
        }]},
        "panels": built,
    }


def render() -> dict[str, str]:
    """File name -> JSON text."""
    boards = {"health-pipeline.json": dashboard("health-pipeline", "Health", HEALTH, "health"),
              "health-pipeline-syncbit.json": dashboard("health-pipeline-syncbit", "Fitbit (SyncBit names)",
                                                        SYNCBIT, "fitbit")}
    return {name: json.dumps(board, indent=2) + "\n" for name, board in boards.items()}


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    for name, text in render().items():
        (OUT / name).write_text(text, encoding="utf-8")
        print(f"wrote {OUT / name}", file=sys.stderr)
