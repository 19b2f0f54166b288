-- Polar continuous heart rate -> heart_rate, `source` 'continuous': every 5 minutes, and every second
-- while exercising. Samples are local times of the day (`HH:MM:SS`) with no offset: at home they are read
-- in the configured zone (`home_tz()`), the hour repeated when clocks go back told apart by its order
-- (the first pass is summer time); a longer step back is the watch changing zone on a flight west (its
-- clock goes on: the step, to the quarter hour, is added to what follows); on a day whose night ended away
-- from home (its sleep's offset is not the home
-- zone's) in that night's offset, and so on a day without a night of its own whose latest night of the two
-- before was away. `day` is the date the record is for. A 0 is no reading: left out.
-- per day
-- lineage: ts <- continuous_heart_rate:date, continuous_heart_rate:heart_rate_samples[].sample_time, sleep:sleep_end_time
-- lineage: day <- continuous_heart_rate:date
-- lineage: bpm <- continuous_heart_rate:heart_rate_samples[].heart_rate
WITH samples AS (
    SELECT day,
           unnest(from_json(payload->'heart_rate_samples', '[{"heart_rate": "DOUBLE", "sample_time": "VARCHAR"}]')) AS s,
           generate_subscripts(from_json(payload->'heart_rate_samples', '["JSON"]'), 1) AS i
    FROM raw WHERE resource = 'continuous_heart_rate'
), stamped AS (
    SELECT day, i, s.heart_rate AS bpm, CAST(day AS DATE) + CAST(s.sample_time AS TIME) AS local_at
    FROM samples
), ordered AS (
    SELECT *, lag(local_at) OVER (PARTITION BY day ORDER BY i) - local_at AS back FROM stamped
), counted AS (
    -- a step back of an hour is the repeated hour; a longer one, the watch's zone changing
    SELECT *, sum(CASE WHEN back > INTERVAL 0 SECOND AND back <= INTERVAL 2 HOUR THEN 1 ELSE 0 END)
                  OVER (PARTITION BY day ORDER BY i) AS fold,
              sum(CASE WHEN back > INTERVAL 2 HOUR THEN CAST(round(epoch(back) / 900) * 900 AS BIGINT) ELSE 0 END)
                  OVER (PARTITION BY day ORDER BY i) AS later
    FROM ordered
), folded AS (
    SELECT day, i, bpm, fold, local_at + to_seconds(CAST(later AS BIGINT)) AS local_at FROM counted
), nights AS (
    SELECT CAST(day AS DATE) AS night, CAST(substr(payload->>'sleep_end_time', 1, 19) AS TIMESTAMP)
                - timezone('UTC', CAST(payload->>'sleep_end_time' AS TIMESTAMPTZ)) AS shift,
           timezone(home_tz(), CAST(substr(payload->>'sleep_end_time', 1, 19) AS TIMESTAMP))
                <> CAST(payload->>'sleep_end_time' AS TIMESTAMPTZ) AS abroad
    FROM raw WHERE resource = 'sleep'
), away AS (
    -- the day's own night, else the latest of the two nights before (a trip goes on): away from home?
    SELECT d.day, arg_max(nights.shift, nights.night) FILTER (WHERE nights.abroad) AS shift,
           arg_max(nights.abroad, nights.night) AS abroad
    FROM (SELECT DISTINCT day FROM folded) d
    JOIN nights ON nights.night BETWEEN CAST(d.day AS DATE) - 2 AND CAST(d.day AS DATE)
    GROUP BY d.day
)
SELECT
    'polar'                                                                       AS provider,
    CASE
        WHEN away.abroad THEN timezone('UTC', local_at - away.shift)
        WHEN fold = 0 AND timezone(home_tz(), local_at) <> timezone(home_tz(), local_at - INTERVAL 1 HOUR) + INTERVAL 1 HOUR
            THEN timezone(home_tz(), local_at) - INTERVAL 1 HOUR  -- the first pass of the repeated hour
        ELSE timezone(home_tz(), local_at)
    END                                                                           AS ts,
    CAST(folded.day AS DATE)                                                      AS day,
    bpm,
    'continuous'                                                                  AS source
FROM folded LEFT JOIN away USING (day)
WHERE bpm > 0
