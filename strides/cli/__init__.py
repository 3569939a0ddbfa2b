"""The `strides` command line: one Typer application (`strides.cli.app`), its commands by topic in
the modules here, each registering itself on the application with a decorator."""

from strides.cli import email, invites, ledger, orchestration, org, rules, runs, server
from strides.cli.app import app, main

__all__ = ["app", "email", "invites", "ledger", "main", "orchestration", "org", "rules", "runs", "server"]
