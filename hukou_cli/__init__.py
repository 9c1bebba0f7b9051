"""The ``hukou`` command line: composes the four packages (sim, policies, experiments, dashboard).

It lives in its own package because ``sim`` may not import ``experiments`` or ``dashboard`` (docs/contracts.md §2)
while the command line needs all of them.
"""

__all__: list[str] = []
