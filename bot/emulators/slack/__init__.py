"""A loopback Slack emulator (stdlib only) for incidentbot's tests and local runs.

with SlackEmulator(bot_url="http://127.0.0.1:8123/slack/events") as emu:
    client = WebClient(token=emu.bot_token, base_url=emu.api_url)
    reply = emu.send_command(emu.user_id("alice"), channel_id, "new db is down")
"""

from .emulator import SlackEmulator
from .faults import Fault
from .server import SlackCall
from .transport import BotReply, sign
from .webapi import DEFAULT_SCOPES

__all__ = ["DEFAULT_SCOPES", "BotReply", "Fault", "SlackCall", "SlackEmulator", "sign"]
