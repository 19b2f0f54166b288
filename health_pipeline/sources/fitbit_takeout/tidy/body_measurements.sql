-- A Fitbit export's weigh-ins -> body_measurements (provider fitbit): weight in kg, body fat in percent
-- height in m and body temperature (a thermometer's) in degC. Google's CSVs (`weight` in grams, `body_fat`
-- in percent, `height` in millimetres, `body_temperature` in degC, UTC
-- instants, dated on the configured
-- zone's calendar); the same weigh-in written by two apps (`data source`) is one row (the first source by
-- name). The JSON weigh-ins the import found in those CSVs (`in_google_csv`) are left to them; the others:
-- no unit (the import decided lb or kg from
-- weight / BMI, `unit`; lb become kg to the gram), `date` and `time` the wall clock on that date, placed in
-- time with `utc_offset_s` (the night's found offset on a trip, else the configured zone's).
-- raw record: '{resource}/' || CAST(day AS VARCHAR)
-- lineage: measured_at <- weight:item.date, weight:item.time, google_weight:rows[].timestamp, google_body_fat:rows[].timestamp, google_height:rows[].timestamp, google_body_temperature:rows[].timestamp
-- lineage: day <- weight:item.date, google_weight:rows[].timestamp, google_body_fat:rows[].timestamp, google_height:rows[].timestamp, google_body_temperature:rows[].timestamp
-- lineage: value <- weight:item.weight, weight:item.fat, google_weight:rows[].weight grams, google_body_fat:rows[].body fat percentage, google_height:rows[].height millimeters, google_body_temperature:rows[].temperature celsius
-- lineage: metric <- weight:item.weight, weight:item.fat, google_weight:rows[].weight grams, google_body_fat:rows[].body fat percentage, google_height:rows[].height millimeters, google_body_temperature:rows[].temperature celsius
-- lineage: unit <- weight:item.weight, weight:item.fat
-- lineage: source_id <- weight:item.logId, google_weight:rows[].timestamp, google_body_fat:rows[].timestamp, google_height:rows[].timestamp, google_body_temperature:rows[].timestamp
-- per record: every row comes from one raw record, so a long window is modelled in slices
WITH weighins AS (
    SELECT *, timezone('UTC', strptime((payload->'item'->>'date') || ' ' || coalesce(payload->'item'->>'time', '23:59:59'),
                                       '%m/%d/%y %H:%M:%S') - to_seconds(CAST(payload->>'utc_offset_s' AS BIGINT))) AS weighed_at
    FROM raw WHERE resource = 'weight' AND (payload->>'in_google_csv') IS NULL
), google_rows AS (
    SELECT resource, day, unnest(from_json(payload->'rows',
               '[{"timestamp": "VARCHAR", "weight grams": "VARCHAR", "body fat percentage": "VARCHAR",
                                           "height millimeters": "VARCHAR", "temperature celsius": "VARCHAR",
                                           "data source": "VARCHAR"}]')) AS r
    FROM raw WHERE resource IN ('google_weight', 'google_body_fat', 'google_height', 'google_body_temperature')
), google AS (
    SELECT CASE resource WHEN 'google_weight' THEN 'weight' WHEN 'google_height' THEN 'height'
                         WHEN 'google_body_temperature' THEN 'body_temperature' ELSE 'fat_ratio' END AS metric,
           CAST(day AS DATE) AS day, left(r.timestamp, 19) AS taken_at,
           arg_min(TRY_CAST(coalesce(r."weight grams", r."body fat percentage", r."height millimeters", r."temperature celsius") AS DOUBLE), coalesce(r."data source", '')) AS value
    FROM google_rows GROUP BY ALL
), logged AS (
    SELECT 'fitbit' AS provider, weighed_at AS measured_at, CAST(day AS DATE) AS day, 'weight' AS metric,
           CASE payload->>'unit' WHEN 'lb' THEN round(CAST(payload->'item'->>'weight' AS DOUBLE) * 0.45359237, 3)
                                 ELSE CAST(payload->'item'->>'weight' AS DOUBLE) END AS value,
           'kg' AS unit, record_id AS source_id
    FROM weighins
    UNION ALL
    SELECT 'fitbit', weighed_at, CAST(day AS DATE), 'fat_ratio', CAST(payload->'item'->>'fat' AS DOUBLE), '%', record_id
    FROM weighins WHERE (payload->'item'->>'fat') IS NOT NULL
)
SELECT provider, measured_at, day, metric, value, unit, source_id, CAST(NULL AS VARCHAR) AS segment
FROM logged
UNION ALL
SELECT 'fitbit', timezone('UTC', CAST(taken_at AS TIMESTAMP)), day, metric,
       CASE WHEN metric IN ('weight', 'height') THEN value / 1000.0 ELSE value END,
       CASE metric WHEN 'weight' THEN 'kg' WHEN 'height' THEN 'm' WHEN 'body_temperature' THEN 'degC' ELSE '%' END,
       taken_at, NULL
FROM google WHERE value IS NOT NULL
