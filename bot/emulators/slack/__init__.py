"""A loopback Slack emulator for incidentbot's tests and local runs (the Web API on the stdlib,
Socket Mode on ``websockets``).

with SlackEmulator(bot_url="http://127.0.0.1:8123/slack/events") as emu:
    client = WebClient(token=emu.bot_token, base_url=emu.api_url)
    reply = emu.send_command(emu.user_id("alice"), channel_id, "new db is down")

with SlackEmulator(socket_mode=True) as emu:  # the app connects with emu.app_token
    SocketModeHandler(bolt_app, emu.app_token).connect()
    reply = emu.send_command(...)  # sent down the WebSocket; the ack's payload is the answer
"""

from .emulator import SlackEmulator
from .faults import Fault
from .server import SlackCall
from .transport import BotReply, sign
from .webapi import DEFAULT_SCOPES

__all__ = ["DEFAULT_SCOPES", "BotReply", "Fault", "SlackCall", "SlackEmulator", "sign"]
