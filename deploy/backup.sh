#!/usr/bin/env bash
# A dump of the portal's database: pg_dump's custom format (compressed; pg_restore reads it, see
# docs/deployment.md), as BACKUP_DIR/lkabonent-<UTC time>.dump. Dumps older than
# BACKUP_KEEP_DAYS days are deleted afterwards, never before a new one is written whole. The
# database is the portal's own LKABONENT_DATABASE_URL, which lkabonent-backup.service reads from
# /etc/lkabonent/lkabonent.env.
set -euo pipefail

directory="${BACKUP_DIR:-/var/backups/lkabonent}"
keep_days="${BACKUP_KEEP_DAYS:-14}"
url="${LKABONENT_DATABASE_URL:?не задан LKABONENT_DATABASE_URL}"
# SQLAlchemy's URL names its driver (postgresql+psycopg://…), libpq's does not.
url="${url/+psycopg:/:}"

dump="$directory/lkabonent-$(date -u +%Y-%m-%dT%H%M%SZ).dump"
trap 'rm -f "$dump.partial"' EXIT
pg_dump --format=custom --file="$dump.partial" "$url"
mv "$dump.partial" "$dump"
echo "Резервная копия записана: $dump ($(du -h "$dump" | cut -f1))."
find "$directory" -maxdepth 1 -name 'lkabonent-*.dump' -mtime +"$keep_days" -print -delete \
  | sed 's/^/Удалена старая копия: /'
