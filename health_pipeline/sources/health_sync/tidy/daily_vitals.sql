-- Eight Sleep nights kept by health-sync (`eightsleep_trends`) -> daily_vitals, provider eight_sleep, per
-- the local day the night's main sleep ended (the raw record's day): the account holder's only (the
-- `eightsleep_users_me` record's `user.userId`, else the one user the trends have). From the night's
-- `sleepQualityScore`: HRV (`hrv.current`, ms), breathing rate (`respiratoryRate.current`, breaths/min)
-- and heart rate (`heartRate.current`: the night's average while asleep, bpm; Eight Sleep has no
-- resting heart rate of its own). The Pod measures no SpO2 and no skin temperature (its `tempBedC` is
-- the bed's surface). The API's "None" is NULL; a night without any of the three is left out. A night
-- stored twice (two labels, after health-sync's zone changed) is kept once: the record with the most sleep.
-- lineage: day <- eightsleep_trends:sessions.sleepEnd, eightsleep_trends:sleepEnd, eightsleep_trends:presenceEnd, eightsleep_trends:day
-- lineage: hrv_ms <- eightsleep_trends:sleepQualityScore.hrv.current
-- lineage: respiratory_rate_brpm <- eightsleep_trends:sleepQualityScore.respiratoryRate.current
-- lineage: resting_hr_bpm <- eightsleep_trends:sleepQualityScore.heartRate.current
WITH me AS (
    SELECT max(coalesce(payload->'user'->>'userId', payload->'user'->>'id')) AS user_id
    FROM raw WHERE resource = 'eightsleep_users_me'
), trends AS (
    SELECT split_part(record_id, ':', 1) AS user_id, record_id, CAST(day AS DATE) AS day, payload
    FROM raw WHERE resource = 'eightsleep_trends' AND day IS NOT NULL
), holder AS (
    SELECT coalesce((SELECT user_id FROM me),
                    (SELECT max(user_id) FROM trends HAVING count(DISTINCT user_id) = 1)) AS user_id
), nights AS (
    SELECT day,
           TRY_CAST(payload->'sleepQualityScore'->'hrv'->>'current' AS DOUBLE)             AS hrv,
           TRY_CAST(payload->'sleepQualityScore'->'respiratoryRate'->>'current' AS DOUBLE) AS breathing,
           TRY_CAST(payload->'sleepQualityScore'->'heartRate'->>'current' AS DOUBLE)       AS heart
    FROM trends
    WHERE user_id = (SELECT user_id FROM holder)
    QUALIFY row_number() OVER (PARTITION BY day ORDER BY TRY_CAST(payload->>'sleepDuration' AS BIGINT) DESC NULLS LAST,
                                                          record_id DESC) = 1
)
SELECT
    'eight_sleep'          AS provider,
    day,
    hrv                    AS hrv_ms,
    CAST(NULL AS DOUBLE)   AS spo2_pct,
    CAST(NULL AS DOUBLE)   AS breathing_disturbance_index,
    breathing              AS respiratory_rate_brpm,
    CAST(NULL AS DOUBLE)   AS temperature_deviation_c,
    CAST(NULL AS BIGINT)   AS stress_high_s,
    CAST(NULL AS BIGINT)   AS recovery_high_s,
    CAST(NULL AS DOUBLE)   AS vo2_max,
    heart                  AS resting_hr_bpm,
    CAST(NULL AS DOUBLE)   AS skin_temp_c,
    CAST(NULL AS DOUBLE)   AS hrv_sdnn_ms
FROM nights
WHERE coalesce(hrv, breathing, heart) IS NOT NULL
