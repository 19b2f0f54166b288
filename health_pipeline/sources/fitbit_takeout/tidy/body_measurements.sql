-- A Fitbit export's weigh-ins -> body_measurements (provider fitbit): weight in kg (the file has no
-- unit: the import decided lb or kg from weight / BMI, `unit`; lb become kg to the gram) and body fat
-- in percent when logged. `date` and `time` are the local wall clock; `utc_offset_s` the day's offset.
-- raw record: 'weight/' || source_id
-- lineage: measured_at <- weight:item.date, weight:item.time
-- lineage: day <- weight:item.date
-- lineage: value <- weight:item.weight, weight:item.fat
-- lineage: metric <- weight:item.weight, weight:item.fat
-- lineage: unit <- weight:item.weight, weight:item.fat
-- lineage: source_id <- weight:item.logId
-- per record: every row comes from one raw record, so a long window is modelled in slices
WITH weighins AS (
    SELECT *, timezone('UTC', strptime((payload->'item'->>'date') || ' ' || coalesce(payload->'item'->>'time', '23:59:59'),
                                       '%m/%d/%y %H:%M:%S') - to_seconds(CAST(payload->>'utc_offset_s' AS BIGINT))) AS weighed_at
    FROM raw
)
SELECT 'fitbit' AS provider, weighed_at AS measured_at, CAST(day AS DATE) AS day, 'weight' AS metric,
       CASE payload->>'unit' WHEN 'lb' THEN round(CAST(payload->'item'->>'weight' AS DOUBLE) * 0.45359237, 3)
                             ELSE CAST(payload->'item'->>'weight' AS DOUBLE) END AS value,
       'kg' AS unit, record_id AS source_id, CAST(NULL AS VARCHAR) AS segment
FROM weighins
UNION ALL
SELECT 'fitbit', weighed_at, CAST(day AS DATE), 'fat_ratio', CAST(payload->'item'->>'fat' AS DOUBLE), '%', record_id, NULL
FROM weighins WHERE (payload->'item'->>'fat') IS NOT NULL
