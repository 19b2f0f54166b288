-- Withings getintradayactivity samples (`[withings] intraday`) -> heart_rate. A raw record holds
-- one local day's samples as an object keyed by epoch-second strings.
-- raw record: '{resource}/' || CAST(day AS VARCHAR)
-- lineage: ts <- intraday:{epoch}
-- lineage: day <- intraday:{epoch}
-- lineage: bpm <- intraday:{epoch}.heart_rate
-- per record: every row comes from one raw record, so a long window is modelled in slices
SELECT
    'withings'                                       AS provider,
    to_timestamp(CAST(sample.key AS BIGINT))         AS ts,
    CAST(day AS DATE)                                AS day,
    sample.value.heart_rate                          AS bpm,
    'intraday'                                       AS source
FROM (SELECT day, unnest(map_entries(from_json(payload, '"MAP(VARCHAR, STRUCT(heart_rate DOUBLE))"'))) AS sample
      FROM raw)
WHERE sample.value.heart_rate IS NOT NULL
