"""For bench/declare_to_channel.py: what an app under test did on the Slack emulator after a
declare, read from the emulator's call record (each `SlackCall.time` is stamped by the emulator
when it has handled the call, before it answers), and signed slash commands to send it."""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass

from processes import command_fields, slash_command

from bot.emulators.slack import SlackCall, SlackEmulator

POLL = 0.002


@dataclass
class Landed:
    """One declare's work as Slack saw it: when its channel was created, its card and its
    announcement posted (wall-clock seconds)."""

    channel: str
    created: float
    card: float
    announced: float


def signed_declare(slack: SlackEmulator, port: int, user: str, feed: str, text: str) -> bytes:
    """The raw HTTP request of a Slack-signed `/incident <text>` typed in `feed`; its trigger_id
    and response_url are issued by the emulator, as Slack would."""
    with slack._lock:  # the emulator's own bookkeeping of triggers and response URLs
        trigger = slack.ws.issue_trigger(user)
        response_url = f"{slack.url}/response/{slack.ws.issue_response_url(user, feed)}"
    fields = command_fields(
        team=slack.team_id,
        channel=feed,
        user=user,
        text=text,
        response_url=response_url,
        trigger_id=trigger,
        app_id=slack.app_id,
    )
    body, headers = slash_command(slack.signing_secret, fields)
    head = [
        "POST /slack/events HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        f"Content-Length: {len(body)}",
        "Connection: close",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def send(port: int, request: bytes) -> tuple[float, float]:
    """Sends one request on a fresh connection: (wall-clock time of the write, ack ms).
    RuntimeError unless the answer is a 200."""
    with socket.create_connection(("127.0.0.1", port)) as s:
        began, clock = time.time(), time.perf_counter()
        s.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        length = next(
            (
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            ),
            0,
        )
        while len(rest) < length:
            chunk = s.recv(65536)
            if not chunk:
                break
            rest += chunk
        elapsed = (time.perf_counter() - clock) * 1000
    status = int(head.split(b" ", 2)[1]) if head else 0
    if status != 200:
        raise RuntimeError(f"the app answered {status}: {rest[:200]!r}")
    return began, elapsed


class Watch:
    """The emulator's calls from a mark on."""

    def __init__(self, slack: SlackEmulator, feed: str) -> None:
        self.slack, self.feed = slack, feed
        self.start = len(slack.calls)

    def mark(self) -> None:
        self.start = len(self.slack.calls)

    def new(self) -> list[SlackCall]:
        return self.slack.calls[self.start :]

    def landed(self, tag: str = "") -> list[Landed]:
        """Each channel created since the mark (its name containing `tag`) whose card and
        announcement have been posted."""
        calls = self.new()
        out = []
        for c in calls:
            name = str(c.params.get("name", ""))
            if c.method != "conversations.create" or not c.ok or tag not in name:
                continue
            channel = c.response["channel"]["id"]
            card = _first_post(calls, channel)
            announced = _first_post(calls, self.feed, mentioning=channel)
            if card and announced:
                out.append(Landed(channel, c.time, card, announced))
        return out

    def created(self, tag: str) -> list[float]:
        return [
            c.time
            for c in self.new()
            if c.method == "conversations.create" and c.ok and tag in str(c.params.get("name"))
        ]

    def wait(self, done: int, tag: str = "", timeout: float = 30.0, quiet: float = 0.3) -> None:
        """Until `done` declares have landed and no call has come for `quiet` seconds after
        that (trailing work: pins, topic, response_url), or TimeoutError."""
        deadline = time.monotonic() + timeout
        while len(self.landed(tag)) < done:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(self.landed(tag))} of {done} declares landed")
            time.sleep(POLL)
        count = len(self.slack.calls)
        still = time.monotonic()
        while time.monotonic() - still < quiet:
            time.sleep(POLL * 10)
            if len(self.slack.calls) != count:
                count, still = len(self.slack.calls), time.monotonic()
            if time.monotonic() > deadline:
                return


def _first_post(calls: list[SlackCall], channel: str, mentioning: str = "") -> float | None:
    for c in calls:
        if (
            c.method == "chat.postMessage"
            and c.ok
            and c.params.get("channel") == channel
            and mentioning in str(c.params)
        ):
            return c.time
    return None
