# The PowerShell form of curl.sh: calls the Snowplow Console API with a
# short-lived token from snowplow-credentials (on PATH).
#
#   .\curl.ps1 [API PATH]     # default: /api/msc/v1/organizations
#
# The Console is $env:SNOWPLOW_CONSOLE_HOST, as for snowplow-cli. The header
# reaches curl.exe on its standard input (-H @-), never on its command line,
# which every user's process list shows. If the helper fails, its error is
# printed and the script stops with its exit code.
param([string]$ApiPath = "/api/msc/v1/organizations")
$ErrorActionPreference = "Stop"
$console = if ($env:SNOWPLOW_CONSOLE_HOST) { $env:SNOWPLOW_CONSOLE_HOST } else { "https://console.snowplowanalytics.com" }
$header = snowplow-credentials.exe header
if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
$header | curl.exe --silent --show-error --fail-with-body -H "@-" ($console.TrimEnd("/") + $ApiPath)
exit $LASTEXITCODE
