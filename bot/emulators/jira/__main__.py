"""``python -m bot.emulators.jira``: run the Jira emulator until interrupted.

It prints the settings ``incidentbot serve`` reads (``KEY=value`` lines, ready for an env file)."""

from __future__ import annotations

from ..common import runner
from .emulator import JiraEmulator


def main(argv: list[str] | None = None) -> None:
    parser = runner.parser("Loopback Jira emulator for incidentbot.", port=8767)
    parser.add_argument("--flavour", choices=("cloud", "server"), default="cloud")
    parser.add_argument("--project-key", default="OPS")
    parser.add_argument("--email", default="admin@example.com")
    parser.add_argument("--api-token", default="jira-api-token", help="Cloud: Basic auth secret")
    parser.add_argument("--pat", default="jira-pat", help="Server/DC: personal access token")
    parser.add_argument("--rate-limits", action="store_true", help="enforce a per-user limit")
    args = parser.parse_args(argv)
    emulator = JiraEmulator(
        args.flavour,
        host=args.host,
        port=args.port,
        project_key=args.project_key,
        email=args.email,
        api_token=args.api_token,
        pat=args.pat,
        rate_limits=args.rate_limits,
    )
    emulator.start()
    # the names incidentbot's settings read (bot/settings.py), ready for an env file
    print(f"JIRA_URL={emulator.url}")
    print(f"# flavour: {emulator.flavour}")
    if emulator.cloud:
        print(f"JIRA_EMAIL={emulator.email}")
        print(f"JIRA_API_TOKEN={emulator.api_token}")
    else:
        print(f"# username: {emulator.username}")
        print(f"JIRA_PAT={emulator.pat}")
    print(f"JIRA_CA_BUNDLE={emulator.ca_bundle}")
    print(f"JIRA_PROJECT={emulator.project_key}")
    for name in ("alice", "bob", "carol"):
        user = emulator.user(name)
        ident = user.get("accountId") or user.get("name")
        print(f"# user {name}: {user['emailAddress']} {ident} token={emulator.token_for(name)}")
    runner.serve_until_interrupted(emulator)


if __name__ == "__main__":
    main()
