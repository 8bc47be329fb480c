# PowerShell completion for snowplow-credentials. Install: add to $PROFILE
#   snowplow-credentials completions powershell | Out-String | Invoke-Expression
# It asks the binary itself (`__complete`), which knows the commands and
# reads the profile names from the config file.
Register-ArgumentCompleter -Native -CommandName 'snowplow-credentials', 'snowplow-credentials.exe' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)
    # The words before the one being typed, the program first. An empty
    # current word may not reach the program (older PowerShell drops empty
    # arguments): the count says how many words come before it.
    $words = @($commandAst.CommandElements |
        Where-Object { $_.Extent.EndOffset -lt $cursorPosition } |
        ForEach-Object { $_.ToString() })
    $program = $commandAst.CommandElements[0].ToString()
    $typed = @($words | Select-Object -Skip 1)
    $out = @(& $program __complete $typed.Count @typed $wordToComplete 2>$null)
    if ($out.Count -gt 0 -and ($out[0] -eq ':files' -or $out[0] -eq ':dirs')) {
        $items = Get-ChildItem -Path "$wordToComplete*" -ErrorAction SilentlyContinue
        if ($out[0] -eq ':dirs') { $items = $items | Where-Object { $_.PSIsContainer } }
        $items | ForEach-Object { [System.Management.Automation.CompletionResult]::new($_.Name, $_.Name, 'ProviderItem', $_.Name) }
        return
    }
    foreach ($line in $out) {
        if (-not $line) { continue }
        $word, $about = $line -split "`t", 2
        if (-not $about) { $about = $word }
        [System.Management.Automation.CompletionResult]::new($word, $word, 'ParameterValue', $about)
    }
}
