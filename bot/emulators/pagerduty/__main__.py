"""``python -m bot.emulators.pagerduty``: run the PagerDuty emulator until interrupted."""

from __future__ import annotations

from ..common import runner
from .emulator import PagerDutyEmulator


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
    print(f"PAGERDUTY_URL={emulator.url}")
    print(f"PAGERDUTY_API_TOKEN={args.api_token}")
    print(f"PAGERDUTY_CA_BUNDLE={emulator.ca_bundle}")
    print(f"PAGERDUTY_WEBHOOK_SECRET={args.webhook_secret}")
    for name, key in emulator.routing_keys.items():
        policy = emulator.escalation_policy_id(name)
        print(f"service {name}: id={emulator.service_id(name)} policy={policy} routing_key={key}")
    runner.serve_until_interrupted(emulator)


if __name__ == "__main__":
    main()
