"""``python -m bot.emulators.slack``: run the Slack emulator until interrupted.

It prints the settings ``incidentbot serve`` reads (``KEY=value`` lines, ready for an env file):
HTTP mode needs ``--bot-url`` (where signed requests go); Socket Mode (``--socket-mode``) needs
``SLACK_APP_TOKEN`` and no signing secret.
"""

from __future__ import annotations

from ..common import runner
from .emulator import SlackEmulator


def main(argv: list[str] | None = None) -> None:
    parser = runner.parser("Loopback Slack emulator for incidentbot.", port=8765)
    parser.add_argument("--bot-url", default=None, help="where to POST Slack requests")
    parser.add_argument("--signing-secret", default="test-signing-secret")
    parser.add_argument("--bot-token", default="xoxb-test-token")
    parser.add_argument("--app-token", default=None, help="the app-level token (xapp-…)")
    parser.add_argument("--socket-mode", action="store_true", help="send over Socket Mode only")
    parser.add_argument("--rate-limits", action="store_true", help="enforce Slack's tiers")
    args = parser.parse_args(argv)
    emulator = SlackEmulator(
        signing_secret=args.signing_secret,
        bot_token=args.bot_token,
        host=args.host,
        port=args.port,
        bot_url=args.bot_url,
        rate_limits=args.rate_limits,
        socket_mode=args.socket_mode,
        app_token=args.app_token,
    )
    emulator.start()
    incidents = emulator.add_channel("incidents", members=[emulator.bot_user_id])
    print(f"SLACK_API_URL={emulator.api_url}")
    print(f"SLACK_BOT_TOKEN={emulator.bot_token}")
    if args.socket_mode:  # no signing secret: the bot then serves Slack over the socket only
        print(f"SLACK_APP_TOKEN={emulator.app_token}")
    else:
        print(f"SLACK_SIGNING_SECRET={emulator.signing_secret}")
        print(f"# for Socket Mode (with --socket-mode): SLACK_APP_TOKEN={emulator.app_token}")
    print(f"SLACK_INCIDENTS_CHANNEL={incidents}")
    print(f"# team={emulator.team_id} bot_user={emulator.bot_user_id} app={emulator.app_id}")
    print(  # the control API (control.py) takes the signing secret, in Socket Mode too
        f"# act as a user: incidentbot slack --slack-url {emulator.api_url} "
        f"--secret {emulator.signing_secret} --in #incidents '/incident declare'"
    )
    runner.serve_until_interrupted(emulator)


if __name__ == "__main__":
    main()
