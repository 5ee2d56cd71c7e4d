#!/usr/bin/env bash
# Deploys httpmon to the ECS stack made from infrastructure/ecs.yml (docs/aws.md walks through it).
#
#   ./deploy.sh <region> <stack> [--only SERVICE]... [--soak SECONDS] [--bootstrap]
#       build each image with the Dockerfile, tag it with the git revision, push it to its ECR
#       repository, register a task definition pinned to the image digest, update the service
#       and wait until it is stable. The first time (and whenever the bootstrap task definition
#       changes) it first runs the database bootstrap task, which creates the service roles.
#       With --soak it then watches the alarms and rolls the services back if one fires.
#   ./deploy.sh <region> <stack> --shift SERVICE=PERCENT... [--soak SECONDS]
#       send PERCENT of the service's path (ingest: /api/logs*, stats: /api/stats*, alerts:
#       /api/alerts*) to the service and the rest to the monolith, watch the alarms for the soak
#       period (default 300 s), and put the weights back if one fires.
#   ./deploy.sh <region> <stack> --rollback [--only SERVICE]...
#       put back the task definitions the last deploy replaced.
#
# SERVICE is monolith, ingest, stats or alerts (--only defaults to all four). Needs the AWS CLI;
# deploys also need docker, git and cargo (or HTTPMON_DEPLOY_BIN, a built httpmon-deploy).
# Environment: HTTPMON_REGISTRY=host:port pushes images to that registry instead of ECR's (tests,
# with an emulator); HTTPMON_IMAGE_TAG overrides the git-revision tag.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/lib/on-exit.sh
source "$root/scripts/lib/on-exit.sh"
services_all=(monolith ingest stats alerts)
# The stack's output names: Ingest..., and the path each service's rule matches.
declare -A prefix=([monolith]=Monolith [ingest]=Ingest [stats]=Stats [alerts]=Alerts)
declare -A path_of=([ingest]=/api/logs* [stats]=/api/stats* [alerts]=/api/alerts*)

say() { printf 'deploy: %s\n' "$*" >&2; }
die() { printf 'deploy: error: %s\n' "$*" >&2; exit 1; }
usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
    exit "${1:-64}"
}

# ---- arguments ---------------------------------------------------------------------------------
if [ $# -ge 1 ] && { [ "$1" = -h ] || [ "$1" = --help ]; }; then usage 0; fi
[ $# -ge 2 ] || usage
region=$1 stack=$2
shift 2
only=() shifts=() rollback=0 soak="" bootstrap=0
while [ $# -gt 0 ]; do
    case $1 in
        --only) [ $# -ge 2 ] || die "--only needs a service"; only+=("$2"); shift 2 ;;
        --only=*) only+=("${1#*=}"); shift ;;
        --shift) [ $# -ge 2 ] || die "--shift needs SERVICE=PERCENT"; shifts+=("$2"); shift 2 ;;
        --shift=*) shifts+=("${1#*=}"); shift ;;
        --soak) [ $# -ge 2 ] || die "--soak needs seconds"; soak=$2; shift 2 ;;
        --soak=*) soak=${1#*=}; shift ;;
        --rollback) rollback=1; shift ;;
        --bootstrap) bootstrap=1; shift ;;
        -h|--help) usage 0 ;;
        *) die "unknown argument: $1 (see --help)" ;;
    esac
done
[[ $region =~ ^[a-z]{2}(-[a-z]+)+-[0-9]+$ ]] || die "'$region' is not an AWS region (e.g. eu-west-1)"
[[ $stack =~ ^[a-z][a-z0-9-]{0,100}$ ]] \
    || die "'$stack' is not a stack name this template accepts (lowercase letters, digits, dashes: ECR repositories are named after it)"
[ -z "$soak" ] || [[ $soak =~ ^[0-9]+$ ]] || die "--soak takes a whole number of seconds, not '$soak'"
[ ${#shifts[@]} -eq 0 ] || [ "$rollback" = 0 ] || die "--shift and --rollback are separate runs"
for svc in "${only[@]}"; do
    [ -n "${prefix[$svc]:-}" ] || die "--only $svc: not one of ${services_all[*]}"
done
[ ${#only[@]} -gt 0 ] || only=("${services_all[@]}")

mode=deploy
if [ "$rollback" = 1 ]; then mode="rollback"; fi
if [ ${#shifts[@]} -gt 0 ]; then mode="shift"; fi

# ---- tools, credentials, stack -----------------------------------------------------------------
need() { command -v "$1" >/dev/null 2>&1 || die "$1 is not installed ($2)"; }
need aws "the AWS CLI: https://docs.aws.amazon.com/cli/ or pip install awscli"
if [ "$mode" = deploy ]; then
    need docker "images are built with the Dockerfile"
    need git "images are tagged with the git revision"
    docker info >/dev/null 2>&1 || die "docker is installed but no Docker engine answers (docker info)"
fi
export AWS_REGION=$region AWS_DEFAULT_REGION=$region

tool=${HTTPMON_DEPLOY_BIN:-}
if [ -z "$tool" ] && [ "$mode" != rollback ]; then
    need cargo "httpmon-deploy is built from services/deploy (or set HTTPMON_DEPLOY_BIN)"
    say "building httpmon-deploy"
    cargo build --quiet --locked --manifest-path "$root/Cargo.toml" -p deploy --bin httpmon-deploy \
        || die "building httpmon-deploy failed"
    tool=$root/target/debug/httpmon-deploy
fi

identity=$(aws sts get-caller-identity --query Arn --output text 2>&1) \
    || die "no usable AWS credentials for $region (aws sts get-caller-identity: ${identity//$'\n'/ })"
say "acting as $identity in $region"

declare -A out=()
outputs=$(aws cloudformation describe-stacks --stack-name "$stack" \
    --query 'Stacks[0].Outputs[].[OutputKey,OutputValue]' --output text 2>&1) \
    || die "stack $stack not found in $region (${outputs//$'\n'/ }); create it with: aws cloudformation deploy --template-file infrastructure/ecs.yml --stack-name $stack --capabilities CAPABILITY_NAMED_IAM --region $region"
while IFS=$'\t' read -r key value; do
    [ -n "$key" ] && out[$key]=$value
done <<<"$outputs"
output() { # name -> the stack output, or a clear error when the stack predates it
    [ -n "${out[$1]:-}" ] || die "stack $stack has no output $1; update it from infrastructure/ecs.yml"
    printf '%s\n' "${out[$1]}"
}
cluster=$(output ClusterName)
work=$(mktemp -d)
# shellcheck disable=SC2016 # expanded when the cleanup runs
on_exit 'rm -rf "$work"'

# ---- services ----------------------------------------------------------------------------------
service_field() { # service, JMESPath on the service
    aws ecs describe-services --cluster "$cluster" --services "$(output "${prefix[$1]}Service")" \
        --query "services[0].$2" --output text
}

update_service() { # service, task definition ARN
    local name desired
    name=$(output "${prefix[$1]}Service")
    desired=$(service_field "$1" desiredCount)
    # A service the stack created before any image existed runs no task: start it now.
    [ "$desired" != 0 ] || desired=$(output ServiceDesiredCount)
    aws ecs update-service --cluster "$cluster" --service "$name" --task-definition "$2" \
        --desired-count "$desired" --query 'service.serviceName' --output text >/dev/null
    say "$1: service now runs ${2##*/} ($desired task(s))"
}

wait_stable() { # services...
    local names=() svc
    for svc in "$@"; do names+=("$(output "${prefix[$svc]}Service")"); done
    say "waiting for ${names[*]} to be stable (the circuit breaker rolls back a failing deploy)"
    if ! aws ecs wait services-stable --cluster "$cluster" --services "${names[@]}"; then
        for svc in "${names[@]}"; do
            aws ecs describe-services --cluster "$cluster" --services "$svc" \
                --query 'services[0].events[:5].[createdAt,message]' --output text >&2 || true
        done
        die "${names[*]} did not become stable"
    fi
}

previous_task_definition() { # service -> the revision its current one replaced
    local current previous family revision
    current=$(service_field "$1" taskDefinition)
    previous=$(aws ecs list-tags-for-resource --resource-arn "$current" \
        --query "tags[?key=='httpmon:previous'].value | [0]" --output text)
    if [ -z "$previous" ] || [ "$previous" = None ]; then
        # Not made by deploy.sh (the stack registered it): the revision before it, if any.
        family=${current##*/} revision=${family##*:} family=${family%:*}
        previous=$(aws ecs list-task-definitions --family-prefix "$family" --sort DESC \
            --query "taskDefinitionArns[?ends_with(@, ':$((revision - 1))')] | [0]" --output text)
    fi
    if [ -z "$previous" ] || [ "$previous" = None ]; then
        die "$1: no task definition before ${current##*/} to roll back to"
    fi
    printf '%s\n' "$previous"
}

rollback_services() { # services...
    local svc previous
    for svc in "$@"; do
        previous=$(previous_task_definition "$svc")
        say "$svc: rolling back to ${previous##*/}"
        update_service "$svc" "$previous"
    done
    wait_stable "$@"
}

# ---- the database bootstrap --------------------------------------------------------------------
# Runs once per bootstrap task definition: the cluster's httpmon:bootstrapped tag remembers the
# one that last exited 0 (the SQL is idempotent, so --bootstrap can always run it again).
ensure_bootstrap() {
    local definition cluster_arn done_with task code reason
    definition=$(output BootstrapTaskDefinitionArn)
    cluster_arn=$(aws ecs describe-clusters --clusters "$cluster" --query 'clusters[0].clusterArn' --output text)
    done_with=$(aws ecs list-tags-for-resource --resource-arn "$cluster_arn" \
        --query "tags[?key=='httpmon:bootstrapped'].value | [0]" --output text)
    if [ "$bootstrap" = 0 ] && [ "$done_with" = "$definition" ]; then
        return
    fi
    say "running the database bootstrap (${definition##*/}): service roles and schemas"
    task=$(aws ecs run-task --cluster "$cluster" --launch-type FARGATE --task-definition "$definition" \
        --started-by httpmon-deploy \
        --network-configuration "awsvpcConfiguration={subnets=[$(output PrivateSubnetIds)],securityGroups=[$(output BootstrapSecurityGroupId)],assignPublicIp=DISABLED}" \
        --query 'tasks[0].taskArn' --output text)
    if [ -z "$task" ] || [ "$task" = None ]; then die "the bootstrap task did not start"; fi
    aws ecs wait tasks-stopped --cluster "$cluster" --tasks "$task" \
        || die "the bootstrap task ${task##*/} did not stop in 10 minutes"
    code=$(aws ecs describe-tasks --cluster "$cluster" --tasks "$task" \
        --query "tasks[0].containers[?name=='bootstrap'].exitCode | [0]" --output text)
    reason=$(aws ecs describe-tasks --cluster "$cluster" --tasks "$task" \
        --query 'tasks[0].stoppedReason' --output text)
    [ "$code" = 0 ] \
        || die "the bootstrap task ${task##*/} stopped with exit code $code ($reason); its log is in /httpmon/$stack/bootstrap"
    aws ecs tag-resource --resource-arn "$cluster_arn" --tags "key=httpmon:bootstrapped,value=$definition"
    say "database bootstrap done"
}

# ---- images ------------------------------------------------------------------------------------
image_tag() {
    if [ -n "${HTTPMON_IMAGE_TAG:-}" ]; then
        printf '%s\n' "$HTTPMON_IMAGE_TAG"
        return
    fi
    local revision changes
    revision=$(git -C "$root" rev-parse --short=12 HEAD 2>/dev/null) \
        || die "$root is not a git checkout; set HTTPMON_IMAGE_TAG"
    # Uncommitted changes get their own tag (tags are immutable): the revision plus a hash of
    # the changes, so the same changes give the same tag and nothing else does.
    changes=$(cd "$root" && {
        git diff HEAD
        git ls-files -z --others --exclude-standard | xargs -0 -r sha256sum
    } | sha256sum | cut -c1-8)
    if [ -z "$(git -C "$root" status --porcelain)" ]; then
        printf '%s\n' "$revision"
    else
        printf '%s-dirty-%s\n' "$revision" "$changes"
    fi
}

digest_of() { # repository name, tag -> digest, or nothing when ECR has no such tag
    local digest status=0
    digest=$("$tool" image-digest "$1" "$2" 2>/dev/null) || status=$?
    case $status in
        0) printf '%s\n' "$digest" ;;
        2) ;;
        *) "$tool" image-digest "$1" "$2" >/dev/null || die "looking up $1:$2 in ECR failed" ;;
    esac
}

deploy_image() { # service, tag
    local svc=$1 tag=$2 uri name push digest current registered
    uri=$(output "${prefix[$svc]}RepositoryUri")
    name=${uri#*/}
    push=$("$tool" ecr-login "$name") || die "$svc: ECR login failed"
    digest=$(digest_of "$name" "$tag")
    if [ -n "$digest" ]; then
        say "$svc: $name:$tag is already in ECR, not rebuilding"
    else
        say "$svc: building $push:$tag"
        docker build --build-arg "BIN=$svc" --tag "$push:$tag" "$root" >"$work/build-$svc.log" 2>&1 \
            || { tail -n 40 "$work/build-$svc.log" >&2; die "$svc: docker build failed"; }
        say "$svc: pushing $push:$tag"
        docker push --quiet "$push:$tag" >/dev/null || die "$svc: docker push to $push failed"
        if [ -n "${HTTPMON_REGISTRY:-}" ]; then
            "$tool" mirror-image "$name" "$tag" >/dev/null || die "$svc: recording the image in ECR failed"
        fi
        digest=$(digest_of "$name" "$tag")
        [ -n "$digest" ] || die "$svc: pushed $name:$tag but ECR does not list it"
    fi
    current=$(service_field "$svc" taskDefinition)
    aws ecs describe-task-definition --task-definition "$current" --query taskDefinition \
        >"$work/$svc-described.json"
    "$tool" pin-image "$svc" "$uri@$digest" <"$work/$svc-described.json" >"$work/$svc-register.json"
    registered=$(aws ecs register-task-definition --cli-input-json "file://$work/$svc-register.json" \
        --query taskDefinition.taskDefinitionArn --output text)
    say "$svc: registered ${registered##*/} with $uri@$digest"
    update_service "$svc" "$registered"
}

# ---- alarms ------------------------------------------------------------------------------------
soak_interval() { # seconds -> how often to poll: every 15 s, more often in a short soak
    local seconds=$1
    if [ "$seconds" -ge 60 ]; then echo 15; elif [ "$seconds" -ge 5 ]; then echo $((seconds / 5)); else echo 1; fi
}

watch_alarms() { # seconds; 0 quiet, 3 an alarm fired, anything else: could not watch
    local status=0
    "$tool" watch-alarms --seconds "$1" --interval "$(soak_interval "$1")" \
        "$(output DeploymentAlarmNames)" || status=$?
    return "$status"
}

# ---- shifting a path between the monolith and its service ---------------------------------------
weight_of() { # service -> its current share of its path
    aws elbv2 describe-rules --rule-arns "$(output "${prefix[$1]}RuleArn")" \
        --query "Rules[0].Actions[0].ForwardConfig.TargetGroups[?TargetGroupArn=='$(output "${prefix[$1]}TargetGroupArn")'].Weight | [0]" \
        --output text
}

set_weight() { # service, percent
    local actions
    printf -v actions '[{"Type":"forward","ForwardConfig":{"TargetGroups":[{"TargetGroupArn":"%s","Weight":%d},{"TargetGroupArn":"%s","Weight":%d}]}}]' \
        "$(output "${prefix[$1]}TargetGroupArn")" "$2" "$(output MonolithTargetGroupArn)" "$((100 - $2))"
    aws elbv2 modify-rule --rule-arn "$(output "${prefix[$1]}RuleArn")" --actions "$actions" >/dev/null
    say "${path_of[$1]}: $2% $1, $((100 - $2))% monolith"
}

run_shift() {
    local spec svc percent status=0
    declare -A before=()
    local order=()
    for spec in "${shifts[@]}"; do
        svc=${spec%%=*} percent=${spec#*=}
        [ "$svc" = logs ] && svc=ingest
        [ -n "${path_of[$svc]:-}" ] || die "--shift $spec: the service is ingest, stats or alerts"
        [[ $percent =~ ^([0-9]|[1-9][0-9]|100)$ ]] || die "--shift $spec: the share is a whole percent, 0-100"
        if [ "$percent" -gt 0 ] && [ "$(service_field "$svc" desiredCount)" = 0 ]; then
            die "--shift $spec: $svc runs no task yet; deploy it first (./deploy.sh $region $stack --only $svc)"
        fi
        before[$svc]=$(weight_of "$svc")
        order+=("$svc=$percent")
    done
    for spec in "${order[@]}"; do set_weight "${spec%%=*}" "${spec#*=}"; done
    watch_alarms "${soak:-300}" || status=$?
    if [ "$status" != 0 ]; then
        say "rolling the weights back"
        for spec in "${order[@]}"; do
            svc=${spec%%=*}
            set_weight "$svc" "${before[$svc]}"
        done
        [ "$status" = 3 ] && die "an alarm fired during the soak; the weights are back where they were"
        die "could not watch the alarms; the weights are back where they were"
    fi
    say "shift held for ${soak:-300} s. Record it in the stack on its next update: --parameter-overrides" \
        "$(for spec in "${order[@]}"; do
            case ${spec%%=*} in ingest) printf 'LogsServiceWeight=%s ' "${spec#*=}" ;;
                stats) printf 'StatsServiceWeight=%s ' "${spec#*=}" ;;
                alerts) printf 'AlertsServiceWeight=%s ' "${spec#*=}" ;; esac
        done)"
}

# ---- main --------------------------------------------------------------------------------------
case $mode in
    rollback)
        rollback_services "${only[@]}"
        ;;
    shift)
        run_shift
        ;;
    deploy)
        tag=$(image_tag)
        say "deploying ${only[*]} as $tag"
        ensure_bootstrap
        for svc in "${only[@]}"; do deploy_image "$svc" "$tag"; done
        wait_stable "${only[@]}"
        if [ -n "$soak" ]; then
            status=0
            watch_alarms "$soak" || status=$?
            if [ "$status" != 0 ]; then
                say "rolling ${only[*]} back"
                rollback_services "${only[@]}"
                die "the deploy did not hold through the soak; the previous task definitions run again"
            fi
        fi
        say "deployed ${only[*]} as $tag"
        if [ ${#only[@]} -eq ${#services_all[@]} ]; then
            say "to make the stack start from this version (and turn autoscaling on): aws cloudformation deploy --template-file infrastructure/ecs.yml --stack-name $stack --capabilities CAPABILITY_NAMED_IAM --region $region --parameter-overrides ImageTag=$tag"
        fi
        ;;
esac
