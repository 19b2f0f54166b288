-- Oura heartrate rows -> heart_rate. The raw record of a local day holds that day's rows as a
-- JSON array of {bpm, source, timestamp}; timestamps carry a UTC offset.
SELECT
    'oura'                              AS provider,
    CAST(sample.timestamp AS TIMESTAMPTZ) AS ts,
    CAST(raw.day AS DATE)               AS day,
    CAST(sample.bpm AS DOUBLE)          AS bpm,
    sample.source                       AS source
FROM raw,
     unnest(from_json(raw.payload, '[{"timestamp": "VARCHAR", "bpm": "DOUBLE", "source": "VARCHAR"}]')) AS t(sample)
WHERE sample.bpm IS NOT NULL
