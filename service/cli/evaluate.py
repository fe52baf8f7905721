"""``evidencia eval``: ``classifiers.evaluate`` with the deployment's classifier options, so it
measures the model in force (one promoted by ``evidencia train`` into the data folder), the one
``analyze``, ``reprocess`` and the workers classify with."""

from __future__ import annotations

__all__ = ["run"]


def run(args) -> int:
    from classifiers.evaluate import run as evaluate
    from service.settings import get_settings

    return evaluate(args, options=get_settings().classifier_options())
