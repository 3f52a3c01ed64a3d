# shellcheck shell=bash
# bash completion for kiab. Load it with `source <(kiab completion bash)`, e.g. in ~/.bashrc.
# kiab itself works out the candidates from its own commands and the engine: `kiab __complete -- WORD...`
# gets the words typed so far (the last is the one under the cursor) and answers `files` (complete file
# names) or `words` followed by the candidates, one a line.

_kiab() {
  local current=${COMP_WORDS[COMP_CWORD]}
  local -a answer
  mapfile -t answer < <(kiab __complete -- "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null)
  COMPREPLY=()
  case ${answer[0]-} in
    files)
      compopt -o filenames 2>/dev/null
      mapfile -t COMPREPLY < <(compgen -f -- "$current")
      ;;
    words)
      COMPREPLY=("${answer[@]:1}")
      ;;
  esac
}

complete -F _kiab kiab
