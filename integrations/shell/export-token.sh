# Exports a short-lived Snowplow Console token as SNOWPLOW_TOKEN for the rest
# of a script. Source it (`. ./export-token.sh`) from sh or bash; do not run it.
# No eval: the helper's output is only ever a value. If no token can be had,
# the helper's error is on stderr and a sourcing script exits with its status;
# an interactive shell is not closed: the `.` command fails with that status.
#
# The token is valid for hours, not for ever: a script that runs longer than
# that should call `snowplow-credentials token` again (a cache hit) instead.
SNOWPLOW_TOKEN="$(snowplow-credentials token)" || {
    snowplow_status=$?
    unset SNOWPLOW_TOKEN
    case $- in
    *i*) return "$snowplow_status" ;;
    esac
    exit "$snowplow_status"
}
export SNOWPLOW_TOKEN
