# fish completion for kiab. Load it with `kiab completion fish | source`, or save it as
# ~/.config/fish/completions/kiab.fish. kiab works out the candidates itself: `kiab __complete -- WORD...`
# answers `files` (complete file names) or `words` followed by the candidates, one a line.

function __kiab_complete
    set -l words (commandline -opc)[2..-1] (commandline -ct)
    set -l answer (kiab __complete -- $words 2>/dev/null)
    switch "$answer[1]"
        case files
            __fish_complete_path (commandline -ct)
        case words
            printf '%s\n' $answer[2..-1]
    end
end

complete -c kiab -f -a '(__kiab_complete)'
