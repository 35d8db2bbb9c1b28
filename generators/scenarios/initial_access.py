"""Initial access: console sign-in without MFA after guessed passwords, a leaked key, the root user, and
a console session made from stolen keys."""
from cloudtrail_emulator.generators.scenarios.actors import federate
from cloudtrail_emulator.generators.scenarios.base import BROWSER_AGENT, TRUFFLEHOG_AGENT, Attack, scenario
from cloudtrail_emulator.generators.scenarios.techniques import (ADDITIONAL_CLOUD_CREDENTIALS, APPLICATION_ACCESS_TOKEN,
                                                                 CLOUD_ACCOUNT_DISCOVERY, CLOUD_STORAGE_DISCOVERY,
                                                                 PASSWORD_GUESSING, VALID_CLOUD_ACCOUNTS)

SIGNIN = "signin.amazonaws.com"
#: the HTTP client of the scripts that call the federation endpoint (aws_consoler and the like)
REQUESTS_AGENT = "python-requests/2.31.0"


def _login(attack: Attack, mfa: str, failed: bool = False) -> None:
    additional = {"LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No",
                  "MFAUsed": mfa}
    attack.call(SIGNIN, "ConsoleLogin", agent=BROWSER_AGENT, additional=additional,
                response={"ConsoleLogin": "Failure" if failed else "Success"},
                error=(None, "Failed authentication") if failed else None)


@scenario("console-login-without-mfa",
          "Guessed passwords, then a console sign-in without MFA from a new address; console browsing follows.",
          VALID_CLOUD_ACCOUNTS, PASSWORD_GUESSING, actors=("user",), console=True,
          stratus="aws.initial-access.console-login-without-mfa")
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
          VALID_CLOUD_ACCOUNTS, CLOUD_ACCOUNT_DISCOVERY, CLOUD_STORAGE_DISCOVERY, actors=("user",))
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
          VALID_CLOUD_ACCOUNTS, actors=("root",))
def root_console_login(attack: Attack) -> None:
    _login(attack, "No")
    attack.wait(10, 60)
    attack.call("iam.amazonaws.com", "ListUsers")
    attack.wait(5, 30)
    attack.call("iam.amazonaws.com", "GetAccountSummary")


@scenario("console-from-access-keys",
          "Stolen access keys are turned into a console session: a federation token, a sign-in token from the "
          "federation endpoint (GetSigninToken), then a console sign-in as the federated user.",
          APPLICATION_ACCESS_TOKEN, ADDITIONAL_CLOUD_CREDENTIALS, actors=("user",))
def console_from_access_keys(attack: Attack) -> None:
    attack.uses(ADDITIONAL_CLOUD_CREDENTIALS)
    federate(attack, attack.principal.username or "console")
    attack.wait(1, 4)
    attack.uses(APPLICATION_ACCESS_TOKEN)
    attack.call(SIGNIN, "GetSigninToken", agent=REQUESTS_AGENT, request=None,
                response={"GetSigninToken": "Success"})
    attack.wait(2, 10)
    attack.call(SIGNIN, "ConsoleLogin", agent=BROWSER_AGENT, request=None,
                additional={"LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No",
                            "MFAUsed": "No"},
                response={"ConsoleLogin": "Success"})
