#!/bin/sh
# Prints the path of a Python 3.10 interpreter (Rasa 3.6 supports 3.8-3.10 only), or fails
# with advice. Order: pyenv's version from .python-version, python3.10 on PATH.
want=$(cat "$(dirname "$0")/../.python-version" 2>/dev/null || echo 3.10)
for candidate in \
    "$(pyenv root 2>/dev/null)/versions/$want/bin/python" \
    "$(command -v python3.10 2>/dev/null)" \
    "$(command -v python3 2>/dev/null)"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ] &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; then
        echo "$candidate"
        exit 0
    fi
done
echo "No Python 3.10 found. Rasa 3.6 needs Python 3.10: install it (e.g. 'pyenv install $want'" >&2
echo "or your distribution's python3.10 package) and run make again." >&2
exit 1
