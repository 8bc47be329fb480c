#!/usr/bin/env bash
# Calls the Snowplow Console API with curl and a short-lived token from
# snowplow-credentials (on PATH).
#
#   curl.sh [API PATH]     # default: /api/msc/v1/organizations
#   curl.sh "/api/msc/v1/organizations/$SNOWPLOW_CONSOLE_ORG_ID/data-structures/v1"
#
# The Console is SNOWPLOW_CONSOLE_HOST, as for snowplow-cli. The header reaches
# curl through a pipe (bash's <(...)), so the token is never on a command line,
# which `ps` shows to every user: avoid -H "Authorization: Bearer $(...)".
# If the helper fails, its error is printed and curl's request is refused (401).
set -euo pipefail
console="${SNOWPLOW_CONSOLE_HOST:-https://console.snowplowanalytics.com}"
curl --silent --show-error --fail-with-body --write-out '\n' \
	-H @<(snowplow-credentials header) \
	"${console%/}${1:-/api/msc/v1/organizations}"
