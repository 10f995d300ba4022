"""``python -m terralab.cli``: the ``terralab`` command."""

from terralab.cli import main

main()
