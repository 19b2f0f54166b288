-- A Garmin export's daily summaries (`UDSFile_*.json`) -> daily_activity (provider garmin), one row per
-- `calendarDate` (Garmin's local day). Days without device data (`includesWellnessData` false: the
-- pre-device records of old accounts) are none. `floorsAscendedInMeters` is metres, not floors: a floor
-- is 3.048 m (10 ft) as Garmin counts them. `activeSeconds` is Garmin's light activity; the moderate and
-- vigorous times are its intensity minutes. Resting heart rate is the day's own
-- (`currentDayRestingHeartRate`), not `restingHeartRate` (a 7-day value).
-- raw record: 'uds/' || CAST(day AS VARCHAR)
-- lineage: day <- uds:calendarDate
-- lineage: steps <- uds:totalSteps
-- lineage: distance_m <- uds:totalDistanceMeters
-- lineage: active_kcal <- uds:activeKilocalories
-- lineage: total_kcal <- uds:totalKilocalories
-- lineage: floors <- uds:floorsAscendedInMeters
-- lineage: elevation_gain_m <- uds:floorsAscendedInMeters
-- lineage: sedentary_s <- uds:sedentarySeconds
-- lineage: light_s <- uds:activeSeconds
-- lineage: moderate_s <- uds:moderateIntensityMinutes
-- lineage: vigorous_s <- uds:vigorousIntensityMinutes
-- lineage: resting_hr_bpm <- uds:currentDayRestingHeartRate
-- per record: every row comes from one raw record, so a long window is modelled in slices
SELECT
    'garmin'                                                                   AS provider,
    CAST(day AS DATE)                                                          AS day,
    TRY_CAST(payload->>'totalSteps' AS BIGINT)                                 AS steps,
    TRY_CAST(payload->>'totalDistanceMeters' AS DOUBLE)                        AS distance_m,
    TRY_CAST(payload->>'activeKilocalories' AS DOUBLE)                         AS active_kcal,
    TRY_CAST(payload->>'totalKilocalories' AS DOUBLE)                          AS total_kcal,
    round(TRY_CAST(payload->>'floorsAscendedInMeters' AS DOUBLE) / 3.048, 3)   AS floors,
    TRY_CAST(payload->>'floorsAscendedInMeters' AS DOUBLE)                     AS elevation_gain_m,
    TRY_CAST(payload->>'sedentarySeconds' AS BIGINT)                           AS sedentary_s,
    TRY_CAST(payload->>'activeSeconds' AS BIGINT)                              AS light_s,
    TRY_CAST(payload->>'moderateIntensityMinutes' AS BIGINT) * 60              AS moderate_s,
    TRY_CAST(payload->>'vigorousIntensityMinutes' AS BIGINT) * 60              AS vigorous_s,
    TRY_CAST(payload->>'currentDayRestingHeartRate' AS DOUBLE)                 AS resting_hr_bpm,
    CAST(NULL AS DOUBLE)                                                       AS equivalent_walking_distance_m
FROM raw
WHERE resource = 'uds' AND coalesce(TRY_CAST(payload->>'includesWellnessData' AS BOOLEAN), true)
