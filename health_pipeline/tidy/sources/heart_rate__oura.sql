-- Oura heartrate rows -> heart_rate. A raw record holds one local day's rows as a JSON array of
-- {bpm, source, timestamp} (UTC).
-- lineage: ts <- heartrate:[].timestamp
-- lineage: day <- heartrate:[].timestamp
-- lineage: bpm <- heartrate:[].bpm
-- lineage: source <- heartrate:[].source
SELECT
    'oura'                                  AS provider,
    CAST(sample.timestamp AS TIMESTAMPTZ)   AS ts,
    CAST(raw.day AS DATE)                   AS day,
    sample.bpm                              AS bpm,
    sample.source                           AS source
FROM raw,
     unnest(from_json(raw.payload, '[{"timestamp": "VARCHAR", "bpm": "DOUBLE", "source": "VARCHAR"}]')) AS t(sample)
WHERE sample.bpm IS NOT NULL
