"""`onemind worker`: run scheduled work from the `[workers]` broker's queue."""

from __future__ import annotations

import logging
import os
import socket
from typing import TYPE_CHECKING

import click

from onemind.cli.context import Context
from onemind.cli.options import examples
from onemind.errors import ConfigurationError

if TYPE_CHECKING:
    from onemind.config import Settings
    from onemind.config.model import WorkersConfig
    from onemind.sync.scheduler import Dispatch


@click.command(
    epilog=examples(
        "onemind worker",
        "onemind worker --concurrency 4",
        "onemind worker --pool solo --log-format json",
    )
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    help="Processes running tasks at once (default: [workers] concurrency).",
)
@click.option(
    "--pool",
    type=click.Choice(["prefork", "solo", "threads"]),
    default="prefork",
    show_default=True,
    help="prefork: child processes; solo: tasks in this process, one at a time.",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Log lines as text, or as one JSON object a line.",
)
@click.pass_obj
def worker(ctx: Context, concurrency: int | None, pool: str, log_format: str) -> None:
    """Run syncs, recomputations, credential batches and reports from the broker's queue.

    Start as many as needed, on one machine or several sharing the store; `onemind serve`
    (the scheduler) puts the work on the queue. Stops after its running tasks on SIGTERM.
    """
    from onemind.sync.logcontext import configure
    from onemind.workers.app import make_app
    from onemind.workers.tasks import install

    settings = ctx.settings()
    config = _workers(settings)
    configure(logging.DEBUG if ctx.debug else logging.INFO, log_format)
    ctx.engine()  # the store must be reachable and current before taking work
    app = make_app(config)
    install(app, settings)
    app.worker_main(
        [
            "worker",
            f"--concurrency={concurrency or config.concurrency}",
            f"--pool={pool}",
            f"--hostname=onemind-{os.getpid()}@{socket.gethostname()}",
            f"--loglevel={'DEBUG' if ctx.debug else 'INFO'}",
            "--without-gossip",
            "--without-mingle",
        ]
    )


def dispatch_for(settings: Settings) -> Dispatch | None:
    """Where `onemind serve` sends its jobs: the broker's queue with `[workers]`, else nowhere
    (it runs them itself)."""
    if settings.workers is None:
        return None
    from onemind.workers.app import make_app
    from onemind.workers.dispatch import CeleryDispatch

    return CeleryDispatch(make_app(settings.workers))


def _workers(settings: Settings) -> WorkersConfig:
    if settings.workers is None:
        raise ConfigurationError(
            "onemind worker needs a [workers] section with a broker "
            '(e.g. broker = "redis://127.0.0.1:6379/0")'
        )
    return settings.workers
