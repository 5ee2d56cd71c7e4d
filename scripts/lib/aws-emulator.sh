# shellcheck shell=bash
# shellcheck source=scripts/lib/on-exit.sh
source "$(dirname "${BASH_SOURCE[0]}")/on-exit.sh"
# An AWS API emulator (moto's server, from PyPI) on loopback, for the tests that exercise AWS
# code paths: CloudWatch metrics, CloudFormation, ECR, ECS, ELBv2. Nothing here reaches AWS.
#
#   source scripts/lib/aws-emulator.sh; ensure_aws_emulator
#
# exports AWS_ENDPOINT_URL, dummy credentials and AWS_REGION, and stops the server on exit.
# moto lives in its own virtualenv (its pins clash with other Python tools).

AWS_EMULATOR_VENV=${AWS_EMULATOR_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/httpmon/moto-venv}
AWS_EMULATOR_VERSION=${AWS_EMULATOR_VERSION:-5.0.28}

ensure_aws_emulator() {
    if [ -n "${AWS_ENDPOINT_URL:-}" ]; then
        echo "aws-emulator: using AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL" >&2
        return
    fi
    if ! "$AWS_EMULATOR_VENV/bin/python" -c "import moto; assert moto.__version__ == '$AWS_EMULATOR_VERSION'" 2>/dev/null; then
        echo "aws-emulator: installing moto $AWS_EMULATOR_VERSION into $AWS_EMULATOR_VENV" >&2
        python3 -m venv "$AWS_EMULATOR_VENV"
        "$AWS_EMULATOR_VENV/bin/pip" install -q "moto[server,cloudformation,ecr,ecs,elbv2,cloudwatch,secretsmanager,logs,iam,ec2,rds]==$AWS_EMULATOR_VERSION"
    fi
    local port=${AWS_EMULATOR_PORT:-45660}
    "$AWS_EMULATOR_VENV/bin/moto_server" -H 127.0.0.1 -p "$port" \
        >"${TMPDIR:-/tmp}/httpmon-aws-emulator.log" 2>&1 &
    AWS_EMULATOR_PID=$!
    on_exit stop_aws_emulator
    local tries=0
    until curl -fsS "http://127.0.0.1:$port/moto-api/" >/dev/null 2>&1; do
        tries=$((tries + 1))
        if [ "$tries" -gt 150 ] || ! kill -0 "$AWS_EMULATOR_PID" 2>/dev/null; then
            echo "aws-emulator: moto did not start; see ${TMPDIR:-/tmp}/httpmon-aws-emulator.log" >&2
            return 1
        fi
        sleep 0.2
    done
    export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
    export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1
    export AWS_DEFAULT_REGION=us-east-1
    echo "aws-emulator: moto at $AWS_ENDPOINT_URL" >&2
}

stop_aws_emulator() {
    if [ -n "${AWS_EMULATOR_PID:-}" ]; then
        kill "$AWS_EMULATOR_PID" 2>/dev/null || true
    fi
}
