"""``python -m bot.emulators.slack``: run the Slack emulator until interrupted."""

from __future__ import annotations

from ..common import runner
from .emulator import SlackEmulator


def main(argv: list[str] | None = None) -> None:
    parser = runner.parser("Loopback Slack emulator for incidentbot.", port=8765)
    parser.add_argument("--bot-url", default=None, help="where to POST Slack requests")
    parser.add_argument("--signing-secret", default="test-signing-secret")
    parser.add_argument("--bot-token", default="xoxb-test-token")
    parser.add_argument("--rate-limits", action="store_true", help="enforce Slack's tiers")
    args = parser.parse_args(argv)
    emulator = SlackEmulator(
        signing_secret=args.signing_secret,
        bot_token=args.bot_token,
        host=args.host,
        port=args.port,
        bot_url=args.bot_url,
        rate_limits=args.rate_limits,
    )
    emulator.start()
    print(f"SLACK_API_URL={emulator.api_url}", flush=True)
    print(f"team={emulator.team_id} bot_user={emulator.bot_user_id} token={args.bot_token}")
    runner.serve_until_interrupted(emulator)


if __name__ == "__main__":
    main()
