"""Scheduled work on a Celery worker pool: `onemind serve` enqueues, `onemind worker` runs."""
