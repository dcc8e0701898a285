from loadguard.cli import run

run()
