"""Slack: Bolt listeners, Block Kit rendering and the Chat port over slack_sdk."""
