"""An Amazon SNS emulator on loopback: signs messages as SNS does and delivers them over HTTP."""

from .emulator import SnsEmulator

__all__ = ["SnsEmulator"]
