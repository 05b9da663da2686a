"""``python -m radsarc`` runs the command line."""

from radsarc.cli import main

if __name__ == "__main__":
    main()
