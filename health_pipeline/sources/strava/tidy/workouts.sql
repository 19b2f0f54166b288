-- Strava activities -> workouts, with the detail's energy. `sport_type` (`TrailRun`, `WeightTraining`,
-- `MountainBikeRide`) is normalised; `kilojoules` (list and detail, only with power: a power meter's
-- or Strava's estimate) is mechanical work and stays work_kj: it is never energy burned. The energy is
-- the detail's `calories` (kcal; 0 when Strava could not tell: NULL). Duration is the moving time; the
-- end is the start plus the elapsed time. A workout's day is the date of `start_date_local` (the
-- wall time where it happened).
-- per record
-- raw record: 'activities/' || workout_id
-- lineage: workout_id <- activities:id
-- lineage: day <- activities:start_date_local
-- lineage: start_ts <- activities:start_date
-- lineage: end_ts <- activities:start_date, activities:elapsed_time
-- lineage: activity <- activities:sport_type
-- lineage: title <- activities:name
-- lineage: duration_s <- activities:moving_time
-- lineage: active_kcal <- activity_detail:calories
-- lineage: distance_m <- activities:distance
-- lineage: avg_hr_bpm <- activities:average_heartrate
-- lineage: work_kj <- activities:kilojoules
WITH sports(sport, activity) AS (
    VALUES ('Run', 'running'), ('TrailRun', 'running'), ('VirtualRun', 'running'), ('Walk', 'walking'),
           ('Hike', 'hiking'), ('Ride', 'cycling'), ('MountainBikeRide', 'cycling'), ('GravelRide', 'cycling'),
           ('EBikeRide', 'cycling'), ('EMountainBikeRide', 'cycling'), ('VirtualRide', 'cycling'),
           ('Velomobile', 'cycling'), ('Handcycle', 'cycling'), ('Swim', 'swimming'),
           ('WeightTraining', 'strength_training'), ('Workout', 'fitness'), ('Crossfit', 'fitness'),
           ('HighIntensityIntervalTraining', 'fitness'), ('Yoga', 'yoga'), ('Pilates', 'pilates'),
           ('Rowing', 'rowing'), ('VirtualRow', 'rowing'), ('AlpineSki', 'skiing'), ('BackcountrySki', 'skiing'),
           ('NordicSki', 'skiing'), ('Elliptical', 'elliptical'), ('StairStepper', 'stair_climbing'),
           ('RockClimbing', 'climbing'), ('IceSkate', 'skating'), ('InlineSkate', 'skating'),
           ('Snowboard', 'snowboarding'), ('Snowshoe', 'snowshoeing'), ('Kayaking', 'kayaking'),
           ('Canoeing', 'canoeing'), ('StandUpPaddling', 'paddling'), ('Surfing', 'surfing'), ('Tennis', 'tennis'),
           ('Soccer', 'soccer'), ('Golf', 'golf'), ('Dance', 'dancing')
), a AS (
    SELECT record_id, day, payload, coalesce(payload->>'sport_type', payload->>'type') AS sport
    FROM raw WHERE resource = 'activities'
), d AS (
    SELECT record_id, payload AS detail FROM raw WHERE resource = 'activity_detail'
)
SELECT
    'strava'                                                                  AS provider,
    a.record_id                                                               AS workout_id,
    CAST(a.day AS DATE)                                                       AS day,
    CAST(payload->>'start_date' AS TIMESTAMPTZ)                               AS start_ts,
    CAST(payload->>'start_date' AS TIMESTAMPTZ) + to_seconds(CAST(payload->>'elapsed_time' AS BIGINT)) AS end_ts,
    coalesce(sports.activity, lower(regexp_replace(a.sport, '([a-z])([A-Z])', '\1_\2', 'g')), 'other') AS activity,
    payload->>'name'                                                          AS title,
    CAST(payload->>'moving_time' AS BIGINT)                                   AS duration_s,
    nullif(CAST(detail->>'calories' AS DOUBLE), 0)                            AS active_kcal,
    CAST(payload->>'distance' AS DOUBLE)                                      AS distance_m,
    CAST(payload->>'average_heartrate' AS DOUBLE)                             AS avg_hr_bpm,
    CAST(payload->>'kilojoules' AS DOUBLE)                                    AS work_kj
FROM a LEFT JOIN d USING (record_id) LEFT JOIN sports USING (sport)
