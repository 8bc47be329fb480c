"""List your Snowplow Console organizations with a token from the AWS profile.

The `snowplow` profile of integrations/aws/config hands the Console token to
botocore (and so to boto3) as the session token; send it as a Bearer token.
The Console URL comes from the same snowplow-credentials command the AWS
profile runs (`console-url` in place of `aws`, same options), so a profile
for staging sends its token to staging. AWS_PROFILE names another AWS profile.
"""

import json
import os
import shlex
import subprocess
import sys
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

request = urllib.request.Request(
    url, headers={"Authorization": f"Bearer {token}", "Accept": "application/json"}
)
with urllib.request.urlopen(request, timeout=30) as response:
    for organization in json.load(response):
        print(organization["id"], organization["name"])
