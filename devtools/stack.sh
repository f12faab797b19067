#!/usr/bin/env bash
# Local stack for development, the demo and the tests: a real NetBox 4.7 (PyPI wheel, own virtualenv,
# gunicorn) on PostgreSQL and Redis at 127.0.0.1.
#
#   devtools/stack.sh up       start what is missing (idempotent); print the settings it wrote
#   devtools/stack.sh reset    drop this stack's database, restore the migrated snapshot, start again
#   devtools/stack.sh down     stop what `up` started (gunicorn; PostgreSQL/Redis only if it started them)
#   devtools/stack.sh status   say what runs
#   devtools/stack.sh env      print the settings file (tokens included: it is for `source`, not for logs)
#   devtools/stack.sh shell …  run `netbox shell …` on this stack's NetBox (the benchmarks seed data this way)
#
# STACK=demo (default), test or bench picks an instance: each has its own database, NetBox port, Redis
# databases and state directory (.stack/$STACK), so the tests never touch the demo's data.
# Slow things are cached outside the work tree ($LNBI_CACHE, default ~/.cache/lnb-importer): the NetBox
# virtualenv and a pg_dump of the freshly migrated database (a cold `migrate` takes ~4 minutes).
set -euo pipefail

NETBOX_VERSION=4.7.3
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STACK=${STACK:-demo}
case "$STACK" in
  demo) NB_PORT=${NB_PORT:-8000}; NB_REDIS_TASKS=0; NB_REDIS_CACHE=1; APP_REDIS_DB=2 ;;
  test) NB_PORT=${NB_PORT:-8010}; NB_REDIS_TASKS=4; NB_REDIS_CACHE=5; APP_REDIS_DB=3 ;;
  bench) NB_PORT=${NB_PORT:-8020}; NB_REDIS_TASKS=6; NB_REDIS_CACHE=7; APP_REDIS_DB=8 ;;
  *) echo "STACK must be demo, test or bench, not '$STACK'" >&2; exit 2 ;;
esac
STATE="$ROOT/.stack/$STACK"
CACHE=${LNBI_CACHE:-$HOME/.cache/lnb-importer}
VENV="$CACHE/netbox-$NETBOX_VERSION-venv"
DB="lnbi_$STACK"
DB_USER=lnbi
DB_PASS=lnbi-local-only
REDIS_PORT=6379
# shellcheck source=devtools/lib.sh
source "$ROOT/devtools/lib.sh"

log() { printf '[stack:%s] %s\n' "$STACK" "$*" >&2; }
die() { printf '[stack:%s] error: %s\n' "$STACK" "$*" >&2; exit 1; }

apt_install() {
  command -v apt-get >/dev/null || die "$* missing and no apt-get here: install $* yourself"
  [ "$(id -u)" = 0 ] || die "$* missing: install it (apt-get install $*) or run this script as root"
  log "installing $* from Debian"
  if [ ! -f "$STATE/.apt-updated" ]; then apt-get update -qq >&2; touch "$STATE/.apt-updated"; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}

# ---------------------------------------------------------------- NetBox virtualenv
ensure_netbox_venv() {
  [ -f "$VENV/.complete" ] && return
  local py; py=$(find_python)
  log "creating the NetBox virtualenv with $py (one time, ~1 minute)"
  rm -rf "$VENV"; mkdir -p "$CACHE"
  "$py" -m venv "$VENV"
  pip_install "$VENV" "$CACHE/netbox-pip.log" "netbox==$NETBOX_VERSION" "gunicorn==26.2.0" "psycopg[binary]==3.3.6"
  touch "$VENV/.complete"
}

# ---------------------------------------------------------------- PostgreSQL
pg_up() { command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432; }

as_postgres() {
  if [ "$(id -u)" = 0 ] && id postgres >/dev/null 2>&1; then runuser -u postgres -- "$@"; else "$@"; fi
}

ensure_postgres() {
  pg_up && return
  if ! command -v pg_ctlcluster >/dev/null; then apt_install postgresql; fi
  local ver; ver=$(ls /etc/postgresql | sort -V | tail -1)
  log "starting PostgreSQL $ver"
  pg_ctlcluster --skip-systemctl-redirect "$ver" main start >&2 || true
  for _ in $(seq 50); do pg_up && break; sleep 0.2; done
  pg_up || die "PostgreSQL did not start on 127.0.0.1:5432 (see /var/log/postgresql/)"
  touch "$STATE/started-postgres"
}

psql_admin() { as_postgres psql -X -q -v ON_ERROR_STOP=1 -d postgres "$@"; }

db_exists() { [ "$(psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname='$DB'")" = 1 ]; }

ensure_db_role() {
  psql_admin -tAc "SELECT 1 FROM pg_roles WHERE rolname='$DB_USER'" | grep -q 1 \
    || psql_admin -c "CREATE ROLE $DB_USER LOGIN PASSWORD '$DB_PASS' CREATEDB"
}

# ---------------------------------------------------------------- Redis
redis_up() {
  (exec 3<>"/dev/tcp/127.0.0.1/$REDIS_PORT" && printf 'PING\r\n' >&3 && read -r -t 2 line <&3 \
    && [[ "$line" == +PONG* ]]) 2>/dev/null
}

ensure_redis() {
  redis_up && return
  command -v redis-server >/dev/null || apt_install redis-server
  log "starting Redis on 127.0.0.1:$REDIS_PORT"
  redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no \
    --pidfile "$STATE/redis.pid" --logfile "$STATE/redis.log" >&2
  for _ in $(seq 50); do redis_up && break; sleep 0.1; done
  redis_up || die "Redis did not start (see $STATE/redis.log)"
  touch "$STATE/started-redis"
}

# ---------------------------------------------------------------- NetBox
write_config() {
  mkdir -p "$STATE/netbox/conf" "$STATE/netbox/media" "$STATE/netbox/reports" "$STATE/netbox/scripts"
  [ -f "$STATE/secrets" ] || {
    local py; py="$VENV/bin/python"
    "$py" - >"$STATE/secrets" <<'PY'
import secrets
print("SECRET_KEY=" + secrets.token_urlsafe(60))
print("PEPPER=" + secrets.token_urlsafe(60))
PY
    chmod 600 "$STATE/secrets"
  }
  # shellcheck disable=SC1091
  source "$STATE/secrets"
  cat >"$STATE/netbox/conf/configuration.py" <<EOF
# Written by devtools/stack.sh for the local '$STACK' stack. Not for production.
ALLOWED_HOSTS = ["*"]
DATABASES = {"default": {"NAME": "$DB", "USER": "$DB_USER", "PASSWORD": "$DB_PASS",
                         "HOST": "127.0.0.1", "PORT": "5432", "CONN_MAX_AGE": 300}}
REDIS = {
    "tasks": {"HOST": "127.0.0.1", "PORT": $REDIS_PORT, "DATABASE": $NB_REDIS_TASKS, "SSL": False},
    "caching": {"HOST": "127.0.0.1", "PORT": $REDIS_PORT, "DATABASE": $NB_REDIS_CACHE, "SSL": False},
}
SECRET_KEY = "$SECRET_KEY"
API_TOKEN_PEPPERS = {1: "$PEPPER"}
CENSUS_REPORTING_ENABLED = False
ISOLATED_DEPLOYMENT = True
RELEASE_CHECK_URL = None
MEDIA_ROOT = "$STATE/netbox/media"
REPORTS_ROOT = "$STATE/netbox/reports"
SCRIPTS_ROOT = "$STATE/netbox/scripts"
EOF
}

nb() { NETBOX_ROOT="$STATE/netbox" "$VENV/bin/netbox" "$@"; }

snapshot_file() {
  local pgver; pgver=$(psql_admin -tAc "SHOW server_version_num" | cut -c1-2)
  echo "$CACHE/snapshots/netbox-$NETBOX_VERSION-pg$pgver.dump"
}

create_database() {
  local snap; snap=$(snapshot_file)
  psql_admin -c "CREATE DATABASE $DB OWNER $DB_USER"
  if [ -f "$snap" ]; then
    log "restoring the migrated NetBox database from the snapshot"
    as_postgres pg_restore --no-owner --role="$DB_USER" -d "$DB" <"$snap"
  else
    log "migrating a new NetBox database (one time per NetBox/PostgreSQL version, ~4 minutes)"
    nb migrate --no-input >"$STATE/migrate.log" 2>&1 || die "netbox migrate failed (see $STATE/migrate.log)"
    mkdir -p "$(dirname "$snap")"
    as_postgres pg_dump -Fc "$DB" >"$snap.tmp" && mv "$snap.tmp" "$snap"
    log "snapshot saved: $snap"
  fi
  rm -f "$STATE/netbox.env"
}

USERS_VERSION=2  # raise it when bootstrap_users makes other users: stacks then make them again

bootstrap_users() {
  # Users with real permissions, each password "<name>-local-only" (this stack is local-only):
  #   admin    superuser, with the v2 token the app uses as its service token (NETBOX_TOKEN)
  #   noperm   no permission at all (NETBOX_TOKEN_NOPERM)
  #   analyst  sees everything; writes devices and their interfaces only in the site "hq" (a constrained
  #            object permission), IPs, stacks and VMs anywhere
  #   viewer   sees everything, writes nothing
  #   lead     writes everything the import writes, and is in the admin group (librenms-importer-admins)
  #   demo     as lead: the demo's analyst (devtools/run.sh prints the name and password)
  # The tokens exist only here and in the settings file (mode 600).
  log "creating users, permissions and API tokens"
  nb shell --no-imports -c '
from core.models import ObjectType
from users.models import Group, ObjectPermission, Token, User
def user(name, superuser=False):
    user, _ = User.objects.get_or_create(username=name, defaults={"is_superuser": superuser})
    user.is_superuser = superuser
    user.set_password(name + "-local-only")
    user.save()
    return user
def token_for(user):
    Token.objects.filter(user=user).delete()
    token = Token(user=user, write_enabled=True)
    token.save()
    return f"nbt_{token.key}.{token.token}"
def permission(name, types, actions, users, constraints=None):
    ObjectPermission.objects.filter(name=name).delete()
    perm = ObjectPermission.objects.create(name=name, actions=actions, constraints=constraints)
    perm.object_types.set(types)
    perm.users.set(users)
def types(*labels):
    return [ObjectType.objects.get_by_natural_key(*label.split(".")) for label in labels]
WRITE = ["add", "change", "delete"]
admins, _ = Group.objects.get_or_create(name="librenms-importer-admins")
analyst, viewer, lead, demo = user("analyst"), user("viewer"), user("lead"), user("demo")
for member in (lead, demo):
    member.groups.add(admins)
permission("lnbi-view-all", ObjectType.objects.all(), ["view"], [analyst, viewer, lead, demo])
permission("lnbi-devices-in-hq", types("dcim.device"), WRITE, [analyst], {"site__slug": "hq"})
permission("lnbi-interfaces-in-hq", types("dcim.interface"), WRITE, [analyst], {"device__site__slug": "hq"})
imported = ["ipam.ipaddress", "dcim.virtualchassis", "virtualization.virtualmachine",
            "virtualization.vminterface", "extras.tag"]
permission("lnbi-import-anywhere", types(*imported), WRITE, [analyst])
permission("lnbi-import-all", types("dcim.device", "dcim.interface", *imported), WRITE, [lead, demo])
print("NETBOX_TOKEN=" + token_for(user("admin", True)))
print("NETBOX_TOKEN_NOPERM=" + token_for(user("noperm")))
' >"$STATE/tokens.tmp" 2>"$STATE/bootstrap.log" || die "user bootstrap failed (see $STATE/bootstrap.log)"
  {
    echo "# Written by devtools/stack.sh ($STACK stack). Local secrets: do not commit or paste."
    echo "NETBOX_URL=http://127.0.0.1:$NB_PORT"
    grep -E '^NETBOX_TOKEN(_NOPERM)?=' "$STATE/tokens.tmp"
    echo "REDIS_URL=redis://127.0.0.1:$REDIS_PORT/$APP_REDIS_DB"
    echo "JOB_SECRET=$("$VENV/bin/python" -c 'import secrets; print(secrets.token_urlsafe(32))')"
    echo "STACK_USERS=$USERS_VERSION"
  } >"$STATE/netbox.env"
  rm -f "$STATE/tokens.tmp"
  chmod 600 "$STATE/netbox.env"
}

tokens_valid() {
  [ -f "$STATE/netbox.env" ] || return 1
  NETBOX_ENV="$STATE/netbox.env" "$VENV/bin/python" -c "
import os, sys, urllib.request
env = dict(l.split('=', 1) for l in open(os.environ['NETBOX_ENV']).read().splitlines() if '=' in l and not l.startswith('#'))
req = urllib.request.Request(env['NETBOX_URL'] + '/api/status/', headers={'Authorization': 'Bearer ' + env['NETBOX_TOKEN']})
try:
    sys.exit(urllib.request.urlopen(req, timeout=10).status != 200)
except Exception:
    sys.exit(1)"
}

gunicorn_running() { [ -f "$STATE/gunicorn.pid" ] && kill -0 "$(cat "$STATE/gunicorn.pid")" 2>/dev/null; }

netbox_answers() {
  "$VENV/bin/python" -c "
import sys, urllib.request
try:
    sys.exit(urllib.request.urlopen('http://127.0.0.1:$NB_PORT/login/', timeout=2).status != 200)
except Exception:
    sys.exit(1)"
}

start_gunicorn() {
  gunicorn_running && return
  if netbox_answers; then die "port $NB_PORT already answers but not with this stack's gunicorn; set NB_PORT"; fi
  log "starting NetBox on http://127.0.0.1:$NB_PORT"
  # from the instance directory: our own package 'core' must not shadow NetBox's app of that name.
  # No keep-alive, as behind nginx's default proxying: a client's kept connections would all stay with
  # the worker that accepted them, one core of two, while each request goes to whichever worker is free.
  (cd "$STATE/netbox" && NETBOX_ROOT="$STATE/netbox" "$VENV/bin/gunicorn" netbox.wsgi --bind "127.0.0.1:$NB_PORT" \
    --workers "${NB_WORKERS:-2}" --threads 3 --keep-alive 0 --timeout 120 --no-control-socket --daemon \
    --pid "$STATE/gunicorn.pid" --error-logfile "$STATE/gunicorn.log" --capture-output)
  for _ in $(seq 120); do netbox_answers && return; sleep 0.25; done
  die "NetBox did not answer on port $NB_PORT within 30 s (see $STATE/gunicorn.log)"
}

stop_gunicorn() {
  if gunicorn_running; then
    local pid; pid=$(cat "$STATE/gunicorn.pid")
    log "stopping NetBox (gunicorn $pid)"
    # QUIT: quick shutdown. TERM would wait up to 30 s for idle keep-alive connections, and a restart
    # in the meantime finds the port still taken.
    kill -QUIT "$pid"
    for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && { log "gunicorn $pid did not stop; killing it"; kill -KILL "$pid"; sleep 0.5; }
  fi
  rm -f "$STATE/gunicorn.pid"
}

# ---------------------------------------------------------------- commands
cmd_up() {
  mkdir -p "$STATE"
  local t0=$SECONDS
  ensure_postgres
  ensure_redis
  ensure_netbox_venv
  write_config
  ensure_db_role
  db_exists || create_database
  grep -qsx "STACK_USERS=$USERS_VERSION" "$STATE/netbox.env" || bootstrap_users
  start_gunicorn
  # the database may have been reset by another checkout of this project (same database name)
  tokens_valid || { log "the saved tokens are not valid for this database"; bootstrap_users; }
  log "up in $((SECONDS - t0)) s; settings in .stack/$STACK/netbox.env"
}

cmd_down() {
  stop_gunicorn
  if [ -f "$STATE/started-redis" ] && [ -f "$STATE/redis.pid" ]; then
    log "stopping the Redis this script started"; kill "$(cat "$STATE/redis.pid")" 2>/dev/null || true
    rm -f "$STATE/started-redis"
  fi
  if [ -f "$STATE/started-postgres" ]; then
    log "stopping the PostgreSQL this script started"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main stop >&2 || true
    rm -f "$STATE/started-postgres"
  fi
}

cmd_reset() {
  mkdir -p "$STATE"
  stop_gunicorn
  if pg_up && db_exists; then
    log "dropping database $DB"
    psql_admin -c "DROP DATABASE $DB WITH (FORCE)"
  fi
  rm -f "$STATE/netbox.env"
  cmd_up
}

cmd_status() {
  pg_up && echo "postgresql: up" || echo "postgresql: down"
  redis_up && echo "redis: up" || echo "redis: down"
  gunicorn_running && echo "netbox ($STACK): up on http://127.0.0.1:$NB_PORT" || echo "netbox ($STACK): down"
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  reset) cmd_reset ;;
  status) cmd_status ;;
  env) cat "$STATE/netbox.env" ;;
  shell) shift; nb shell --no-imports "$@" ;;
  *) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
