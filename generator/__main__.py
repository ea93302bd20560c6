"""The `conngen` command (and `python -m generator`): the CLI, its imports included, with the
cycle collector paused and skipped at exit (see collector.py); generator.cli imports click, so
it loads in here."""

from generator.collector import process_entry


@process_entry
def main() -> None:
    from generator.cli import main as cli

    cli()


if __name__ == "__main__":
    main()
