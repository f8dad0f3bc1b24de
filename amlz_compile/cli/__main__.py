"""`python -m amlz_compile.cli`: the `amlz` command."""

from .app import main

main()
