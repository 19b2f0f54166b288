-- Fitbit (Google Health) per-minute heart-rate roll-ups -> heart_rate: one row per minute at the
-- minute's start, the minute's average. A raw record holds one local day's roll-up points.
-- raw record: '{resource}/' || CAST(day AS VARCHAR)
-- lineage: ts <- heart-rate:[].startTime
-- lineage: day <- heart-rate:[].startTime
-- lineage: bpm <- heart-rate:[].heartRate.beatsPerMinuteAvg
-- per record: every row comes from one raw record, so a long window is modelled in slices
SELECT
    'fitbit'                                   AS provider,
    CAST(point.startTime AS TIMESTAMPTZ)       AS ts,
    CAST(day AS DATE)                          AS day,
    point.heartRate.beatsPerMinuteAvg          AS bpm,
    'minute_avg'                               AS source
FROM (SELECT day, unnest(from_json(payload, '[{"startTime": "VARCHAR", "heartRate": {"beatsPerMinuteAvg": "DOUBLE"}}]')) AS point
      FROM raw)
WHERE point.heartRate.beatsPerMinuteAvg IS NOT NULL
