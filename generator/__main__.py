"""The `conngen` command (and `python -m generator`): the CLI, its imports included, with the
cycle collector paused and skipped at exit (see speed/collector.py); generator.commands.cli imports click, so
it loads in here."""

from generator.speed.collector import process_entry


@process_entry
def main() -> None:
    from generator.commands.cli import main as cli

    cli()


if __name__ == "__main__":
    main()
