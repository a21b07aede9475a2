"""`python -m onemind`."""

from onemind.cli import main

main()
