#!/usr/bin/env bash
# Entrypoint of the nginx stand-in. Like the official image's, before starting nginx it renders
# $NGINX_ENVSUBST_TEMPLATE_DIR/**/*$NGINX_ENVSUBST_TEMPLATE_SUFFIX (default
# /etc/nginx/templates/*.template) into $NGINX_ENVSUBST_OUTPUT_DIR (default /etc/nginx/conf.d),
# replacing only variables that are set in the environment, so nginx's own $variables stay.
# Then it runs the executable scripts in /docker-entrypoint.d/.
set -euo pipefail

if [ "${1:-}" = nginx ] || [ "${1:-}" = nginx-debug ]; then
    template_dir=${NGINX_ENVSUBST_TEMPLATE_DIR:-/etc/nginx/templates}
    suffix=${NGINX_ENVSUBST_TEMPLATE_SUFFIX:-.template}
    output_dir=${NGINX_ENVSUBST_OUTPUT_DIR:-/etc/nginx/conf.d}
    if [ -d "$template_dir" ]; then
        defined=$(env | cut -d= -f1 | grep -E '^[A-Za-z_][A-Za-z0-9_]*$' | sed 's/^/$/' | tr '\n' ' ')
        while IFS= read -r -d '' template; do
            relative=${template#"$template_dir"/}
            output=$output_dir/${relative%"$suffix"}
            mkdir -p "$(dirname "$output")"
            echo "$0: rendering $template to $output"
            envsubst "$defined" <"$template" >"$output"
        done < <(find "$template_dir" -follow -type f -name "*$suffix" -print0)
    fi
    for script in /docker-entrypoint.d/*.sh; do
        if [ -x "$script" ]; then echo "$0: running $script"; "$script"; fi
    done
fi
exec "$@"
