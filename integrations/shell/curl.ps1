# The PowerShell form of curl.sh: calls the Snowplow Console API with a
# short-lived token from snowplow-credentials (on PATH).
#
#   .\curl.ps1 [API PATH]     # default: /api/msc/v1/organizations
#
# The URL comes from the helper (`console-url`), as in curl.sh: the selected
# profile's Console, with {org} replaced by its organization ID, so a staging
# profile's token goes to staging. The header reaches curl.exe on its
# standard input (-H @-), never on its command line, which every user's
# process list shows; curl.exe follows no redirect (no -L), unlike
# Invoke-RestMethod, which could carry the header elsewhere. If the helper
# fails, its error is printed and the script stops with its exit code.
param([string]$ApiPath = "/api/msc/v1/organizations")
$ErrorActionPreference = "Stop"
$url = snowplow-credentials.exe console-url $ApiPath
if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
$header = snowplow-credentials.exe header
if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
$header | curl.exe --silent --show-error --fail-with-body -H "@-" $url
exit $LASTEXITCODE
