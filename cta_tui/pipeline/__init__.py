"""The pipeline screen: services, jobs (start/stop/restart/logs), rates and consumer lag."""
