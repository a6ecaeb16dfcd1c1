-- The course project's `stations` table (one row per platform), extended with the
-- five other line flags, plus `line_stations`: the ordered stations of each line
-- and branch. docs/stations-schema.md explains the design.
CREATE TABLE IF NOT EXISTS stations (
    stop_id                  INTEGER PRIMARY KEY,
    direction_id             VARCHAR(1) NOT NULL,
    stop_name                VARCHAR(100) NOT NULL,
    station_name             VARCHAR(100) NOT NULL,
    station_descriptive_name VARCHAR(200) NOT NULL,
    station_id               INTEGER NOT NULL,
    "order"                  INTEGER,
    red                      BOOLEAN NOT NULL,
    blue                     BOOLEAN NOT NULL,
    green                    BOOLEAN NOT NULL,
    brown                    BOOLEAN NOT NULL,
    purple                   BOOLEAN NOT NULL,
    yellow                   BOOLEAN NOT NULL,
    pink                     BOOLEAN NOT NULL,
    orange                   BOOLEAN NOT NULL
);

CREATE INDEX IF NOT EXISTS stations_station_id ON stations (station_id);

CREATE TABLE IF NOT EXISTS line_stations (
    line         VARCHAR(10) NOT NULL,
    branch       VARCHAR(20) NOT NULL,
    position     INTEGER NOT NULL CHECK (position >= 0),
    station_id   INTEGER NOT NULL,
    station_name VARCHAR(100) NOT NULL,
    PRIMARY KEY (line, branch, position),
    UNIQUE (line, branch, station_id)
);
