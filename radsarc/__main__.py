"""``python -m radsarc`` runs the command line."""

from radsarc.cli import run

if __name__ == "__main__":
    run()
