#!/bin/sh
# redis-server without a configuration file listens on every interface but, in protected
# mode, refuses other hosts; the official image turns it off, and so does this one.
set -eu
[ $# -eq 0 ] || [ "${1#-}" != "$1" ] && set -- redis-server "$@"
if [ "$1" = redis-server ]; then
  case " $* " in
    *" --protected-mode "*) ;;
    *) set -- "$@" --protected-mode no ;;
  esac
fi
exec "$@"
