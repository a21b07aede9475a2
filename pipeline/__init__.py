"""What every writer runs after changing data: recompute coverage, note status changes, keep
snapshots, issue and revoke credentials, and queue their pushes."""
