#!/usr/bin/env bash
# Run one unseen-conversation set against a system of its own: service 8011, Rasa 5015, actions
# 5065, a fresh SQLite under var/unseen/, day 2022-07-01. Leaves a running `make run` (8000) alone.
#
#   bench/unseen_stack.sh bench/unseen3 [run.py args…]      (after `make venv rasa-venv rasa-model`)
set -euo pipefail
cd "$(dirname "$0")/.."
set_dir=${1:?usage: bench/unseen_stack.sh bench/unseenN [args]}; shift
model=${HOTLINE_RASA_MODEL:-bot/models/$(python3 scripts/model_hash.py).tar.gz}
test -s "$model" || { echo "no model $model: run make rasa-model" >&2; exit 2; }
var=var/unseen; rm -rf "$var"; mkdir -p "$var"
printf 'action_endpoint:\n  url: "http://127.0.0.1:5065/webhook"\n' > "$var/endpoints.yml"
export HOTLINE_SERVICE_PORT=8011 HOTLINE_RASA_URL=http://127.0.0.1:5015 \
  HOTLINE_ACTION_SERVER_URL=http://127.0.0.1:5065 HOTLINE_AS_OF=${HOTLINE_AS_OF:-2022-07-01} \
  HOTLINE_DATABASE_URL="sqlite:///$PWD/$var/hotline.db" HOTLINE_ADMIN_PASSWORD=adminpw \
  HOTLINE_HELD_TICKETS_DIR="$PWD/$var/held" RASA_TELEMETRY_ENABLED=false
rasa=.venv-rasa/bin/rasa
.venv/bin/python -m service.supervisor \
  --child "actions=$rasa run actions -p 5065 --actions actions" \
  --child "rasa=$rasa run --enable-api -i 127.0.0.1 -p 5015 -m $model --endpoints $var/endpoints.yml" \
  --child "service=.venv/bin/python -m uvicorn service.main:create_app --factory --host 127.0.0.1 --port 8011 --no-access-log" \
  > "$var/stack.log" 2>&1 &
stack=$!
trap 'kill -INT $stack 2>/dev/null; wait $stack 2>/dev/null || true' EXIT
for _ in $(seq 1 240); do
  if curl -sf http://127.0.0.1:8011/healthz | grep -q '"status":"ok"'; then break; fi
  sleep 1
done
curl -sf http://127.0.0.1:8011/healthz | grep -q '"status":"ok"' || { echo "stack not healthy" >&2; tail -20 "$var/stack.log" >&2; exit 1; }
if [ -f "$set_dir/run.py" ]; then
  .venv/bin/python "$set_dir/run.py" --base http://127.0.0.1:8011 "$@"
else  # from unseen4 on, one shared runner
  .venv/bin/python bench/unseen_run.py "$set_dir" --base http://127.0.0.1:8011 "$@"
fi
