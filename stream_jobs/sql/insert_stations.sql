INSERT INTO stations (
    stop_id, direction_id, stop_name, station_name, station_descriptive_name, station_id, "order",
    red, blue, green, brown, purple, yellow, pink, orange
) VALUES (
    %(stop_id)s, %(direction_id)s, %(stop_name)s, %(station_name)s, %(station_descriptive_name)s,
    %(station_id)s, %(order)s, %(red)s, %(blue)s, %(green)s, %(brown)s, %(purple)s, %(yellow)s,
    %(pink)s, %(orange)s
)
ON CONFLICT (stop_id) DO NOTHING
