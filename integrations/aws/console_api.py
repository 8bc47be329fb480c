"""List your Snowplow Console organizations with a token from the AWS profile.

The `snowplow` profile of integrations/aws/config hands the Console token to
botocore (and so to boto3) as the session token; send it as a Bearer token.
Set SNOWPLOW_CONSOLE_HOST for another Console, AWS_PROFILE for another profile.
"""

import json
import os
import urllib.request

import botocore.session

host = os.environ.get("SNOWPLOW_CONSOLE_HOST") or "https://console.snowplowanalytics.com"
profile = os.environ.get("AWS_PROFILE") or "snowplow"

# boto3.Session(profile_name=profile).get_credentials() works the same way.
credentials = botocore.session.Session(profile=profile).get_credentials()
token = credentials.get_frozen_credentials().token

request = urllib.request.Request(
    host.rstrip("/") + "/api/msc/v1/organizations",
    headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
)
with urllib.request.urlopen(request, timeout=30) as response:
    for organization in json.load(response):
        print(organization["id"], organization["name"])
