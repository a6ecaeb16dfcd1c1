INSERT INTO line_stations (line, branch, position, station_id, station_name)
VALUES (%(line)s, %(branch)s, %(position)s, %(station_id)s, %(station_name)s)
ON CONFLICT (line, branch, position) DO NOTHING
