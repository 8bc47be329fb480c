# fish completion for snowplow-credentials. Install:
#   snowplow-credentials completions fish > ~/.config/fish/completions/snowplow-credentials.fish
# It asks the binary itself (`__complete`), which knows the commands and
# reads the profile names from the config file.
function __snowplow_credentials_complete
    set -l before (commandline -opc)
    set -l current (commandline -ct)
    set -l out (command $before[1] __complete (math (count $before) - 1) $before[2..-1] $current 2>/dev/null)
    switch "$out[1]"
        case :files
            __fish_complete_path $current
        case :dirs
            __fish_complete_directories $current
        case '*'
            printf '%s\n' $out
    end
end
complete -c snowplow-credentials -f -a '(__snowplow_credentials_complete)'
