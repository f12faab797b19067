# Shared helpers for the devtools scripts (sourced, not run).

# Print the path of a Python >= 3.12 (PATH first, then pyenv), or fail with what to install.
find_python() {
  local c
  for c in python3.13 python3.12 python3; do
    if command -v "$c" >/dev/null && "$c" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
      command -v "$c"; return
    fi
  done
  if command -v pyenv >/dev/null; then
    for c in "$(pyenv root)"/versions/3.1[2-9]*/bin/python; do
      [ -x "$c" ] && { echo "$c"; return; }
    done
  fi
  echo "error: Python >= 3.12 is needed and none was found (PATH, pyenv). Install one, e.g. 'pyenv install 3.12' or Debian 13's python3." >&2
  return 1
}

# pip, quiet, with its output kept in a log file instead of the terminal.
pip_install() {
  local venv=$1 logfile=$2; shift 2
  "$venv/bin/pip" install --disable-pip-version-check "$@" >"$logfile" 2>&1 \
    || { tail -20 "$logfile" >&2; echo "error: pip install failed (full log: $logfile)" >&2; return 1; }
}
