//! `template.yaml` deploys every tool of the registry: a function that
//! serves it (`GS_TOOL`), the gateway's right to invoke that function, and a
//! role that traces to X-Ray. (cfn-lint and `sam validate` check the rest.)

use std::path::PathBuf;

fn template() -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    std::fs::read_to_string(root.join("template.yaml")).unwrap()
}

fn camel(name: &str) -> String {
    name.split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

#[test]
fn every_tool_has_a_function_the_gateway_may_invoke() {
    let text = template();
    let invoke_list = text
        .split("Sid: InvokeTools")
        .nth(1)
        .and_then(|rest| rest.split("- Sid:").next())
        .expect("the gateway's InvokeTools statement");
    for spec in gs_tools::registry() {
        let name = spec.name;
        assert!(
            text.contains(&format!("GS_TOOL: {name}\n")),
            "no function serves {name} (GS_TOOL: {name})"
        );
        let function = format!("!GetAtt {}Function.Arn", camel(name));
        assert!(
            invoke_list.contains(&function),
            "the gateway may not invoke {name}'s function ({function})"
        );
        let role = format!("Role: !GetAtt {}Role.Arn", camel(name));
        assert!(
            text.contains(&role),
            "{name}'s function has its own role ({role})"
        );
    }
    assert!(text.contains("Tracing: Active"), "X-Ray active tracing");
    let roles = text.matches("    Type: AWS::IAM::Role\n").count();
    let traced = text.matches("        - !Ref XRayWritePolicy\n").count();
    assert_eq!(
        roles, traced,
        "every explicit role may write trace segments"
    );
}

/// Live trading is a deployment choice that defaults to off, and only the
/// two order tools get it (with the field key to open the users' broker
/// keys, and no other field's data keys).
#[test]
fn live_trading_is_off_unless_deployed_on_and_only_for_orders() {
    let text = template();
    let parameter = text
        .split("\n  LiveBroker:\n")
        .nth(1)
        .and_then(|rest| rest.split("\n\n").next())
        .expect("a LiveBroker parameter");
    assert!(parameter.contains("Default: \"off\""), "{parameter}");
    let served: Vec<&str> = text
        .split("GS_TOOL: ")
        .skip(1)
        .filter(|rest| {
            rest.split("\n\n")
                .next()
                .is_some_and(|block| block.contains("GS_LIVE_BROKER: !Ref LiveBroker"))
        })
        .filter_map(|rest| rest.lines().next())
        .collect();
    assert_eq!(served, ["place_order", "cancel_order"]);
    assert_eq!(text.matches("- Sid: OpenBrokerCredentials").count(), 2);
    assert_eq!(
        text.matches("kms:EncryptionContext:field: credentials")
            .count(),
        2
    );
}

/// The data bus of the template is the one `gs_tools::bus::routes()`
/// describes: per consumer a rule matching exactly its event types, a queue
/// with a dead-letter queue after 5 receives, an alarm on the DLQ, and a
/// consumer function fed by the queue with partial-batch responses; and the
/// scheduler runs each minute.
#[test]
fn the_bus_has_a_rule_queue_dlq_alarm_and_consumer_per_route() {
    let text = template();
    // A resource's lines: from `  Name:` to the next line indented by
    // exactly two spaces.
    let section = |name: &str| -> String {
        let mut lines = text.lines().skip_while(|l| *l != format!("  {name}:"));
        let head = lines.next().unwrap_or_else(|| panic!("no resource {name}"));
        let body: Vec<&str> = lines
            .take_while(|l| l.is_empty() || l.starts_with("   "))
            .collect();
        format!("{head}\n{}", body.join("\n"))
    };
    for route in gs_tools::bus::routes() {
        let prefix = camel(&route.consumer.replace('-', "_"));
        let rule = section(&format!("{prefix}Rule"));
        let listed: Vec<&str> = rule
            .split("detail-type:")
            .nth(1)
            .unwrap()
            .lines()
            .skip(1)
            .map_while(|l| l.trim().strip_prefix("- "))
            .collect();
        let wanted: Vec<&str> = route.types.iter().map(|t| t.as_str()).collect();
        assert_eq!(listed, wanted, "{}: the rule's event types", route.consumer);
        assert!(
            rule.contains(gs_aws_bus::EVENT_SOURCE),
            "{}: source",
            route.consumer
        );
        let queue = section(&format!("{prefix}Queue"));
        assert!(
            queue.contains(&format!(
                "deadLetterTargetArn: !GetAtt {prefix}DeadLetterQueue.Arn"
            )) && queue.contains("maxReceiveCount: 5"),
            "{}: redrive to the DLQ after 5 receives:\n{queue}",
            route.consumer
        );
        let alarm = section(&format!("{prefix}DeadLetterAlarm"));
        assert!(
            alarm.contains(&format!("!GetAtt {prefix}DeadLetterQueue.QueueName")),
            "{alarm}"
        );
        let function = section(&format!("{prefix}ConsumerFunction"));
        for needle in [
            "GS_ROLE: consumer".to_string(),
            format!("GS_CONSUMER: {}", route.consumer),
            format!("!GetAtt {prefix}Queue.Arn"),
            "ReportBatchItemFailures".to_string(),
            "BUS_MAX_RECEIVES: \"5\"".to_string(),
        ] {
            assert!(
                function.contains(&needle),
                "{}: {needle}\n{function}",
                route.consumer
            );
        }
    }
    let scheduler = section("SchedulerFunction");
    assert!(
        scheduler.contains("GS_ROLE: scheduler") && scheduler.contains("rate(1 minute)"),
        "{scheduler}"
    );
}
