#!/usr/bin/env bash
# Calls the Snowplow Console API with curl and a short-lived token from
# snowplow-credentials (on PATH).
#
#   curl.sh [API PATH]     # default: /api/msc/v1/organizations
#   curl.sh '/api/msc/v1/organizations/{org}/data-structures/v1'
#
# The URL comes from the helper (`console-url`): the selected profile's Console,
# with {org} replaced by its organization ID, so a staging profile's token goes
# to staging. Choose the profile with SNOWPLOW_CREDENTIALS_PROFILE. The header
# reaches curl through a pipe (bash's <(...)), so the token is never on a
# command line, which `ps` shows to every user: avoid
# -H "Authorization: Bearer $(...)". If the helper fails, its error is printed
# and the script stops before calling curl, or curl's request is refused (401).
# A bash script (for <(...)): run by `sh curl.sh`, it runs itself again under
# bash rather than failing on bash's syntax half-way through.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -euo pipefail
url="$(snowplow-credentials console-url "${1:-/api/msc/v1/organizations}")"
curl --silent --show-error --fail-with-body --write-out '\n' \
	-H @<(snowplow-credentials header) "$url"
