# bash completion for snowplow-credentials. Install:
#   snowplow-credentials completions bash > ~/.local/share/bash-completion/completions/snowplow-credentials
# or add `source <(snowplow-credentials completions bash)` to ~/.bashrc.
# It asks the binary itself (`__complete`), which knows the commands and
# reads the profile names from the config file.
_snowplow_credentials() {
    local cur=${COMP_WORDS[COMP_CWORD]} out
    out=$("${COMP_WORDS[0]}" __complete "$((COMP_CWORD - 1))" "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null) || return
    case $out in
    :files) compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
    :dirs) compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -d -- "$cur") ;;
    *) mapfile -t COMPREPLY < <(cut -f1 <<<"$out" | sed '/^$/d')
       # Quoted for the line, so a profile named "we ird" stays one word.
       local i
       for i in "${!COMPREPLY[@]}"; do printf -v 'COMPREPLY[i]' %q "${COMPREPLY[i]}"; done ;;
    esac
}
complete -F _snowplow_credentials snowplow-credentials
