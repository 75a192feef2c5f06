"""``python -m bot.emulators.pagerduty``: run the PagerDuty emulator until interrupted.

It prints the settings ``incidentbot serve`` reads (``KEY=value`` lines, ready for an env file);
``--webhook-url http://127.0.0.1:8080/webhooks/pagerduty`` subscribes the bot to its webhooks."""

from __future__ import annotations

from ..common import runner
from .emulator import PagerDutyEmulator

FROM_EMAIL = "alice@example.com"  # the seeded admin
DEFAULT_SERVICE = "checkout-api"  # what a declared incident pages when the catalog says nothing


def main(argv: list[str] | None = None) -> None:
    parser = runner.parser("Loopback PagerDuty emulator for incidentbot.", port=8766)
    parser.add_argument("--api-token", default="pd-test-token")
    parser.add_argument("--webhook-secret", default="pd-webhook-secret")
    parser.add_argument("--webhook-url", action="append", default=[], help="subscribe this URL")
    parser.add_argument("--rate-limits", action="store_true", help="enforce PagerDuty's limits")
    args = parser.parse_args(argv)
    emulator = PagerDutyEmulator(
        api_token=args.api_token,
        webhook_secret=args.webhook_secret,
        host=args.host,
        port=args.port,
        rate_limits=args.rate_limits,
    )
    emulator.start()
    for url in args.webhook_url:
        emulator.subscribe(url)
    # the names incidentbot's settings read (bot/settings.py), ready for an env file
    print(f"PAGERDUTY_API_URL={emulator.url}")
    print(f"PAGERDUTY_EVENTS_URL={emulator.url}")
    print(f"PAGERDUTY_API_TOKEN={args.api_token}")
    print(f"PAGERDUTY_CA_BUNDLE={emulator.ca_bundle}")
    print(f"PAGERDUTY_WEBHOOK_SECRETS={args.webhook_secret}")
    print(f"PAGERDUTY_FROM_EMAIL={FROM_EMAIL}")  # a seeded user: PagerDuty wants a real one
    print(f"PAGERDUTY_SERVICE_ID={emulator.service_id(DEFAULT_SERVICE)}")
    print(f"PAGERDUTY_ESCALATION_POLICY_ID={emulator.escalation_policy_id(DEFAULT_SERVICE)}")
    print("# the catalog (INCIDENTBOT_CONFIG) maps services to these:")
    for name, key in emulator.routing_keys.items():
        policy = emulator.escalation_policy_id(name)
        print(f"# service {name}: id={emulator.service_id(name)} policy={policy} routing_key={key}")
    runner.serve_until_interrupted(emulator)


if __name__ == "__main__":
    main()
