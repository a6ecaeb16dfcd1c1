TRUNCATE stations, line_stations
