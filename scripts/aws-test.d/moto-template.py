#!/usr/bin/env python3
"""What the AWS emulator (moto 5.0.28) is given in place of infrastructure/ecs.yml.

Usage: moto-template.py ecs.yml template.json alarms.json

Reads the real template (cfn-lint's parser, so the short-form tags are understood) and writes:
  template.json  the same template with the few changes moto needs, each explained below;
  alarms.json    the template's AWS::CloudWatch::Alarm resources as PutMetricAlarm requests,
                 for the test to create through the API (moto's CloudFormation skips that type).
It also prints, for the log, the resource types moto's CloudFormation does not create; the
test checks those statically (cfn-lint, checkov) and says so.

Runs in the lint virtualenv (cfn-lint), never in moto's.
"""

import json
import sys

import cfnlint.decode

# Resource types moto 5.0.28's CloudFormation skips with a warning (see its parsing.py). Their
# Refs resolve to nothing there; nothing deploy.sh reads depends on them except the alarms.
UNSUPPORTED = {
    "AWS::SecretsManager::Secret",
    "AWS::CloudWatch::Alarm",
    "AWS::ApplicationAutoScaling::ScalableTarget",
    "AWS::ApplicationAutoScaling::ScalingPolicy",
    "AWS::ServiceDiscovery::PrivateDnsNamespace",
    "AWS::ServiceDiscovery::Service",
    "AWS::EC2::SecurityGroupEgress",
}


def plain(node):
    """cfn-lint's node classes -> plain dicts, lists and strings."""
    return json.loads(json.dumps(node, default=str))


def for_moto(template):
    resources = template["Resources"]
    # moto's RDS DBParameterGroup has no physical id, so `Ref` to it yields the model object
    # and DBInstance creation fails (AttributeError). The instance keeps the default group there.
    resources["Database"]["Properties"].pop("DBParameterGroupName", None)
    # A GetAtt on a resource moto skipped is an error there ("references undefined resource"):
    # the service registry of ingest points at the skipped Cloud Map service.
    resources["IngestService"]["Properties"].pop("ServiceRegistries", None)
    # moto's RunTask adds up container-level memory, which Fargate does not need (the task has
    # its Memory); without it moto fails with a TypeError. Give each container the task's.
    for resource in resources.values():
        if resource["Type"] == "AWS::ECS::TaskDefinition":
            for container in resource["Properties"]["ContainerDefinitions"]:
                container.setdefault("Memory", int(resource_memory(resource, template)))
    # A container secret given as a `Ref` to a resource moto skipped (the API keys) resolves
    # to nothing there, and ECS then refuses the task definition; moto gets a stand-in ARN.
    for resource in resources.values():
        if resource["Type"] == "AWS::ECS::TaskDefinition":
            for container in resource["Properties"]["ContainerDefinitions"]:
                for secret in container.get("Secrets", []):
                    ref = secret["ValueFrom"].get("Ref") if isinstance(secret["ValueFrom"], dict) else None
                    if ref and resources.get(ref, {}).get("Type") in UNSUPPORTED:
                        secret["ValueFrom"] = f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{ref}"
    # The alarms are created through the API instead (alarms.json), with the same names.
    for name in [n for n, r in resources.items() if r["Type"] == "AWS::CloudWatch::Alarm"]:
        del resources[name]
    return template


def resource_memory(resource, template):
    memory = resource["Properties"]["Memory"]
    if isinstance(memory, dict):  # !Ref TaskMemory
        memory = template["Parameters"][memory["Ref"]]["Default"]
    return memory


def resolve(value, stack):
    """The few intrinsic functions alarm properties use, as far as a static reading can go."""
    if isinstance(value, dict):
        if "Fn::Sub" in value and isinstance(value["Fn::Sub"], str):
            text = value["Fn::Sub"].replace("${AWS::StackName}", stack)
            return text
        if "Ref" in value:
            parameter = stack_parameters.get(value["Ref"])
            return parameter if parameter is not None else f"<{value['Ref']}>"
        if "Fn::GetAtt" in value:
            return "<" + ".".join(value["Fn::GetAtt"]) + ">"
        if "Fn::If" in value:
            return None  # optional alarm actions: none in the test
        return {k: resolve(v, stack) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, stack) for v in value]
    return value


stack_parameters = {}


def alarm_requests(template, stack):
    for name, parameter in template.get("Parameters", {}).items():
        if "Default" in parameter:
            stack_parameters[name] = str(parameter["Default"])
    requests = []
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::CloudWatch::Alarm":
            continue
        properties = resolve(resource["Properties"], stack)
        request = {k: v for k, v in properties.items() if v is not None and k != "AlarmActions"}
        for key in ("Threshold", "Period", "EvaluationPeriods"):
            request[key] = float(request[key]) if key == "Threshold" else int(request[key])
        requests.append(request)
    return requests


def main():
    source, template_out, alarms_out, stack = sys.argv[1:5]
    template, matches = cfnlint.decode.decode(source)
    if matches:
        sys.exit(f"moto-template: cannot parse {source}: {matches}")
    template = plain(template)
    skipped = sorted({r["Type"] for r in template["Resources"].values()} & UNSUPPORTED)
    print("moto-template: not created by moto's CloudFormation: " + ", ".join(skipped))
    alarms = alarm_requests(template, stack)
    with open(alarms_out, "w") as out:
        json.dump(alarms, out)
    with open(template_out, "w") as out:
        json.dump(for_moto(template), out)


if __name__ == "__main__":
    main()
