"""The map screen: the system drawn from station coordinates, trains as moving dots."""
