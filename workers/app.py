"""The Celery application: the broker from `[workers]`, late acknowledgement, one task at a time.

A task is acknowledged only when it has finished (`acks_late`), and a task whose worker process
died is put back on the queue (`reject_on_worker_lost`; on Redis also once its visibility
timeout has passed): every task may therefore run twice, and each is idempotent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from onemind.config.model import WorkersConfig

if TYPE_CHECKING:  # Celery loads only in the processes that talk to the broker
    from celery import Celery


def make_app(config: WorkersConfig) -> Celery:
    """A Celery app on the configured broker, tasks to be installed by `tasks.install`."""
    from celery import Celery

    app = Celery("onemind", broker=config.broker_url(), set_as_current=False)
    app.conf.update(
        task_default_queue=config.queue,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
        broker_transport_options=_transport(config),
    )
    return app


def _transport(config: WorkersConfig) -> dict[str, Any]:
    """Redis: the queue's keys under its own prefix (several hubs can share one Redis), and
    unacknowledged tasks looked for often enough to redeliver soon after the timeout."""
    timeout = config.visibility_timeout_seconds
    return {
        "visibility_timeout": timeout,
        "global_keyprefix": f"{config.queue}:",
        "unacked_restore_interval": max(1, min(10, timeout // 2)),
        "unacked_restore_throttle": 1,
    }
