"""``python -m bot.emulators.opsgenie``: run the Opsgenie emulator until interrupted.

It prints the settings ``incidentbot serve`` reads (``KEY=value`` lines, ready for an env file);
``--webhook-url http://127.0.0.1:8080/webhooks/opsgenie`` adds an outgoing Webhook integration
whose custom header carries ``--webhook-token``."""

from __future__ import annotations

from ..common import runner
from .emulator import OpsgenieEmulator


def main(argv: list[str] | None = None) -> None:
    parser = runner.parser("Loopback Opsgenie emulator for incidentbot.", port=8768)
    parser.add_argument("--api-key", default="og-test-key")
    parser.add_argument("--webhook-token", default="og-webhook-token")
    parser.add_argument("--webhook-url", action="append", default=[], help="post webhooks here")
    parser.add_argument("--rate-limits", action="store_true", help="enforce rate limits")
    args = parser.parse_args(argv)
    emulator = OpsgenieEmulator(
        api_key=args.api_key, host=args.host, port=args.port, rate_limits=args.rate_limits
    )
    emulator.start()
    for url in args.webhook_url:
        emulator.add_webhook(url, headers={"Authorization": f"Bearer {args.webhook_token}"})
    print(f"OPSGENIE_API_URL={emulator.url}")
    print(f"OPSGENIE_API_KEY={args.api_key}")
    print(f"OPSGENIE_WEBHOOK_TOKEN={args.webhook_token}")
    print("# teams: checkout, database; schedules: checkout_schedule, database_schedule")
    print(
        f"# the on-call acting in the app: curl -X POST {emulator.url}/_control/Acknowledge "
        """-d '{"alias": "<page key>", "user": "bob@example.com"}'"""
    )
    runner.serve_until_interrupted(emulator)


if __name__ == "__main__":
    main()
