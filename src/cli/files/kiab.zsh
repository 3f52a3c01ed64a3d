#compdef kiab
# zsh completion for kiab. Load it with `source <(kiab completion zsh)` (after compinit), e.g. in ~/.zshrc,
# or save it as _kiab in a folder of $fpath. kiab works out the candidates itself: `kiab __complete -- WORD...`
# answers `files` (complete file names) or `words` followed by the candidates, one a line.

_kiab() {
  local -a answer
  answer=("${(@f)$(kiab __complete -- "${(@)words[2,CURRENT]}" 2>/dev/null)}")
  case ${answer[1]} in
    files) _files ;;
    words) (( ${#answer} > 1 )) && compadd -- "${(@)answer[2,-1]}" ;;
  esac
}

if [[ ${funcstack[1]} == _kiab ]]; then
  _kiab "$@"
else
  compdef _kiab kiab
fi
