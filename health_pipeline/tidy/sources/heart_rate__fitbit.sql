-- Fitbit (Google Health) per-minute heart-rate roll-ups -> heart_rate: one row per minute at the
-- minute's start, the minute's average. A raw record holds one local day's roll-up points.
-- lineage: ts <- heart-rate:[].startTime
-- lineage: day <- heart-rate:[].startTime
-- lineage: bpm <- heart-rate:[].heartRate.beatsPerMinuteAvg
SELECT
    'fitbit'                                   AS provider,
    CAST(point.startTime AS TIMESTAMPTZ)       AS ts,
    CAST(raw.day AS DATE)                      AS day,
    point.heartRate.beatsPerMinuteAvg          AS bpm,
    'minute_avg'                               AS source
FROM raw,
     unnest(from_json(raw.payload, '[{"startTime": "VARCHAR", "heartRate": {"beatsPerMinuteAvg": "DOUBLE"}}]')) AS t(point)
WHERE point.heartRate.beatsPerMinuteAvg IS NOT NULL
