"""The click group every sub-command registers on, and shared CLI helpers."""

from __future__ import annotations

import functools
import sys

import click

from radsarc._version import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="radsarc")
def main() -> None:
    """radsarc: radiomics and machine learning for soft-tissue-sarcoma MRI."""


def user_errors(func):
    """Turn the errors a user can act on into one message and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except (ValueError, TypeError, FileNotFoundError, KeyError, OSError) as exc:
            click.echo(f"radsarc: error: {exc}", err=True)
            sys.exit(2)

    return wrapper
