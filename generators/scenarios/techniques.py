"""The MITRE ATT&CK (Enterprise, cloud matrix) techniques the scenarios use, with the tactic each serves."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Technique:
    """A MITRE ATT&CK (Enterprise) technique and the tactic it serves in the scenario."""

    id: str        # "T1098.001"
    name: str
    tactic: str    # ATT&CK tactic short name, e.g. "persistence"


VALID_CLOUD_ACCOUNTS = Technique("T1078.004", "Valid Accounts: Cloud Accounts", "initial-access")
PASSWORD_GUESSING = Technique("T1110.001", "Brute Force: Password Guessing", "credential-access")
CLOUD_ACCOUNT_DISCOVERY = Technique("T1087.004", "Account Discovery: Cloud Account", "discovery")
CLOUD_INFRA_DISCOVERY = Technique("T1580", "Cloud Infrastructure Discovery", "discovery")
CLOUD_STORAGE_DISCOVERY = Technique("T1619", "Cloud Storage Object Discovery", "discovery")
CLOUD_GROUPS = Technique("T1069.003", "Permission Groups Discovery: Cloud Groups", "discovery")
ADDITIONAL_CLOUD_CREDENTIALS = Technique("T1098.001", "Account Manipulation: Additional Cloud Credentials",
                                         "persistence")
ADDITIONAL_CLOUD_ROLES = Technique("T1098.003", "Account Manipulation: Additional Cloud Roles",
                                   "privilege-escalation")
CREATE_CLOUD_ACCOUNT = Technique("T1136.003", "Create Account: Cloud Account", "persistence")
SERVERLESS_EXECUTION = Technique("T1648", "Serverless Execution", "execution")
UNIX_SHELL = Technique("T1059.004", "Command and Scripting Interpreter: Unix Shell", "execution")
CLOUD_ADMIN_COMMAND = Technique("T1651", "Cloud Administration Command", "execution")
CREATE_CLOUD_INSTANCE = Technique("T1578.002", "Modify Cloud Compute Infrastructure: Create Cloud Instance",
                                  "defense-evasion")
DISABLE_CLOUD_LOGS = Technique("T1562.008", "Impair Defenses: Disable or Modify Cloud Logs", "defense-evasion")
DISABLE_TOOLS = Technique("T1562.001", "Impair Defenses: Disable or Modify Tools", "defense-evasion")
CLOUD_SECRETS = Technique("T1555.006", "Credentials from Password Stores: Cloud Secrets Management Stores",
                          "credential-access")
UNSECURED_CREDENTIALS = Technique("T1552", "Unsecured Credentials", "credential-access")
TRANSFER_TO_CLOUD_ACCOUNT = Technique("T1537", "Transfer Data to Cloud Account", "exfiltration")
DATA_DESTRUCTION = Technique("T1485", "Data Destruction", "impact")
DATA_ENCRYPTED = Technique("T1486", "Data Encrypted for Impact", "impact")
INHIBIT_RECOVERY = Technique("T1490", "Inhibit System Recovery", "impact")
APPLICATION_ACCESS_TOKEN = Technique("T1550.001", "Use Alternate Authentication Material: Application Access Token",
                                     "defense-evasion")
UNUSED_REGIONS = Technique("T1535", "Unused/Unsupported Cloud Regions", "defense-evasion")
RESOURCE_HIJACKING = Technique("T1496", "Resource Hijacking", "impact")
