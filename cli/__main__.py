from edittrace.cli.main import cli

cli()
