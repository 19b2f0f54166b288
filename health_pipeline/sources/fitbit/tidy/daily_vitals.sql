-- Fitbit (Google Health) daily metrics -> daily_vitals, one row per day. The temperature deviation
-- is the nightly skin temperature minus the personal baseline (rounded to 0.001 degC).
-- raw record: '{resource}/' || CAST(day AS VARCHAR)
-- lineage: day <- daily-heart-rate-variability:dailyHeartRateVariability.date, daily-oxygen-saturation:dailyOxygenSaturation.date, daily-respiratory-rate:dailyRespiratoryRate.date, daily-sleep-temperature-derivations:dailySleepTemperatureDerivations.date
-- lineage: hrv_ms <- daily-heart-rate-variability:dailyHeartRateVariability.averageHeartRateVariabilityMilliseconds
-- lineage: spo2_pct <- daily-oxygen-saturation:dailyOxygenSaturation.averagePercentage
-- lineage: respiratory_rate_brpm <- daily-respiratory-rate:dailyRespiratoryRate.breathsPerMinute
-- lineage: temperature_deviation_c <- daily-sleep-temperature-derivations:dailySleepTemperatureDerivations.nightlyTemperatureCelsius, daily-sleep-temperature-derivations:dailySleepTemperatureDerivations.baselineTemperatureCelsius
SELECT
    'fitbit'                                                                    AS provider,
    CAST(day AS DATE)                                                           AS day,
    max(CAST(payload->'dailyHeartRateVariability'->>'averageHeartRateVariabilityMilliseconds' AS DOUBLE))
        FILTER (WHERE resource = 'daily-heart-rate-variability')               AS hrv_ms,
    max(CAST(payload->'dailyOxygenSaturation'->>'averagePercentage' AS DOUBLE))
        FILTER (WHERE resource = 'daily-oxygen-saturation')                    AS spo2_pct,
    CAST(NULL AS DOUBLE)                                                        AS breathing_disturbance_index,
    max(CAST(payload->'dailyRespiratoryRate'->>'breathsPerMinute' AS DOUBLE))
        FILTER (WHERE resource = 'daily-respiratory-rate')                     AS respiratory_rate_brpm,
    max(round(CAST(payload->'dailySleepTemperatureDerivations'->>'nightlyTemperatureCelsius' AS DOUBLE)
              - CAST(payload->'dailySleepTemperatureDerivations'->>'baselineTemperatureCelsius' AS DOUBLE), 3))
        FILTER (WHERE resource = 'daily-sleep-temperature-derivations')        AS temperature_deviation_c,
    CAST(NULL AS BIGINT)                                                        AS stress_high_s,
    CAST(NULL AS BIGINT)                                                        AS recovery_high_s,
    CAST(NULL AS DOUBLE)                                                        AS vo2_max,
    CAST(NULL AS DOUBLE)                                                        AS resting_hr_bpm,
    CAST(NULL AS DOUBLE)                                                        AS skin_temp_c,
    CAST(NULL AS DOUBLE)                                                        AS hrv_sdnn_ms
FROM raw
GROUP BY day
