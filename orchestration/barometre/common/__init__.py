"""What every stage shares: settings, the warehouse resource, the one-writer lock, file
modes, console output and the run log. Nothing here knows a pipeline stage."""
