"""A loopback Jira emulator (stdlib + trustme) for incidentbot's tests and local runs.

with JiraEmulator("cloud") as emu:          # or JiraEmulator("server") for Data Center
    jira = JIRA(**emu.client_kwargs())      # server=emu.url, options={"verify": emu.ca_bundle},
                                            # basic_auth=(email, API token) | token_auth=PAT
    issue = jira.create_issue(project="OPS", summary="db down", issuetype={"name": "Task"})
    emu.issue(issue.key)["fields"]["summary"]
"""

from .emulator import JiraEmulator
from .faults import Fault
from .server import JiraCall

__all__ = ["Fault", "JiraCall", "JiraEmulator"]
