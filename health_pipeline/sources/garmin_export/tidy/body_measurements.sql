-- A Garmin export's weigh-ins (`<userPK>_userBioMetrics.json`, the snapshots with a `weight`) ->
-- body_measurements (provider garmin): weight, muscle and bone mass in grams -> kg, body fat in percent.
-- A 0 is a failed impedance reading: no row. `timestampGMT` (epoch ms or a zone-less UTC string) was read
-- by the import (`measured_ms`); the day is the configured zone's (a weigh-in has no offset of its own).
-- raw record: 'biometrics/' || source_id
-- lineage: measured_at <- biometrics:item.weight.timestampGMT
-- lineage: day <- biometrics:item.weight.timestampGMT
-- lineage: value <- biometrics:item.weight.weight, biometrics:item.weight.bodyFat, biometrics:item.weight.muscleMass, biometrics:item.weight.boneMass
-- lineage: metric <- biometrics:item.weight.weight, biometrics:item.weight.bodyFat, biometrics:item.weight.muscleMass, biometrics:item.weight.boneMass
-- lineage: unit <- biometrics:item.weight.weight, biometrics:item.weight.bodyFat
-- lineage: source_id <- biometrics:item.weight.timestampGMT
-- per record: every row comes from one raw record, so a long window is modelled in slices
WITH weighins AS (
    SELECT record_id, CAST(day AS DATE) AS day, to_timestamp(CAST(payload->>'measured_ms' AS BIGINT) / 1000.0) AS weighed_at,
           payload->'item'->'weight' AS w
    FROM raw WHERE resource = 'biometrics'
), measures AS (
    SELECT record_id, day, weighed_at, 'weight' AS metric, TRY_CAST(w->>'weight' AS DOUBLE) / 1000 AS value, 'kg' AS unit FROM weighins
    UNION ALL SELECT record_id, day, weighed_at, 'fat_ratio', TRY_CAST(w->>'bodyFat' AS DOUBLE), '%' FROM weighins
    UNION ALL SELECT record_id, day, weighed_at, 'muscle_mass', TRY_CAST(w->>'muscleMass' AS DOUBLE) / 1000, 'kg' FROM weighins
    UNION ALL SELECT record_id, day, weighed_at, 'bone_mass', TRY_CAST(w->>'boneMass' AS DOUBLE) / 1000, 'kg' FROM weighins
)
SELECT 'garmin' AS provider, weighed_at AS measured_at, day, metric, round(value, 4) AS value, unit, record_id AS source_id,
       CAST(NULL AS VARCHAR) AS segment
FROM measures
WHERE value IS NOT NULL AND value <> 0
