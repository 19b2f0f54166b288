-- Oura heartrate rows -> heart_rate. A raw record holds one local day's rows as a JSON array of
-- {bpm, source, timestamp} (UTC).
-- raw record: '{resource}/' || CAST(day AS VARCHAR)
-- lineage: ts <- heartrate:[].timestamp
-- lineage: day <- heartrate:[].timestamp
-- lineage: bpm <- heartrate:[].bpm
-- lineage: source <- heartrate:[].source
-- per record: every row comes from one raw record, so a long window is modelled in slices
-- (unnest in the SELECT list: a lateral unnest in FROM is hundreds of times slower in DuckDB)
SELECT
    'oura'                                  AS provider,
    CAST(sample.timestamp AS TIMESTAMPTZ)   AS ts,
    CAST(day AS DATE)                       AS day,
    sample.bpm                              AS bpm,
    sample.source                           AS source
FROM (SELECT day, unnest(from_json(payload, '[{"timestamp": "VARCHAR", "bpm": "DOUBLE", "source": "VARCHAR"}]')) AS sample
      FROM raw)
WHERE sample.bpm IS NOT NULL
