"""`onemind web`: the web app, served by uvicorn."""

from __future__ import annotations

from pathlib import Path

import click

from onemind.cli.context import Context
from onemind.cli.options import examples


@click.command(
    epilog=examples(
        "onemind web                            serve on http://127.0.0.1:8000",
        "onemind web --host 0.0.0.0 --port 80   serve on every address (behind TLS)",
    )
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=8000,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Port to listen on.",
)
@click.option(
    "--evidence",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for attestation evidence files (default: evidence/ beside the configuration).",
)
@click.pass_obj
def web(ctx: Context, host: str, port: int, evidence: Path | None) -> None:
    """Serve the web app: the hub dashboard, agency pages, attestations, mapping review,
    certificates, runs, and the JSON API under /api/v1 (docs at /api/v1/docs)."""
    import uvicorn

    from onemind.web.app import create_app

    app = create_app(ctx.sessions(), ctx.settings(), ctx.now, evidence)
    click.echo(f"serving on http://{host}:{port}/ ; stop with Ctrl-C")
    uvicorn.run(app, host=host, port=port, proxy_headers=True, log_level="info")
