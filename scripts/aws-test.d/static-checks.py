#!/usr/bin/env python3
"""Checks of infrastructure/ecs.yml that neither the linters nor the emulator make: the wiring
of secrets, roles and alarms, which moto's CloudFormation skips or ignores.

Usage: static-checks.py ecs.yml     (runs in the lint virtualenv; prints ok/FAIL per check)
"""

import json
import sys

import cfnlint.decode

SERVICES = {"monolith": "Monolith", "ingest": "Ingest", "stats": "Stats", "alerts": "Alerts"}
failures = 0


def check(description, condition):
    global failures
    print(f"{'ok  ' if condition else 'FAIL'} {description}")
    failures += 0 if condition else 1


def main():
    template, matches = cfnlint.decode.decode(sys.argv[1])
    if matches:
        sys.exit(f"static-checks: cannot parse {sys.argv[1]}: {matches}")
    template = json.loads(json.dumps(template, default=str))
    resources = template["Resources"]

    for service, prefix in SERVICES.items():
        container = resources[f"{prefix}TaskDefinition"]["Properties"]["ContainerDefinitions"][0]
        secrets = {s["Name"]: json.dumps(s["ValueFrom"]) for s in container.get("Secrets", [])}
        environment = {e["Name"]: json.dumps(e["Value"]) for e in container.get("Environment", [])}
        check(f"{service}: its password comes from its own secret ({prefix}DatabaseSecret)",
              f"{prefix}DatabaseSecret" in secrets.pop("PGPASSWORD", ""))
        takes_writes = service != "stats"
        check(f"{service}: API keys from ApiKeysSecret {'and nothing else' if takes_writes else 'are not needed'}",
              secrets == ({"HTTPMON_API_KEYS": json.dumps({"Ref": "ApiKeysSecret"})} if takes_writes else {}))
        check(f"{service}: DATABASE_URL names role {service} and holds no password",
              f"postgres://{service}@" in environment.get("DATABASE_URL", ""))
        check(f"{service}: reads the feed from INGEST_URL",
              service == "ingest" or "INGEST_URL" in environment)
        check(f"{service}: health check on /health/ready",
              resources[f"{prefix}TargetGroup"]["Properties"]["HealthCheckPath"] == "/health/ready")
        deployment = resources[f"{prefix}Service"]["Properties"]["DeploymentConfiguration"]
        check(f"{service}: circuit breaker with rollback",
              deployment["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True})
        network = resources[f"{prefix}Service"]["Properties"]["NetworkConfiguration"]["AwsvpcConfiguration"]
        check(f"{service}: private subnets, no public IP",
              network["AssignPublicIp"] == "DISABLED" and all("Private" in json.dumps(s) for s in network["Subnets"]))

    roles = {name: r for name, r in resources.items() if r["Type"] == "AWS::IAM::Role"}
    with_policies = sorted(name for name, r in roles.items() if r["Properties"].get("Policies"))
    check("only the execution role and alerts' task role carry permissions",
          with_policies == ["AlertsTaskRole", "TaskExecutionRole"])
    alerts_statements = roles["AlertsTaskRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    check("alerts may only put metrics, in its own namespace",
          len(alerts_statements) == 1 and alerts_statements[0]["Action"] == "cloudwatch:PutMetricData"
          and "AlertsMetricNamespace" in json.dumps(alerts_statements[0]["Condition"]))
    execution = json.dumps(roles["TaskExecutionRole"]["Properties"]["Policies"])
    secrets = [n for n, r in resources.items() if r["Type"] == "AWS::SecretsManager::Secret"]
    check("the execution role reads exactly the stack's secrets",
          all(n in execution for n in secrets) and execution.count("secretsmanager:") == 1)

    bootstrap = resources["BootstrapTaskDefinition"]["Properties"]["ContainerDefinitions"][0]
    injected = {s["Name"] for s in bootstrap["Secrets"]}
    check("the bootstrap task gets the master login and every service password",
          injected == {"PGUSER", "PGPASSWORD", "INGEST_DB_PASSWORD", "STATS_DB_PASSWORD",
                       "ALERTS_DB_PASSWORD", "MONOLITH_DB_PASSWORD"})

    alarms = {r["Properties"]["AlarmName"]["Fn::Sub"].replace("${AWS::StackName}-", ""): r["Properties"]
              for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"}
    watched = [item["Fn::Sub"].replace("${AWS::StackName}-", "")
               for item in template["Outputs"]["DeploymentAlarmNames"]["Value"]["Fn::Join"][1]]
    check("DeploymentAlarmNames lists every alarm but the traffic one",
          sorted(watched) == sorted(set(alarms) - {"traffic"}))
    traffic = alarms.get("traffic", {})
    alerts_env = json.dumps(resources["AlertsTaskDefinition"]["Properties"]["ContainerDefinitions"][0]["Environment"])
    check("the traffic alarm follows AlertActive in the namespace alerts publishes to",
          traffic.get("MetricName") == "AlertActive" and traffic.get("Namespace") == {"Ref": "AlertsMetricNamespace"}
          and '"ALERTS_CLOUDWATCH_NAMESPACE", "Value": {"Ref": "AlertsMetricNamespace"}' in alerts_env
          and [d["Name"] for d in traffic.get("Dimensions", [])] == ["Rule"])
    check("5xx alarms on the load balancer and on every target group",
          {"alb-5xx"} | {f"{s}-5xx" for s in SERVICES} <= set(alarms))
    check("unhealthy-host alarms on every target group", {f"{s}-unhealthy" for s in SERVICES} <= set(alarms))
    repositories = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::ECR::Repository"]
    check("four ECR repositories, scan on push, a lifecycle policy, immutable tags",
          len(repositories) == 4 and all(r["ImageScanningConfiguration"] == {"ScanOnPush": True}
                                         and "LifecyclePolicy" in r and r["ImageTagMutability"] == "IMMUTABLE"
                                         for r in repositories))
    logs = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Logs::LogGroup"]
    check("a log group per service (and the bootstrap), with retention",
          len(logs) == 5 and all("RetentionInDays" in g for g in logs))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
