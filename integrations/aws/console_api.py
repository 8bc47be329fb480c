"""List your Snowplow Console organizations with a token from the AWS profile.

The `snowplow` profile of integrations/aws/config hands the Console token to
botocore (and so to boto3) as the session token; send it as a Bearer token.
The Console URL comes from the same snowplow-credentials command the AWS
profile runs (`console-url` in place of `aws`, same options), so a profile
for staging sends its token to staging. AWS_PROFILE names another AWS profile.

Redirects are refused: urllib would copy the Authorization header onto the
new request, whatever host it goes to, so a redirect would hand the token
to another server.
"""

import json
import os
import shlex
import subprocess
import sys
import urllib.error
import urllib.request

import botocore.session

profile = os.environ.get("AWS_PROFILE") or "snowplow"
session = botocore.session.Session(profile=profile)

# boto3.Session(profile_name=profile).get_credentials() works the same way.
token = session.get_credentials().get_frozen_credentials().token

# The profile's `credential_process`, asked for the Console URL instead.
argv = shlex.split(session.get_scoped_config()["credential_process"])
argv = ["console-url" if word in ("aws", "credential-process") else word for word in argv]
found = subprocess.run(argv + ["/api/msc/v1/organizations"], stdout=subprocess.PIPE, text=True)
if found.returncode != 0:
    sys.exit(found.returncode)  # the helper's one-line reason is on stderr
url = found.stdout.strip()



class RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """No redirect is followed: urllib raises HTTPError for the 3xx instead."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


request = urllib.request.Request(
    url, headers={"Authorization": f"Bearer {token}", "Accept": "application/json"}
)
try:
    with urllib.request.build_opener(RefuseRedirects).open(request, timeout=30) as response:
        organizations = json.load(response)
except urllib.error.HTTPError as e:
    if 300 <= e.code < 400:
        sys.exit(
            f"console_api.py: {url} answered HTTP {e.code} (a redirect to {e.headers.get('Location')}), "
            "which is not followed with the token: use the Console's own URL in the profile "
            "(`snowplow-credentials status` shows it)"
        )
    sys.exit(f"console_api.py: {url} answered HTTP {e.code}")
for organization in organizations:
    print(organization["id"], organization["name"])
