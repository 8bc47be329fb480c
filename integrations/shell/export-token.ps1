# The PowerShell form of export-token.sh: sets $env:SNOWPLOW_TOKEN to a
# short-lived Snowplow Console token for the rest of a script. Dot-source it
# (`. .\export-token.ps1`). If no token can be had, the helper's error is on
# stderr and the script stops with its exit code.
#
# The token is valid for hours, not for ever: a script that runs longer than
# that should call `snowplow-credentials.exe token` again (a cache hit).
$token = snowplow-credentials.exe token
if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
$env:SNOWPLOW_TOKEN = $token
