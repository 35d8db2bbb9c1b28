"""Initial access: console sign-in without MFA after guessed passwords, a leaked key, the root user."""
from cloudtrail_emulator.generators.scenarios.base import BROWSER_AGENT, TRUFFLEHOG_AGENT, Attack, scenario
from cloudtrail_emulator.generators.scenarios.techniques import (CLOUD_ACCOUNT_DISCOVERY, CLOUD_STORAGE_DISCOVERY,
                                             PASSWORD_GUESSING, VALID_CLOUD_ACCOUNTS)

SIGNIN = "signin.amazonaws.com"


def _login(attack: Attack, mfa: str, failed: bool = False) -> None:
    additional = {"LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No",
                  "MFAUsed": mfa}
    attack.call(SIGNIN, "ConsoleLogin", agent=BROWSER_AGENT, additional=additional,
                response={"ConsoleLogin": "Failure" if failed else "Success"},
                error=(None, "Failed authentication") if failed else None)


@scenario("console-login-without-mfa",
          "Guessed passwords, then a console sign-in without MFA from a new address; console browsing follows.",
          VALID_CLOUD_ACCOUNTS, PASSWORD_GUESSING, actor=("console-user",))
def console_login_without_mfa(attack: Attack) -> None:
    attack.uses(PASSWORD_GUESSING)
    for _ in range(attack.rng.randint(2, 4)):
        _login(attack, "No", failed=True)
        attack.wait(4, 20)
    attack.uses(VALID_CLOUD_ACCOUNTS)
    _login(attack, "No")
    for name in ("GetAccountSummary", "ListUsers", "ListRoles", "ListAccessKeys"):
        attack.wait(5, 40)
        attack.call("iam.amazonaws.com", name)


@scenario("leaked-access-key",
          "A long-term key found in a leak is checked with TruffleHog, then used from a new address and tool.",
          VALID_CLOUD_ACCOUNTS, CLOUD_ACCOUNT_DISCOVERY, CLOUD_STORAGE_DISCOVERY, actor=("user",))
def leaked_access_key(attack: Attack) -> None:
    attack.uses(CLOUD_ACCOUNT_DISCOVERY)
    attack.call("sts.amazonaws.com", "GetCallerIdentity", agent=TRUFFLEHOG_AGENT)
    attack.wait(600, 3600)  # the key is used later, by hand
    attack.uses(VALID_CLOUD_ACCOUNTS)
    attack.call("sts.amazonaws.com", "GetCallerIdentity")
    attack.wait(3, 30)
    attack.call("iam.amazonaws.com", "GetUser", request=None)
    attack.wait(2, 20)
    attack.uses(CLOUD_STORAGE_DISCOVERY)
    attack.call("s3.amazonaws.com", "ListBuckets")


@scenario("root-console-login",
          "The root user signs in to the console without MFA from an unknown address and lists the account's users.",
          VALID_CLOUD_ACCOUNTS, actor=("root",))
def root_console_login(attack: Attack) -> None:
    _login(attack, "No")
    attack.wait(10, 60)
    attack.call("iam.amazonaws.com", "ListUsers")
    attack.wait(5, 30)
    attack.call("iam.amazonaws.com", "GetAccountSummary")
